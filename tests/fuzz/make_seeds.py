#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets to tests/fuzz/corpus/<target>/.

Seeds come from the repository's fixtures and grids and from the first few lines of the
samples in ../shared/datasets (never whole files), plus hand-written inputs for the formats
no sample covers. The layout of each target's input is described in tests/fuzz/harness/.
Run from anywhere: python3 tests/fuzz/make_seeds.py [--datasets DIR]. Seeds whose sample is
absent are left out, and the others are rewritten byte for byte, so a rerun changes nothing.
"""
import argparse
import json
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


def head(path, lines):
    """Return the first `lines` lines of a file as bytes, or None when it is absent."""
    if not path.is_file():
        return None
    out = []
    with open(path, "rb") as handle:
        for _ in range(lines):
            line = handle.readline()
            if not line:
                break
            out.append(line)
    return b"".join(out)


def write(target, name, data):
    if data is None:
        return
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def entry(params=None, **settings):
    """A grid dataset entry as the dataset targets read it."""
    value = {"params": params or {}}
    value.update(settings)
    return json.dumps(value).encode("utf-8")


def dataset_seed(entry_bytes, *files):
    return b"\0".join([entry_bytes] + [f for f in files])


def grid_seeds():
    # Grid paths are resolved against a scratch folder that holds data/movietweetings and
    # data/file.txt, so rewrite the dataset paths of the repository's grids to those.
    def rewrite(text):
        return re.sub(r'"path":\s*"[^"]*"', '"path": "data/movietweetings"', text)

    write("grid", "quickstart.json", rewrite((ROOT / "experiments/quickstart.json").read_text()))
    fixtures = ROOT / "tests/fixtures/grids"
    if fixtures.is_dir():
        for path in sorted(fixtures.glob("*.json")):
            write("grid", "fixture_" + path.name, rewrite(path.read_text()))
    write("grid", "axes.json", """{
  // Two axes: a list-valued model parameter and the learning rate.
  "datasets": [{"name": "movietweetings", "params": {"path": "data/movietweetings"},
                "task": "ctr", "min_count": 2, "on_bad_line": "skip",
                "split": {"method": "leave_one_out", "validation": 0.1}}],
  "models": [{"name": "deepfm", "params": {"hidden": [64, 32]}}, "logistic_regression"],
  "pruners": ["magnitude", {"name": "random", "params": {}}],
  "sparsities": [0.0, 0.5, 1],
  "schedules": ["one_shot", {"name": "gradual", "steps": 3, "finetune_epochs": 1},
                {"name": "lottery", "rewind_epoch": 1, "max_metric_drop": 0.01}],
  "training": {"epochs": 1, "batch_size": 32, "eval_batch_size": 64, "optimizer": "sgd",
               "lr": 0.1, "momentum": 0.5, "weight_decay": 0.0001,
               "early_stopping_patience": 0},
  "seeds": [1, 18446744073709551615],
  "metrics": ["auc", "logloss"],
  "axes": {"models[0].params.hidden": [[16], [8, 4]], "training.lr": [0.01, 0.1]},
  "output": "out",
}""")
    write("grid", "rating.json", json.dumps({
        "datasets": [{"name": "csv", "params": {"path": "data/file.txt", "header": False,
                                                 "columns": [{"name": "u", "roles": ["user"]},
                                                             {"name": "r", "type": "numeric",
                                                              "roles": ["label"]}]},
                      "task": "rating", "numeric": {"method": "quantile", "buckets": 4}}],
        "models": ["mf"], "metrics": ["rmse", "mae"], "seeds": 3}))
    write("grid", "topk.json", json.dumps({
        "datasets": [{"name": "movietweetings", "params": {"path": "data/movietweetings"},
                      "task": "topk", "positive_threshold": 7,
                      "split": {"method": "time", "validation": 0, "test": 0.2}}],
        "models": ["neumf"], "pruners": ["snip", "taylor", "l1_norm", "field_gradient"],
        "sparsities": 0.9, "metrics": ["ndcg@10", "hr@10"]}))
    write("grid", "syntax_error.json", '{"datasets": [1, 2,, ]\n  /* unclosed')
    write("grid", "not_an_object.json", "[1, 2, 3]")


def text_seeds(datasets):
    # First byte: separator (bits 0-2: , TAB | ; : space " CR), chunk size (bits 3-4), "::"
    # (bit 5), reader buffer (bits 6-7).
    write("text", "crlf_no_final_newline", b"\x00user,item,label\r\n1,10,1\r\n2,10,0")
    write("text", "quoted", b'\x00a,"b,c","d""e",\nx,"unclosed\n"x"y,z\n')
    write("text", "numbers", b"\x00-1,+2,3.5e10,nan,inf,0x1f,18446744073709551616,-0,1e400\n")
    write("text", "utf8", "\x00caf\u00e9,\u00fcber,\U0001F600\n".encode("utf-8") +
          b"\xc0\xaf,\xed\xa0\x80,\xf4\x90\x80\x80,\xe9t\xe9\n")
    write("text", "double_colon", b"\x20" + b"1::0120735::8::1375946430\n2::::\n")
    write("text", "empty_lines", b"\x09\n\n\r\n\t\t\n")
    write("text", "criteo", b"\x01" + (head(datasets / "criteo-sample/train.txt", 3) or b""))
    write("text", "avazu", b"\x00" + (head(datasets / "avazu-sample/train.csv", 4) or b""))
    write("text", "ml100k_item_latin1", b"\x02" + (head(datasets / "ml-100k/u.item", 6) or b""))
    write("text", "movietweetings", b"\x20" + (head(datasets / "movietweetings-100k/ratings.dat",
                                                   8) or b""))
    write("text", "goodbooks_quoted", b"\x00" + (head(datasets / "goodbooks-10k/books.csv", 4)
                                                 or b""))


def result_seeds():
    rows = [line for line in (ROOT / "results/quickstart/results.jsonl").read_bytes()
            .splitlines() if line][:3]
    if not rows:
        return
    jsonl = b"\n".join(rows) + b"\n"
    write("results", "three_rows.jsonl", jsonl)
    write("results", "torn_last_line.jsonl", jsonl + rows[0][: len(rows[0]) // 2])
    write("results", "duplicate_cell.jsonl", jsonl + rows[1] + b"\n")
    write("results", "bad_middle_line.jsonl", rows[0] + b"\n{not json\n\n" + rows[1] + b"\n")
    failed = json.loads(rows[1])
    failed["status"] = "failed"
    failed["message"] = "cell failed: loss is not finite at epoch 1, step 3"
    failed["metrics"] = {"test": {"auc": {"value": None, "status": "undefined_single_class",
                                          "reason": "one class"}}}
    write("results", "failed_and_null.jsonl",
          rows[0] + b"\n" + json.dumps(failed).encode("utf-8") + b"\n")
    table = {"schema_version": 1, "grid": {}, "environment": {},
             "rows": [json.loads(row) for row in rows]}
    write("results", "table.json", json.dumps(table))
    write("results", "big_integers.jsonl",
          b'{"cell_id":"c1","seed":9007199254740993,"status":"ok","target_sparsity":0.5,'
          b'"metrics":{"test":{"auc":{"value":null,"status":"undefined"}}},"params":12345}\n'
          b'{"cell_id":"c2","seed":18446744073709551615,"status":"ok","kind":"dense"}\n')


def schema_of(source):
    match = re.search(r'kSchema(?:\[\])? = R"json\((.*?)\)json"', source.read_text(), re.S)
    return match.group(1) if match else None


def descriptor(major=1, minor=0, size=72, kind=3, table_size=64, mask=0, flags=0,
               name="fuzz", version="1.0.0", description="a fuzzed plugin",
               schema='{"parameters": {}}', params="{}"):
    header = struct.pack("<HHIIIII", major, minor, size, kind, table_size, mask, flags)
    strings = [name, version, description, schema, params]
    return header + b"\0".join(s.encode("utf-8") for s in strings)


def descriptor_seeds():
    # struct_size 72 is sizeof(recprune_plugin_descriptor_t) on x86-64; table sizes are the
    # sizes of the dataset (40), model (96) and pruner (48) tables.
    table_sizes = {1: 40, 2: 96, 3: 48}
    for kind, kinds in ((1, "datasets"), (2, "models"), (3, "pruners")):
        for source in sorted((ROOT / "plugins" / kinds).glob("*/*.cpp")):
            schema = schema_of(source)
            if schema is None:
                continue
            write("descriptor", f"{kinds}_{source.parent.name}",
                  descriptor(kind=kind, table_size=table_sizes[kind],
                             name=source.parent.name, schema=schema))
    write("descriptor", "abi_major_two", descriptor(major=2))
    write("descriptor", "newer_minor", descriptor(minor=1))
    write("descriptor", "small_descriptor", descriptor(size=40))
    write("descriptor", "missing_score", descriptor(mask=1 << (5 + 3)))
    write("descriptor", "no_name", descriptor(mask=1))
    write("descriptor", "bad_name", descriptor(name="Bad-Name"))
    write("descriptor", "null_entry", descriptor(flags=1))
    write("descriptor", "table_of_other_kind", descriptor(flags=2 << 1))
    write("descriptor", "schema_not_json", descriptor(schema='{"parameters": {"level": {'))
    write("descriptor", "schema_bad_type",
          descriptor(schema='{"parameters": {"level": {"type": "float"}}}'))
    write("descriptor", "schema_every_key", descriptor(
        kind=2, table_size=96,
        schema=json.dumps({"parameters": {
            "n": {"type": "integer", "default": 3, "minimum": 0, "maximum": 10},
            "x": {"type": "number", "minimum": "low", "enum": [0.5, 1]},
            "s": {"type": "string", "default": "a", "enum": ["a", "b"], "format": "path"},
            "b": {"type": "boolean", "default": True},
            "l": {"type": "array", "default": [1], "items": {"type": "integer"}},
            "o": {"type": "object", "default": {}}}}),
        params=json.dumps({"n": 11, "x": 1, "s": "c", "l": [1, "2"], "o": []})))


def dataset_seeds(datasets):
    ds = datasets
    ctr = {"task": "ctr", "split": {"method": "random", "validation": 0.2, "test": 0.2}}

    train = head(ds / "avazu-sample/train.csv", 16)
    write("dataset_avazu", "train_head", train and dataset_seed(entry({}, **ctr), train))
    test = head(ds / "avazu-sample/test.csv", 6)
    write("dataset_avazu", "test_head", test and dataset_seed(entry({}), test))
    if train:
        body = b"".join(train.splitlines(keepends=True)[1:])
        write("dataset_avazu", "no_header_time_split", dataset_seed(
            entry({"on_bad_line": "skip"}, task="ctr",
                  split={"method": "time", "validation": 0.1, "test": 0.3}),
            body.replace(b"14102100", b"14102123", 3)))

    criteo = head(ds / "criteo-sample/train.txt", 12)
    write("dataset_criteo", "train_head", criteo and dataset_seed(
        entry({}, task="ctr", numeric={"method": "log_squared"}, **{"split": ctr["split"]}),
        criteo))
    unlabeled = head(ds / "criteo-sample/test_unlabeled.txt", 4)
    write("dataset_criteo", "test_head", unlabeled and dataset_seed(entry({}), unlabeled))
    if criteo:
        write("dataset_criteo", "skip_bad_lines", dataset_seed(
            entry({"on_bad_line": "skip"}, task="ctr", numeric={"method": "standardize"}),
            criteo + b"1\t2\n\t\t\n"))

    movies = head(ds / "movietweetings-100k/movies.dat", 24)
    ratings = head(ds / "movietweetings-100k/ratings.dat", 24)
    if movies and ratings:
        write("dataset_movietweetings", "head", dataset_seed(entry({}, **ctr), ratings, movies))
        write("dataset_movietweetings", "leave_one_out_titles", dataset_seed(
            entry({"include_titles": True}, task="topk",
                  split={"method": "leave_one_out", "validation": 0.1}),
            ratings, movies))
        write("dataset_movietweetings", "rating_task", dataset_seed(
            entry({"on_bad_line": "skip"}, task="rating", min_count=2), ratings + b"1::2\n",
            movies))
    for name in ("movietweetings-bad", "movietweetings-latin1"):
        folder = ROOT / "tests/fixtures/data" / name
        write("dataset_movietweetings", "fixture_" + name, dataset_seed(
            entry({}), (folder / "ratings.dat").read_bytes(), (folder / "movies.dat").read_bytes()))

    write("dataset_movielens", "100k_head", dataset_seed(
        entry({"variant": "100k", "include_titles": True}, **ctr),
        head(ds / "ml-100k/u.data", 24) or b"", head(ds / "ml-100k/u.user", 24) or b"",
        head(ds / "ml-100k/u.item", 24) or b""))
    for variant, folder, names in (
            ("100k", "movielens-100k-mini", ("u.data", "u.user", "u.item")),
            ("1m", "movielens-1m-mini", ("ratings.dat", "users.dat", "movies.dat"))):
        files = [(ROOT / "tests/fixtures/data" / folder / n).read_bytes() for n in names]
        write("dataset_movielens", "fixture_" + variant, dataset_seed(
            entry({"variant": variant, "zip_prefix_length": 2}, task="rating"), *files))

    books = head(ds / "goodbooks-10k/books.csv", 8)
    write("dataset_csv", "goodbooks_quoted", books and dataset_seed(entry({
        "separator": ",", "header": True, "quote": "\"", "columns": [
            {"name": "book_id", "roles": ["item"]},
            {"name": "authors", "type": "multi_hot", "separator": ", "},
            {"name": "language_code"},
            {"name": "original_publication_year", "type": "numeric", "roles": ["timestamp"]},
            {"name": "average_rating", "type": "numeric", "roles": ["label"]}],
        "positive_threshold": 4.0}, **ctr), books))
    obd = head(ds / "obd-sample/random_men.csv", 8)
    write("dataset_csv", "obd_no_names", obd and dataset_seed(entry({
        "header": False, "on_bad_line": "skip", "columns": [
            {"name": "row", "type": "skip"}, {"name": "time", "type": "skip"},
            {"name": "item", "roles": ["item"]}, {"name": "position", "type": "numeric"},
            {"name": "click", "type": "numeric", "roles": ["label"]}]}, task="ctr"), obd))
    write("dataset_csv", "latin1_tsv", dataset_seed(entry({
        "separator": "\t", "header": True, "encoding": "latin-1", "columns": [
            {"name": "user", "roles": ["feature", "user"]},
            {"name": "genres", "type": "multi_hot", "separator": "|"},
            {"name": "label", "type": "numeric", "roles": ["label"]}]}),
        b"user\tgenres\tlabel\r\nu1\tDrama|Com\xe9die\t1\r\nu2\t\t0\r\nu3\tDrama\t1"))

    write("dataset_libsvm", "ffm", dataset_seed(entry({"format": "ffm"}, **ctr),
                                                b"1 0:5:1 1:7:1 2:9:1\n0 0:6:1 2:9:1 2:10:1\n"
                                                b"1 0:5:0.5 1:8:1\n0 1:7:1\n"))
    write("dataset_libsvm", "libfm", dataset_seed(entry({}, task="ctr"),
                                                  b"-1 10:1 200:1 3000:1\n1 11:1 200:1 3001:1\n"
                                                  b"1 10:1 201:1\n-1 12:1\n"))
    write("dataset_libsvm", "multi_hot", dataset_seed(
        entry({"libsvm_fields": "multi_hot", "on_bad_line": "skip"}),
        b"1 3:1 4:0.5\n0 4:1\nyes 4:1\n1 1:1e3 2:-0\n"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=pathlib.Path,
                        default=ROOT.parent / "shared" / "datasets",
                        help="folder of the shared dataset samples")
    args = parser.parse_args()
    grid_seeds()
    text_seeds(args.datasets)
    result_seeds()
    descriptor_seeds()
    dataset_seeds(args.datasets)
    for folder in sorted(CORPUS.iterdir()):
        print(f"{folder.name}: {sum(1 for _ in folder.iterdir())} seeds")


if __name__ == "__main__":
    main()
