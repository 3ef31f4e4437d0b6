"""PyTorch peer of recprune's DeepFM benchmark step, with the same shape and data scheme.

Run with Debian's interpreter (/usr/bin/python3) and the python3-torch package:
    /usr/bin/python3 deepfm_peer.py --threads 1 --precision f32
Prints one JSON line: {"mode": "pytorch", "precision", "threads", "torch", "step_ms",
"samples_per_second", "cpu_ms_per_step"}.

Model: 26 fields x nn.Embedding(10000, 16, sparse=True) plus first-order nn.Embedding(10000, 1,
sparse=True) and a bias, FM second-order term over the field embeddings, MLP 416-256-128-1 with
ReLU, BCEWithLogitsLoss, plain SGD lr 0.01 (sparse gradients for the embeddings). Embeddings
start at N(0, 0.01) as in recprune; denormals are flushed as in recprune.
"""

import argparse
import json
import statistics
import time

import torch
from torch import nn

BATCH = 4096
FIELDS = 26
ROWS = 10000
DIM = 16
HIDDEN = (256, 128)
LEARNING_RATE = 0.01
BATCH_COUNT = 8


class DeepFm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = nn.ModuleList(
            nn.Embedding(ROWS, DIM, sparse=True) for _ in range(FIELDS))
        self.linear = nn.ModuleList(nn.Embedding(ROWS, 1, sparse=True) for _ in range(FIELDS))
        for table in list(self.embeddings) + list(self.linear):
            nn.init.normal_(table.weight, std=0.01)
        self.bias = nn.Parameter(torch.zeros(1))
        layers = []
        width = FIELDS * DIM
        for size in HIDDEN:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, ids):
        # ids: [FIELDS, BATCH] int64
        embedded = torch.stack([table(ids[f]) for f, table in enumerate(self.embeddings)], 1)
        first_order = sum(table(ids[f]) for f, table in enumerate(self.linear)).squeeze(1)
        summed = embedded.sum(1)
        fm = 0.5 * (summed.pow(2) - embedded.pow(2).sum(1)).sum(1)
        deep = self.mlp(embedded.reshape(ids.shape[1], FIELDS * DIM)).squeeze(1)
        return self.bias + first_order + fm + deep


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(2024)
    model = DeepFm()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.BCEWithLogitsLoss()
    batches = [(torch.randint(0, ROWS, (FIELDS, BATCH)),
                torch.randint(0, 2, (BATCH,)).float()) for _ in range(BATCH_COUNT)]

    def step(counter):
        ids, labels = batches[counter % BATCH_COUNT]
        optimizer.zero_grad(set_to_none=True)
        if args.precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(ids)
            loss = loss_fn(logits.float(), labels)
        else:
            loss = loss_fn(model(ids), labels)
        loss.backward()
        optimizer.step()

    counter = 0
    for _ in range(args.warmup):
        step(counter)
        counter += 1
    # CPU time (all threads of the process) next to wall time: on a shared machine other
    # processes stretch the wall time of a run but not its CPU time.
    wall, cpu = [], []
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            step(counter)
            counter += 1
        wall.append((time.perf_counter() - start) / args.steps)
        cpu.append((time.process_time() - cpu_start) / args.steps)
    seconds = statistics.median(wall)
    print(json.dumps({"mode": "pytorch", "precision": args.precision, "threads": args.threads,
                      "torch": torch.__version__, "step_ms": seconds * 1e3,
                      "samples_per_second": BATCH / seconds,
                      "cpu_ms_per_step": statistics.median(cpu) * 1e3}))


if __name__ == "__main__":
    main()
