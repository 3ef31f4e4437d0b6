#!/usr/bin/python3
"""Run recprune on a catalogue of bad inputs and check that each one gets a useful message.

Every case writes one malformed grid, data file, plugin folder or results file into a
temporary folder and runs the real `recprune` command on it. The exit code must be the
documented one, and neither a signal nor exit code 5 (internal error) may end the process. The
message must contain a substring that names the place of the problem: a JSON path such as
`$.models[0].params.embedding_dim`, a `file:line`, or the plugin file. Cases that must not lose
finished results check the result files as well.

usage: bad_inputs.py --build DIR [--markdown FILE]

DIR is a recprune build folder with bin/recprune, the built-in plugins and the fixture
plugins in tests/fixtures/plugins. The script prints a Markdown table with one line per case
(and writes it to FILE with --markdown). It exits with 1 when any case fails and with 2 when
the build folder lacks those files. Standard library only.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from typing import Callable, Optional

# Exit codes of recprune (docs/cli.md, "Exit codes").
EXIT_OK = 0
EXIT_CELLS_FAILED = 1
EXIT_CONFIG = 2
EXIT_DATA = 3
EXIT_PLUGIN = 4
EXIT_INTERNAL = 5
EXIT_OUTPUT = 6

TIMEOUT_SECONDS = 300
MESSAGE_WIDTH = 160

# The grid checker's cell cap (kMaxCells in framework/src/grid/grid.cpp).
MAX_CELLS = 200000

# A small MovieTweetings-format dataset, written by the script: every user rates
# RATINGS_PER_USER of the MOVIE_COUNT movies from 1 to 10. About 30% of the ratings reach the
# plugin's positive threshold of 8, so the validation part contains both classes and the base runs
# that the results cases need can finish.
USER_COUNT = 40
MOVIE_COUNT = 24
RATINGS_PER_USER = 12
GENRES = ["Drama", "Horror", "Comedy", "Romance", "Thriller", "Action"]

# Columns of the CSV cases: user, item and a numeric label.
CSV_COLUMNS = [
    {"name": "user", "roles": ["feature", "user"]},
    {"name": "item", "roles": ["feature", "item"]},
    {"name": "rating", "type": "numeric", "roles": "label"},
]


class CaseError(Exception):
    """A case could not be prepared, for example because its base run failed."""


# ---- inputs ------------------------------------------------------------------------------------


def write_text(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_bytes(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_json(path, document):
    write_text(path, json.dumps(document, indent=2) + "\n")


def movietweetings_lines():
    """Return the lines of ratings.dat and movies.dat of the generated dataset."""
    state = 12345
    ratings = []
    timestamp = 1365000000
    for user in range(1, USER_COUNT + 1):
        for k in range(RATINGS_PER_USER):
            # A linear congruential generator keeps the data identical on every Python.
            state = (state * 1103515245 + 12345) % (1 << 31)
            movie = (user * 7 + k * 5) % MOVIE_COUNT
            rating = state % 10 + 1
            timestamp += 100 + state % 900
            ratings.append("%d::%07d::%d::%d" % (user, 1000 + movie, rating, timestamp))
    movies = []
    for movie in range(MOVIE_COUNT):
        genres = "|".join(GENRES[(movie + j) % len(GENRES)] for j in range(movie % 3 + 1))
        movies.append("%07d::Generated Movie %d (%d)::%s" % (1000 + movie, movie,
                                                             1980 + movie, genres))
    return ratings, movies


def write_movietweetings(folder, ratings=None, movies=None):
    """Write a MovieTweetings folder. `ratings` or `movies`, when given, replace the lines."""
    default_ratings, default_movies = movietweetings_lines()
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in (("ratings.dat", ratings if ratings is not None else default_ratings),
                        ("movies.dat", movies if movies is not None else default_movies)):
        if isinstance(lines, bytes):
            (folder / name).write_bytes(lines)
        else:
            (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def criteo_lines(count):
    """Return `count` lines in the Criteo layout: label, 13 counts and 26 hashed values."""
    state = 7
    lines = []
    for row in range(count):
        fields = [str(row % 2)]
        for _ in range(13):
            state = (state * 1103515245 + 12345) % (1 << 31)
            fields.append(str(state % 50))
        for _ in range(26):
            state = (state * 1103515245 + 12345) % (1 << 31)
            fields.append("%08x" % state)
        lines.append("\t".join(fields))
    return lines


def dataset_grid(dataset, **rest):
    """Return a grid of one dataset entry, logistic regression and one seed."""
    grid = {"datasets": [dataset], "models": ["logistic_regression"], "seeds": [1],
            "training": {"epochs": 1}}
    grid.update(rest)
    return grid


def movietweetings_entry(path):
    return {"name": "movietweetings", "params": {"path": path}}


# ---- cases -------------------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    """One bad input: how to write it and run recprune on it, and what must come back."""

    group: str
    title: str
    # Writes the inputs into the case folder and returns the recprune arguments. The command
    # runs with the case folder as its working folder.
    prepare: Callable[["Context", pathlib.Path], list]
    expected_exit: int
    # Substrings the message must contain. The first one names the place of the problem.
    # "{folder}" stands for the case folder, "{plugins}" for the fixture plugin folder.
    expected_text: tuple
    # Where the message goes: "stderr", or "stdout" for reports such as merge conflicts.
    stream: str = "stderr"
    # Substrings the message must not contain, such as a library's own error wording.
    absent: tuple = ()
    # Further checks after the run, returning a list of problems.
    verify: Optional[Callable[["Context", pathlib.Path, subprocess.CompletedProcess], list]] = None
    # Maximum size in bytes of any file the command writes (RLIMIT_FSIZE), to act as a full disk.
    file_size_limit: Optional[int] = None
    # False when `run` must reject the input before the first cell, so that no results.jsonl
    # may exist. True for failures that come after some cells finished.
    cells_may_run: bool = False
    # True for a case that needs an allocation to fail with std::bad_alloc. AddressSanitizer
    # ends the process instead, so sanitizer builds leave such a case out.
    needs_bad_alloc: bool = False


@dataclasses.dataclass
class Outcome:
    case: Case
    exit_code: int
    message: str
    problems: list


class Context:
    """Paths shared by every case: the command, the plugin folders and the temporary root."""

    def __init__(self, recprune, fixture_plugins, root):
        self.recprune = recprune
        self.fixture_plugins = fixture_plugins
        self.crash_plugins = fixture_plugins / "crash"
        self.root = root
        self.shared = root / "shared"
        self.movietweetings = self.shared / "movietweetings"

    def environment(self):
        env = dict(os.environ)
        env.pop("RECPRUNE_LOG", None)
        env.pop("RECPRUNE_PLUGIN_PATH", None)
        env["XDG_CACHE_HOME"] = str(self.root / "xdg-cache")
        return env

    def run(self, arguments, folder, file_size_limit=None):
        def limit_file_size():
            # With SIGXFSZ ignored, a write past the limit fails with EFBIG, as a write to a
            # full file system fails with ENOSPC.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

        return subprocess.run([str(self.recprune)] + arguments, cwd=folder,
                              env=self.environment(), capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT_SECONDS,
                              preexec_fn=limit_file_size if file_size_limit else None)

    def run_arguments(self, grid_name, *extra):
        cache = str(self.root / "cache")
        return ["run", grid_name, "-o", "out", "-q", "--cache-dir", cache] + list(extra)

    def prepare_shared(self):
        """Write the shared dataset and the finished runs that the results cases start from."""
        write_movietweetings(self.movietweetings)
        base = dataset_grid(movietweetings_entry("movietweetings"), name="base",
                            pruners=["random", "magnitude"], sparsities=[0.5])
        write_json(self.shared / "base.json", base)
        # Neuron pruning of a DeepFM, so that its cells keep a compacted model and a plan.
        neurons = dataset_grid(movietweetings_entry("movietweetings"), name="neurons",
                               models=[{"name": "deepfm", "params": {"hidden_layers": [16, 8]}}],
                               pruners=["l1_norm"], sparsities=[0.5])
        write_json(self.shared / "neurons.json", neurons)
        for grid, output, extra in (("base.json", "finished", []),
                                    ("base.json", "shard1", ["--shard", "1/2"]),
                                    ("base.json", "shard2", ["--shard", "2/2"]),
                                    ("base.json", "saved", ["--save-models"]),
                                    ("neurons.json", "compacted", ["--save-models"])):
            arguments = ["run", grid, "-o", output, "-q", "--cache-dir",
                         str(self.root / "cache")] + extra
            process = self.run(arguments, self.shared)
            if process.returncode != EXIT_OK:
                raise CaseError("the base run %s exited with %d:\n%s"
                                % (" ".join(arguments), process.returncode, process.stderr))

    def copy_run(self, name, destination):
        shutil.copytree(self.shared / name, destination)
        return destination


def validate_grid(document, name="grid.json"):
    """Return a prepare step that writes `document` (text or JSON) and validates it."""
    def prepare(context, folder):
        text = document if isinstance(document, str) else json.dumps(document, indent=2)
        write_text(folder / name, text.replace("{data}", str(context.movietweetings)))
        return ["validate", name, "-q"]
    return prepare


def base_grid(**changes):
    """Return a grid on the shared dataset with `changes` applied. A None value drops the key."""
    grid = {"datasets": [movietweetings_entry("{data}")], "models": ["fm"],
            "pruners": ["random"], "sparsities": [0.5], "seeds": [1]}
    for key, value in changes.items():
        if value is None:
            grid.pop(key, None)
        else:
            grid[key] = value
    return grid


def run_grid(document, inputs=None, extra=()):
    """Return a prepare step that calls `inputs(context, folder)`, writes the grid and runs it."""
    def prepare(context, folder):
        if inputs is not None:
            inputs(context, folder)
        grid = document(context, folder) if callable(document) else document
        write_json(folder / "grid.json", grid)
        resolved = [argument.format(plugins=context.fixture_plugins,
                                    crash=context.crash_plugins, folder=folder)
                    for argument in extra]
        return context.run_arguments("grid.json", *resolved)
    return prepare


# ---- grid cases --------------------------------------------------------------------------------

SYNTAX_ERROR_GRID = """{
  "datasets": [{"name": "movietweetings", "params": {"path": "{data}"}}],
  "models": ["fm"]
  "seeds": [1]
}
"""


def validate_folder(context, folder):
    (folder / "grid-folder").mkdir()
    return ["validate", "grid-folder", "-q"]


def sparsity_values(count):
    return [round((k + 1) / (count + 1), 6) for k in range(count)]


def grid_cases():
    return [
        Case("grid", "syntax error: a comma missing at the end of line 3",
             validate_grid(SYNTAX_ERROR_GRID), EXIT_CONFIG,
             ("grid.json:4:3: syntax error", "; check the brackets")),
        Case("grid", "trailing garbage after the closing brace",
             validate_grid('{"models": ["fm"]} garbage'), EXIT_CONFIG,
             ("grid.json:1:20: extra data",)),
        Case("grid", "empty grid file", validate_grid(""), EXIT_CONFIG,
             ("grid.json:1:1: incomplete JSON",)),
        Case("grid", "a key repeated in one object",
             validate_grid('{"seeds": [7],\n "seeds": [1]}'), EXIT_CONFIG,
             ("grid.json:2:", 'duplicate key "seeds"')),
        Case("grid", "on_bad_line given in the dataset's params",
             validate_grid('{"datasets": [{"name": "movietweetings", "params": '
                           '{"path": "{data}", "on_bad_line": "skip"}}], "models": ["fm"]}'),
             EXIT_CONFIG,
             ("$.datasets[0].params.on_bad_line: set on the dataset entry",
              "move it to $.datasets[0].on_bad_line")),
        Case("grid", "a UTF-8 byte order mark before the grid",
             validate_grid('\ufeff{"seeds": [1]}'), EXIT_CONFIG,
             ("grid.json:1:1: the file starts with a UTF-8 byte order mark",)),
        Case("grid", "grid file not found",
             lambda context, folder: ["validate", "no-such-grid.json", "-q"], EXIT_CONFIG,
             ("no-such-grid.json: No such file or directory",)),
        Case("grid", "grid path is a folder", validate_folder, EXIT_CONFIG,
             ("grid-folder: is a folder; give the grid's JSON file",)),
        Case("grid", "top level is a list, not an object", validate_grid("[1, 2]"), EXIT_CONFIG,
             ("grid.json: $: expected a JSON object",)),
        Case("grid", "wrong type: embedding_dim given as a string",
             validate_grid(base_grid(models=[{"name": "fm", "params": {"embedding_dim": "16"}}])),
             EXIT_CONFIG, ('$.models[0].params.embedding_dim: "16" is string, expected integer',)),
        Case("grid", "wrong type: training is a list",
             validate_grid(base_grid(training=[])), EXIT_CONFIG,
             ("$.training: expected an object, found []",)),
        Case("grid", "unknown top-level key \"seed\"",
             validate_grid(base_grid(seed=3)), EXIT_CONFIG,
             ("$.seed: unknown key; known top-level keys:",)),
        Case("grid", "unknown key in a dataset entry",
             validate_grid(base_grid(datasets=[{"name": "movietweetings",
                                                "params": {"path": "{data}"}, "bogus": 1}])),
             EXIT_CONFIG, ('$.datasets[0].bogus: unknown key "bogus"',)),
        Case("grid", "unknown model plugin \"fmm\"",
             validate_grid(base_grid(models=["fmm"])), EXIT_CONFIG,
             ('$.models[0].name: unknown model "fmm"', "add its folder with --plugin-dir")),
        Case("grid", "unknown pruner parameter \"granularty\"",
             validate_grid(base_grid(pruners=[{"name": "magnitude",
                                               "params": {"granularty": "field"}}])),
             EXIT_CONFIG, ("$.pruners[0].params.granularty: unknown parameter of pruner "
                           "magnitude; known:",)),
        Case("grid", "parameter below its minimum: embedding_dim 0",
             validate_grid(base_grid(models=[{"name": "fm", "params": {"embedding_dim": 0}}])),
             EXIT_CONFIG, ("$.models[0].params.embedding_dim: 0 is below the minimum 1",)),
        Case("grid", "parameter outside its enum: pooling \"max\"",
             validate_grid(base_grid(models=[{"name": "fm", "params": {"pooling": "max"}}])),
             EXIT_CONFIG, ('$.models[0].params.pooling: "max" is not one of',)),
        Case("grid", "sparsity 1.5, outside 0..1",
             validate_grid(base_grid(sparsities=[0.5, 1.5])), EXIT_CONFIG,
             ("$.sparsities[1]: 1.5 is outside [0, 1]",)),
        Case("grid", "sparsity 1e400, beyond a double",
             validate_grid(json.dumps(base_grid(sparsities=[0.5])).replace("[0.5]", "[1e400]")),
             EXIT_CONFIG,
             ("$.sparsities[0]: a number too large for a double is outside [0, 1]",)),
        Case("grid", "a model name that is a number",
             validate_grid(base_grid(models=[{"name": 5}])), EXIT_CONFIG,
             ("$.models[0].name: 5 is not a string; give the model's name in quotes",)),
        Case("grid", "hidden layers of 2e9 neurons",
             validate_grid(base_grid(models=[{"name": "deepfm",
                                              "params": {"hidden_layers": [2000000000]}}])),
             EXIT_CONFIG,
             ("$.models[0].params: model deepfm rejects its parameters: out of memory",),
             needs_bad_alloc=True),
        Case("grid", "negative sparsity -0.1",
             validate_grid(base_grid(sparsities=[-0.1])), EXIT_CONFIG,
             ("$.sparsities[0]: -0.1 is outside [0, 1]",)),
        Case("grid", "empty models list", validate_grid(base_grid(models=[])), EXIT_CONFIG,
             ("$.models: empty list",)),
        Case("grid", "empty sparsities list with pruners",
             validate_grid(base_grid(sparsities=[])), EXIT_CONFIG, ("$.sparsities: ",)),
        Case("grid", "empty seeds list", validate_grid(base_grid(seeds=[])), EXIT_CONFIG,
             ("$.seeds: ",)),
        Case("grid", "no datasets key", validate_grid(base_grid(datasets=None)), EXIT_CONFIG,
             ("$.datasets: missing",)),
        Case("grid", "split fractions that leave no training rows",
             validate_grid(base_grid(datasets=[{"name": "movietweetings",
                                                "params": {"path": "{data}"},
                                                "split": {"validation": 0.6, "test": 0.5}}])),
             EXIT_CONFIG, ("$.datasets[0].split: validation 0.6 + test 0.5",)),
        Case("grid", "unknown schedule \"sometimes\"",
             validate_grid(base_grid(schedule={"name": "sometimes"})), EXIT_CONFIG,
             ('$.schedule: unknown schedule "sometimes"',)),
        Case("grid", "1e9 iterative pruning steps, above the 1,000 cap",
             validate_grid(base_grid(schedule={"name": "iterative", "steps": 1000000000})),
             EXIT_CONFIG, ("$.schedule.steps: 1000000000 is outside [1, 1000]; give at most "
                           "1000 pruning steps",)),
        Case("grid", "lottery rewind_epoch 50 past 2 training epochs",
             validate_grid(base_grid(schedules=[{"name": "lottery", "rewind_epoch": 50}],
                                     training={"epochs": 2})),
             EXIT_CONFIG, ("$.schedules[0].rewind_epoch: 50 is past the end of the dense "
                           "training, whose $.training.epochs is 2; give a rewind_epoch from 0 "
                           "to 2",)),
        Case("grid", "metric of another task: rmse on ctr data",
             validate_grid(base_grid(metrics=["rmse"])), EXIT_CONFIG,
             ('$.metrics[0]: "rmse" is not a metric of the ctr task',)),
        Case("grid", "axes path past the end of the models list",
             validate_grid(base_grid(axes={"models[3].params.embedding_dim": [8, 16]})),
             EXIT_CONFIG, ('$.axes["models[3].params.embedding_dim"]: the path does not lead',)),
        Case("grid", "malformed axes path \"models[x]\"",
             validate_grid(base_grid(axes={"models[x]": [1]})), EXIT_CONFIG,
             ('$.axes["models[x]"]: malformed path',)),
        Case("grid", "axis value that is not a list",
             validate_grid(base_grid(axes={"models[0].params.embedding_dim": 16})), EXIT_CONFIG,
             ('$.axes["models[0].params.embedding_dim"]: expected a non-empty list',)),
        Case("grid", "201,000 cells from 1,000 seeds, above the 200,000 cap",
             # 1000 seeds x (1 dense + 2 pruners x 100 sparsities) = 201000 cells.
             validate_grid(base_grid(pruners=["random", "magnitude"],
                                     sparsities=sparsity_values(100),
                                     seeds=list(range(1000)))),
             EXIT_CONFIG, ("grid.json: $: the grid makes 201000 cells, more than %d" % MAX_CELLS,)),
        Case("grid", "1,100,000 cells from an axis of 100 learning rates",
             # 1000 seeds x (1 dense + 10 sparsities) x 100 axis values = 1100000 cells.
             validate_grid(base_grid(sparsities=sparsity_values(10), seeds=list(range(1000)),
                                     axes={"training.lr": [round(0.0001 * (k + 1), 6)
                                                           for k in range(100)]})),
             EXIT_CONFIG, ("grid.json: $: the grid makes about 1100000 cells (11000 per axis "
                           "combination, 100 combinations to go), more than %d" % MAX_CELLS,)),
        Case("grid", "1,010 axis combinations, above the 1,000 cap",
             validate_grid(base_grid(axes={"training.epochs": list(range(1, 102)),
                                           "training.batch_size": list(range(1, 11))})),
             EXIT_CONFIG, ('$.axes["training.batch_size"]: the axes up to this one make 1010',)),
    ]


# ---- data cases --------------------------------------------------------------------------------


def movietweetings_case(title, expected_exit, expected_text, ratings=None, movies=None,
                        create_folder=True):
    """Return a data case on a MovieTweetings folder "data" with replaced lines."""
    def inputs(context, folder):
        if create_folder:
            write_movietweetings(folder / "data", ratings, movies)
    grid = dataset_grid(movietweetings_entry("data"))
    return Case("data", title, run_grid(grid, inputs), expected_exit, expected_text)


def replace_line(lines, number, text):
    """Return `lines` with the 1-based line `number` replaced by `text`."""
    changed = list(lines)
    changed[number - 1] = text
    return changed


def missing_ratings(context, folder):
    write_movietweetings(folder / "data")
    (folder / "data" / "ratings.dat").unlink()


def csv_case(title, content, expected_text, columns=None):
    def inputs(context, folder):
        write_bytes(folder / "table.csv", content)
    params = {"path": "table.csv", "columns": columns or CSV_COLUMNS}
    grid = dataset_grid({"name": "csv", "params": params})
    return Case("data", title, run_grid(grid, inputs), EXIT_DATA, expected_text)


def file_case(title, plugin, file_name, content, expected_text):
    def inputs(context, folder):
        write_text(folder / file_name, content)
    params = {"path": file_name}
    if plugin == "criteo":
        params["threads"] = 1
    grid = dataset_grid({"name": plugin, "params": params})
    return Case("data", title, run_grid(grid, inputs), EXIT_DATA, expected_text)


def data_cases():
    ratings, movies = movietweetings_lines()
    latin1_movies = "".join(line + "\n" for line in movies).encode("utf-8").replace(
        b"Generated Movie 2 ", b"Caf\xe9 Society ")
    criteo = criteo_lines(20)
    cut_line = "\t".join(criteo[6].split("\t")[:30])
    bad_count = criteo[2].split("\t")
    bad_count[3] = "x3"
    libsvm = ["%d 1:1 5:1 9:1" % (row % 2) for row in range(20)]
    return [
        movietweetings_case("data folder does not exist", EXIT_CONFIG,
                            ("$.datasets[0].params.path: {folder}/data does not exist",),
                            create_folder=False),
        Case("data", "ratings.dat missing from the folder",
             run_grid(dataset_grid(movietweetings_entry("data")), missing_ratings), EXIT_DATA,
             ("missing data file: {folder}/data/ratings.dat: No such file",)),
        movietweetings_case("line 4 of ratings.dat has 3 fields", EXIT_DATA,
                            ("{folder}/data/ratings.dat:4: expected 4 fields",),
                            ratings=replace_line(ratings, 4, "2::0001001::5")),
        movietweetings_case("non-numeric rating \"five\" on line 4", EXIT_DATA,
                            ('{folder}/data/ratings.dat:4: field "rating"',),
                            ratings=replace_line(ratings, 4, "2::0001001::five::1365006557")),
        movietweetings_case("Latin-1 byte in a movie title", EXIT_DATA,
                            ('{folder}/data/movies.dat:3: field "title": expected UTF-8',),
                            movies=latin1_movies),
        movietweetings_case("empty ratings.dat", EXIT_DATA, ("{folder}/data/ratings.dat",),
                            ratings=[]),
        csv_case("CSV schema names column \"item_id\", not in the header",
                 b"user,item,rating\n1,10,1\n2,11,0\n",
                 ('{folder}/table.csv:1: field "item_id": not in the header line',),
                 columns=[CSV_COLUMNS[0], {"name": "item_id", "roles": ["feature", "item"]},
                          CSV_COLUMNS[2]]),
        csv_case("CSV field with byte 0xFF", b"user,item,rating\n1,10,1\n2,1\xff1,0\n",
                 ('{folder}/table.csv:3: field "item": expected UTF-8',)),
        csv_case("CSV label \"yes\" in a numeric column", b"user,item,rating\n1,10,yes\n",
                 ('{folder}/table.csv:2: field "rating"',)),
        file_case("Criteo line 7 cut to 30 of 40 fields", "criteo", "day_0.txt",
                  "\n".join(replace_line(criteo, 7, cut_line)) + "\n",
                  ("{folder}/day_0.txt:7: expected 40 fields",)),
        file_case("Criteo count I3 is \"x3\"", "criteo", "day_0.txt",
                  "\n".join(replace_line(criteo, 3, "\t".join(bad_count))) + "\n",
                  ('{folder}/day_0.txt:3: field "I3": expected an integer count',)),
        file_case("libsvm token \"5\" without a colon", "libsvm", "train.libsvm",
                  "\n".join(replace_line(libsvm, 5, "1 1:1 5 9:1")) + "\n",
                  ('{folder}/train.libsvm:5: field "token 2": expected feature:value',)),
        Case("data", "rating labels of 1e30 make predictions NaN",
             run_grid(huge_label_grid, huge_label_file), EXIT_CELLS_FAILED,
             ("cell failed: dataset=csv model=mf dense seed=1: ", "not finite after epoch"),
             verify=check_rows_strict_json),
    ]


def huge_label_file(context, folder):
    lines = ["user,item,rating"]
    for row in range(400):
        label = (1e30, -1e30, 3e29)[row % 3]
        lines.append("%d,%d,%g" % (row % 30 + 1, row % 20 + 1, label))
    write_text(folder / "ratings.csv", "\n".join(lines) + "\n")


def huge_label_grid(context, folder):
    dataset = {"name": "csv", "params": {"path": "ratings.csv", "columns": CSV_COLUMNS},
               "task": "rating"}
    return dataset_grid(dataset, models=["mf"], training={"epochs": 2, "optimizer": "sgd",
                                                          "lr": 1})


# ---- plugin cases ------------------------------------------------------------------------------


def pruner_grid(pruner):
    return dataset_grid(movietweetings_entry("{data}"), pruners=[pruner], sparsities=[0.5])


def shared_data_grid(grid):
    """Return a grid builder that points "{data}" at the shared dataset."""
    def build(context, folder):
        return json.loads(json.dumps(grid).replace("{data}", str(context.movietweetings)))
    return build


def fixture_case(title, pruner, expected_text):
    library = "{plugins}/librecprune_pruner_%s.so" % pruner
    return Case("plugin", title,
                run_grid(shared_data_grid(pruner_grid(pruner)), extra=["--plugin-dir",
                                                                       "{plugins}"]),
                EXIT_CONFIG, ("plugin rejected: %s" % library, expected_text))


def copy_fixture(folder_mode=0o755, file_mode=0o755):
    """Return an input step that copies fixture_good into "plugins" with the given modes.

    The temporary root is private to this user (mode 0700), so a folder or file made writable
    by others inside it cannot be replaced by another user while the case runs.
    """
    def inputs(context, folder):
        plugins = folder / "plugins"
        plugins.mkdir()
        library = plugins / "librecprune_pruner_fixture_good.so"
        shutil.copy(context.fixture_plugins / library.name, library)
        os.chmod(library, file_mode)
        os.chmod(plugins, folder_mode)
    return inputs


def world_writable_case(title, folder_mode, file_mode, extra, expected_exit, expected_text,
                        stream="stderr"):
    grid = shared_data_grid(pruner_grid("fixture_good"))
    return Case("plugin", title,
                run_grid(grid, copy_fixture(folder_mode, file_mode),
                         ["--plugin-dir", "{folder}/plugins"] + extra),
                expected_exit, expected_text, stream=stream)


def plugin_cases():
    world_writable = 0o777
    return [
        Case("plugin", "new-plugin with the name of a built-in pruner",
             lambda context, folder: ["new-plugin", "pruner", "magnitude", "-o", "scaffold"],
             EXIT_CONFIG, ('"magnitude" is taken by the pruner plugin',
                           "pick another name")),
        fixture_case("ABI major 2", "fixture_abi_major_two", "ABI major 2, host 1"),
        fixture_case("ABI minor newer than the host", "fixture_newer_minor",
                     "ABI 1.1 is newer than the host's 1.0"),
        fixture_case("no entry symbol", "fixture_no_entry",
                     "no entry symbol recprune_plugin_entry"),
        fixture_case("text file named like a plugin", "fixture_not_a_library", "cannot load"),
        fixture_case("descriptor smaller than ABI 1.0", "fixture_small_descriptor",
                     "descriptor is 64 bytes"),
        fixture_case("parameter schema that is not JSON", "fixture_schema_not_json",
                     "bad schema: 1:44: incomplete JSON"),
        fixture_case("parameter declared twice in the schema", "fixture_schema_duplicate",
                     'bad schema: 1:67: duplicate key "level" in one object; keep one of them'),
        fixture_case("score function missing", "fixture_missing_score",
                     "missing function pruner score"),
        world_writable_case("plugin folder writable by others (chmod 777)", world_writable, 0o755,
                            [], EXIT_CONFIG,
                            ("plugin folder rejected: {folder}/plugins: writable by other users",
                             "--allow-insecure-plugins")),
        world_writable_case("plugin file writable by others (chmod 666)", 0o755, 0o666, [],
                            EXIT_CONFIG,
                            ("plugin rejected: {folder}/plugins/librecprune_pruner_fixture_good.so:"
                             " writable by other users",)),
        world_writable_case("folder writable by others, with --allow-insecure-plugins",
                            world_writable, 0o755, ["--allow-insecure-plugins"], EXIT_OK,
                            ("2 rows (2 run, 0 reused, 0 failed)",), stream="stdout"),
        Case("plugin", "model constructor throws",
             run_grid(shared_data_grid(dataset_grid(movietweetings_entry("{data}"),
                                                    models=["fixture_throwing_model"])),
                      extra=["--plugin-dir", "{plugins}"]),
             EXIT_CELLS_FAILED,
             ("cell failed: dataset=movietweetings model=fixture_throwing_model dense seed=1: ",
              "the constructor always throws")),
        Case("plugin", "--plugin-dir names no folder",
             run_grid(shared_data_grid(dataset_grid(movietweetings_entry("{data}"))),
                      extra=["--plugin-dir", "{folder}/no-such-folder"]),
             EXIT_CONFIG,
             ("invalid option: --plugin-dir ", "/no-such-folder: not a folder; give the folder",)),
        Case("plugin", "model rejects a parameter its schema allows",
             run_grid(shared_data_grid(dataset_grid(
                 movietweetings_entry("{data}"),
                 models=[{"name": "fixture_throwing_model",
                          "params": {"reject_parameter": True}}])),
                 extra=["--plugin-dir", "{plugins}"]),
             EXIT_CONFIG,
             ("$.models[0].params.reject_parameter: model fixture_throwing_model rejects its "
              "parameters: invalid parameter: reject_parameter: ",)),
        Case("plugin", "model create fails without a message",
             run_grid(shared_data_grid(dataset_grid(movietweetings_entry("{data}"),
                                                    models=["fixture_silent_failure"])),
                      extra=["--plugin-dir", "{plugins}"]),
             EXIT_CELLS_FAILED,
             ("cell failed: dataset=movietweetings model=fixture_silent_failure dense seed=1: ",
              "no message")),
        Case("plugin", "pruner crashes the worker (--isolate)",
             run_grid(shared_data_grid(dataset_grid(movietweetings_entry("{data}"),
                                                    pruners=["random", "fixture_crash"],
                                                    sparsities=[0.5])),
                      extra=["--plugin-dir", "{crash}", "--isolate"]),
             EXIT_CELLS_FAILED, ("killed by signal 11",), verify=check_crash_rows),
    ]


# ---- results cases -----------------------------------------------------------------------------


def corrupt_finished(edit, name):
    """Return a prepare step that writes `edit(text)` of the finished run and reports it."""
    def prepare(context, folder):
        source = "results.jsonl" if name.endswith(".jsonl") else "results.json"
        text = (context.shared / "finished" / source).read_text(encoding="utf-8")
        write_text(folder / name, edit(text))
        return ["report", name, "--no-files", "-q"]
    return prepare


def edit_json(change):
    def edit(text):
        table = json.loads(text)
        change(table)
        return json.dumps(table, indent=2)
    return edit


def edit_line(number, change):
    """Return an edit of results.jsonl that applies `change` to the row on line `number`."""
    def edit(text):
        lines = text.splitlines()
        row = json.loads(lines[number - 1])
        change(row)
        lines[number - 1] = json.dumps(row)
        return "\n".join(lines) + "\n"
    return edit


def first_metric_to_nan(text):
    """Replace the first metric value in pretty results.json text by the token NaN."""
    return re.sub(r'"value": [-0-9.eE+]+', '"value": NaN', text, count=1)


def dense_rows_only(text):
    """Keep the rows of results.jsonl whose kind is dense."""
    return "".join(line + "\n" for line in text.splitlines()
                   if json.loads(line)["kind"] == "dense")


def line_of_first_nan(folder, name):
    text = (folder / name).read_text(encoding="utf-8")
    return text[:text.index("NaN")].count("\n") + 1


def torn_jsonl(text):
    """Append the first 100 characters of a row without its newline, as a killed write does."""
    return text + text[:100]


def row_lines(folder):
    path = folder / "results.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def merge_prepare(edits):
    """Return a prepare step that copies both shards, applies `edits` and merges them.

    Cell ids hash the absolute dataset path, which lies in the temporary folder, so which cells
    fall into which shard changes from one run of this script to the next. The shard with more
    rows is copied to "shard1", so shard1 always contains rows and shard2 may contain none.
    """
    def prepare(context, folder):
        sources = sorted(["shard1", "shard2"],
                         key=lambda name: -len(row_lines(context.shared / name)))
        first = context.copy_run(sources[0], folder / "shard1")
        second = context.copy_run(sources[1], folder / "shard2")
        edits(context, first, second)
        return ["merge", "merged", "shard1", "shard2", "-q"]
    return prepare


def conflicting_shards(context, first, second):
    # shard2 also contains a row of a cell of shard1, with another AUC.
    row = json.loads(row_lines(first)[0])
    row["metrics"]["test"]["auc"]["value"] = 0.123
    with open(second / "results.jsonl", "a", encoding="utf-8") as rows:
        rows.write(json.dumps(row) + "\n")


def missing_shard_rows(context, first, second):
    (first / "results.jsonl").unlink()
    (first / "results.json").unlink()


def other_grid(context, first, second):
    manifest = json.loads((second / "cells.json").read_text(encoding="utf-8"))
    manifest["grid_id"] = "0123456789abcdef"
    write_json(second / "cells.json", manifest)


def schema_version_two(context, first, second):
    path = first / "results.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace('"schema_version":1',
                                                             '"schema_version":2'),
                    encoding="utf-8")


def manifest_without_shard(context, first, second):
    manifest = json.loads((first / "cells.json").read_text(encoding="utf-8"))
    del manifest["shard"]
    write_json(first / "cells.json", manifest)


def row_without_status(context, first, second):
    row = json.loads(row_lines(first)[0])
    del row["status"]
    (first / "results.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")


def resume_prepare(edit):
    """Return a prepare step that copies the finished run, edits results.jsonl, runs again."""
    def prepare(context, folder):
        # The same resolved dataset path gives the same cell ids, so the rows can be reused.
        grid = json.loads((context.shared / "base.json").read_text(encoding="utf-8"))
        grid["datasets"][0]["params"]["path"] = str(context.movietweetings)
        write_json(folder / "base.json", grid)
        context.copy_run("finished", folder / "out")
        path = folder / "out" / "results.jsonl"
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
        return context.run_arguments("base.json")
    return prepare


def evaluate_prepare(run, edit=None, cell=None, extra=(), grid_name="base.json"):
    """Return a prepare step that copies the shared run `run` of grid `grid_name`, applies
    `edit(out, row)` to it and evaluates the saved models of its first pruned cell (or of
    `cell`)."""
    def prepare(context, folder):
        grid = json.loads((context.shared / grid_name).read_text(encoding="utf-8"))
        grid["datasets"][0]["params"]["path"] = str(context.movietweetings)
        write_json(folder / grid_name, grid)
        out = context.copy_run(run, folder / "out")
        row = next(json.loads(line) for line in row_lines(out)
                   if json.loads(line)["kind"] == "pruned")
        if edit is not None:
            edit(out, row)
        return (["evaluate", grid_name, cell or row["cell_id"], "-o", "out", "-q",
                 "--cache-dir", str(context.root / "cache")] + list(extra))
    return prepare


def compacted_prepare(edit):
    """Return evaluate_prepare on the shared DeepFM run, whose pruned cell has a compacted
    model and a compaction plan."""
    return evaluate_prepare("compacted", edit, grid_name="neurons.json")


def delete_saved(key):
    def edit(out, row):
        (out / row["saved_models"][key]).unlink()
    return edit


def truncate_pruned_model(out, row):
    path = out / row["saved_models"]["pruned"]
    path.write_bytes(path.read_bytes()[:100])


def split_model_file(data):
    """Return the magic line, the header and the tensor bytes of a model file."""
    magic_size = len(b"recprune-model 1\n")
    header_size = int.from_bytes(data[magic_size:magic_size + 8], "little")
    header_end = magic_size + 8 + header_size
    return data[:magic_size], data[magic_size + 8:header_end], data[header_end:]


def edit_pruned_model(change):
    """Return an edit that rewrites the pruned model file as change(magic, header, values)
    returns it, a (magic, header, values) triple with the header size set to match."""
    def edit(out, row):
        path = out / row["saved_models"]["pruned"]
        magic, header, values = change(*split_model_file(path.read_bytes()))
        path.write_bytes(magic + len(header).to_bytes(8, "little") + header + values)
    return edit


def empty_pruned_model(out, row):
    (out / row["saved_models"]["pruned"]).write_bytes(b"")


def header_not_json(magic, header, values):
    return magic, b"{" + header, values


def header_without_config(magic, header, values):
    parsed = json.loads(header)
    del parsed["config"]
    return magic, json.dumps(parsed).encode(), values


def huge_first_tensor(magic, header, values):
    parsed = json.loads(header)
    parsed["tensors"][0]["shape"] = [2 ** 40, 2 ** 30]
    return magic, json.dumps(parsed).encode(), values


def trailing_bytes(magic, header, values):
    return magic, header, values + b"tail"


def nan_last_weight(magic, header, values):
    return magic, header, values[:-4] + struct.pack("<f", float("nan"))


def write_plan(plan):
    def edit(out, row):
        write_json(out / row["saved_models"]["compaction_plan"], plan)
    return edit


def full_disk_prepare(context, folder):
    shutil.copy(context.shared / "base.json", folder / "base.json")
    write_movietweetings(folder / "movietweetings")
    return ["run", "base.json", "-o", "out", "-q", "--no-cache", "--threads", "1"]


def results_json_folder_prepare(context, folder):
    (folder / "out" / "results.json").mkdir(parents=True)
    return full_disk_prepare(context, folder)


def report_to_file_prepare(context, folder):
    write_text(folder / "results.jsonl",
               (context.shared / "finished" / "results.jsonl").read_text(encoding="utf-8"))
    write_text(folder / "outfile", "")
    return ["report", "results.jsonl", "--output-dir", "outfile", "-q"]


def results_cases():
    nan_json = "results/nan.json"
    return [
        Case("results", "report: results.json that is not JSON",
             corrupt_finished(lambda text: "not json\n", "results.json"), EXIT_DATA,
             ("results.json:1:1",)),
        Case("results", "report: NaN token in results.json",
             corrupt_finished(first_metric_to_nan, nan_json), EXIT_DATA,
             ("%s:{nan_line}:" % nan_json,)),
        Case("results", "report: NaN token on line 2 of results.jsonl",
             corrupt_finished(lambda text: nan_on_line(text, 2), "results.jsonl"),
             EXIT_DATA, ("results.jsonl:2: ",)),
        Case("results", "report: torn last line of results.jsonl is skipped",
             corrupt_finished(torn_jsonl, "results.jsonl"), EXIT_OK,
             ("results.jsonl:4: skipped an unterminated last line",),
             verify=check_report_rows(3)),
        Case("results", "report: only dense rows, no pruned row",
             corrupt_finished(dense_rows_only, "results.jsonl"), EXIT_CONFIG,
             ("nothing to report: the input contains no pruned row, only 1 dense row;",)),
        Case("results", "report: schema_version 2 in results.json",
             corrupt_finished(edit_json(lambda table: table.update(schema_version=2)),
                              "results.json"), EXIT_DATA,
             ("results.json", "schema_version")),
        Case("results", "report: \"rows\" that are not objects",
             corrupt_finished(edit_json(lambda table: table.update(rows=[1, 2])),
                              "results.json"), EXIT_DATA,
             ("results.json",)),
        Case("results", "report: pruned row without target_sparsity",
             corrupt_finished(edit_line(2, lambda row: row.pop("target_sparsity")),
                              "results.jsonl"), EXIT_DATA,
             ("results.jsonl:2",)),
        Case("results", "merge: two shards hold one cell with different AUC",
             merge_prepare(conflicting_shards), EXIT_CELLS_FAILED,
             ("conflict: dataset=movietweetings model=logistic_regression ",
              "kept the row of shard1; shard2 has another status or other metric values"),
             stream="stdout"),
        Case("results", "merge: a shard folder without rows",
             merge_prepare(missing_shard_rows), EXIT_CELLS_FAILED,
             ("/2 has no row for it",), stream="stdout"),
        Case("results", "merge: shards of two different grids",
             merge_prepare(other_grid), EXIT_CONFIG,
             ("cannot merge: shard2: its grid (id 0123456789abcdef) differs",)),
        Case("results", "merge: schema_version 2 rows in one shard",
             merge_prepare(schema_version_two), EXIT_DATA,
             ("shard1/results.jsonl", "schema_version")),
        Case("results", "merge: cells.json without \"shard\"",
             merge_prepare(manifest_without_shard), EXIT_CONFIG,
             ("shard1/cells.json",)),
        Case("results", "merge: row without \"status\"",
             merge_prepare(row_without_status), EXIT_DATA,
             ("shard1/results.jsonl:1",)),
        Case("results", "evaluate: the run kept no model files",
             evaluate_prepare("finished"), EXIT_CONFIG,
             ("lists no saved models; rerun the cell with --save-models",)),
        Case("results", "evaluate: a cell id that is not in the grid",
             evaluate_prepare("saved", cell="0123456789abcdef"), EXIT_CONFIG,
             ("invalid cell: 0123456789abcdef is not a cell of the grid", "out/cells.json")),
        Case("results", "evaluate: --model names no model kind",
             evaluate_prepare("saved", extra=["--model", "biggest"]), EXIT_CONFIG,
             ("invalid option: --model biggest; give dense, pruned or compacted",)),
        Case("results", "evaluate: a saved model file was deleted",
             evaluate_prepare("saved", delete_saved("pruned")), EXIT_CONFIG,
             ("missing saved file: out/models/", "pruned.model",
              "rerun the cell with --save-models")),
        Case("results", "evaluate: the compacted model file was deleted",
             compacted_prepare(delete_saved("compacted")), EXIT_CONFIG,
             ("missing saved file: out/models/", "compacted.model",
              "rerun the cell with --save-models")),
        Case("results", "evaluate: the compaction plan was deleted",
             compacted_prepare(delete_saved("compaction_plan")), EXIT_CONFIG,
             ("missing saved file: out/models/", "compaction_plan.json",
              "rerun the cell with --save-models")),
        Case("results", "evaluate: a saved model file cut short",
             evaluate_prepare("saved", truncate_pruned_model), EXIT_DATA,
             ("cannot load the saved pruned model of cell ", "pruned.model: the header size is",
              "rerun the cell with --save-models")),
        Case("results", "evaluate: an empty saved model file",
             evaluate_prepare("saved", empty_pruned_model), EXIT_DATA,
             ("cannot load the saved pruned model of cell ", "pruned.model: the file is empty",
              "rerun the cell with --save-models")),
        Case("results", "evaluate: a model file header that is not JSON",
             evaluate_prepare("saved", edit_pruned_model(header_not_json)), EXIT_DATA,
             ("pruned.model: the header is not valid JSON", "rerun the cell with --save-models"),
             absent=("json.exception",)),
        Case("results", "evaluate: a model file header without \"config\"",
             evaluate_prepare("saved", edit_pruned_model(header_without_config)), EXIT_DATA,
             ("pruned.model: the header has no \"config\" object",
              "rerun the cell with --save-models"),
             absent=("json.exception",)),
        Case("results", "evaluate: a model file tensor of 2^70 values",
             evaluate_prepare("saved", edit_pruned_model(huge_first_tensor)), EXIT_DATA,
             ("pruned.model: the header lists more tensor values than",
              "rerun the cell with --save-models"),
             absent=("max_size", "out of memory")),
        Case("results", "evaluate: bytes after a model file's last tensor",
             evaluate_prepare("saved", edit_pruned_model(trailing_bytes)), EXIT_DATA,
             ("pruned.model: 4 bytes follow the last tensor", "rerun the cell with --save-models")),
        Case("results", "evaluate: a NaN weight in a saved model",
             evaluate_prepare("saved", edit_pruned_model(nan_last_weight)), EXIT_DATA,
             ("invalid saved file: out/models/", "pruned.model: tensor ", "contains NaN",
              "rerun the cell with --save-models"),
             absent=("learning rate",)),
        Case("results", "evaluate: a compaction plan with a neuron past the layer",
             compacted_prepare(write_plan({"kept_neurons": {"mlp.0": [0, 1, 2, 999]}})),
             EXIT_DATA,
             ("invalid saved file: out/models/", "compaction_plan.json: ",
              "the plan and the models do not belong together")),
        Case("results", "evaluate: a compaction plan of a layer the model lacks",
             compacted_prepare(write_plan({"mlp.7": [1]})), EXIT_DATA,
             ("invalid saved file: out/models/", "compaction_plan.json: ",
              "the plan and the models do not belong together")),
        Case("results", "evaluate: an empty compaction plan",
             compacted_prepare(write_plan({})), EXIT_DATA,
             ("invalid saved file: out/models/", "compaction_plan.json: ",
              "the plan and the models do not belong together")),
        Case("results", "evaluate: a compaction plan that is not an object",
             compacted_prepare(write_plan([-1])), EXIT_DATA,
             ("invalid saved file: out/models/", "compaction_plan.json: expected an object")),
        Case("results", "run: torn last line of results.jsonl is cut, other rows reused",
             resume_prepare(torn_jsonl), EXIT_OK,
             ("cut a partial line off the end of out/results.jsonl",),
             verify=check_stdout_contains("3 rows (0 run, 3 reused, 0 failed)")),
        Case("results", "run: a line of results.jsonl that is not JSON",
             resume_prepare(lambda text: "garbage\n" + text), EXIT_OK,
             ("dropped line 1 of out/results.jsonl: not a result row",),
             verify=check_stdout_contains("3 rows (0 run, 3 reused, 0 failed)")),
        Case("results", "run: results.json is a folder",
             results_json_folder_prepare, EXIT_OUTPUT,
             ("cannot replace out/results.json: Is a directory", "move away"),
             cells_may_run=True),
        Case("results", "report: --output-dir names a file",
             report_to_file_prepare, EXIT_CONFIG,
             ("--output-dir outfile: is a file",)),
        Case("results", "run: disk full after the first row (4 KiB file size limit)",
             full_disk_prepare, EXIT_OUTPUT,
             ("cannot append to out/results.jsonl: File too large",
              "finished rows are kept"),
             verify=check_full_disk_rerun, file_size_limit=4096, cells_may_run=True),
    ]


def nan_on_line(text, number):
    """Replace the first metric value on line `number` of results.jsonl by the token NaN."""
    lines = text.splitlines()
    lines[number - 1] = re.sub(r'"value":[-0-9.eE+]+', '"value":NaN', lines[number - 1],
                               count=1)
    return "\n".join(lines) + "\n"


# ---- checks after a run ------------------------------------------------------------------------


def reject_constant(token):
    raise ValueError("non-standard JSON token %s" % token)


def load_strict(text):
    """Parse JSON text and reject NaN and Infinity, which RFC 8259 does not allow."""
    return json.loads(text, parse_constant=reject_constant)


def read_jsonl_strict(path):
    return [load_strict(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def check_rows_strict_json(context, folder, process):
    problems = []
    try:
        load_strict((folder / "out" / "results.json").read_text(encoding="utf-8"))
        read_jsonl_strict(folder / "out" / "results.jsonl")
    except (OSError, ValueError) as error:
        problems.append("result files are not strict JSON: %s" % error)
    return problems


def check_crash_rows(context, folder, process):
    rows = read_jsonl_strict(folder / "out" / "results.jsonl")
    statuses = sorted(row["status"] for row in rows)
    if statuses != ["failed", "ok", "ok"]:
        return ["expected the dense and random rows ok and the crashed cell failed, found %s"
                % statuses]
    return []


def check_report_rows(count):
    def verify(context, folder, process):
        expected = "from %d rows" % count
        if expected not in process.stdout:
            return ["the report does not read %d rows:\n%s" % (count, process.stdout)]
        return []
    return verify


def check_stdout_contains(text):
    def verify(context, folder, process):
        if text not in process.stdout:
            return ["stdout lacks %r:\n%s" % (text, process.stdout)]
        return []
    return verify


def check_full_disk_rerun(context, folder, process):
    # The row finished before the disk filled up is kept, so a rerun without the limit runs
    # only the other two cells.
    rerun = context.run(["run", "base.json", "-o", "out", "-q", "--no-cache"], folder)
    expected = "3 rows (2 run, 1 reused, 0 failed)"
    if rerun.returncode != EXIT_OK or expected not in rerun.stdout:
        return ["the rerun without the size limit exited with %d and printed:\n%s%s"
                % (rerun.returncode, rerun.stdout, rerun.stderr)]
    return []


# ---- running and reporting ---------------------------------------------------------------------


def expand(text, context, folder):
    replacements = {"{folder}": str(folder), "{plugins}": str(context.fixture_plugins)}
    if "{nan_line}" in text:
        replacements["{nan_line}"] = str(line_of_first_nan(folder, "results/nan.json"))
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text


def run_case(context, case, index):
    """Write the inputs of `case` into a numbered folder, run recprune and check the outcome."""
    folder = context.root / ("%02d" % index)
    folder.mkdir()
    arguments = case.prepare(context, folder)
    try:
        process = context.run(arguments, folder, case.file_size_limit)
    except subprocess.TimeoutExpired:
        return Outcome(case, -1, "", ["timed out after %d s" % TIMEOUT_SECONDS])

    # The exit code and the message.
    stream = process.stderr if case.stream == "stderr" else process.stdout
    expected = [expand(text, context, folder) for text in case.expected_text]
    problems = []
    if process.returncode < 0:
        problems.append("killed by signal %d" % -process.returncode)
    elif process.returncode == EXIT_INTERNAL:
        problems.append("exit 5, an internal error")
    if process.returncode != case.expected_exit:
        problems.append("exit %d, expected %d" % (process.returncode, case.expected_exit))
    for text in expected:
        if text not in stream:
            problems.append("%s lacks %r" % (case.stream, text))
    for text in case.absent:
        if text in stream:
            problems.append("%s contains %r" % (case.stream, text))

    # The result files: none after a rejected input, and the case's own checks.
    rejected = case.expected_exit in (EXIT_CONFIG, EXIT_DATA, EXIT_PLUGIN)
    if arguments[0] == "run" and rejected and not case.cells_may_run:
        if (folder / "out" / "results.jsonl").exists():
            problems.append("a cell ran although the input was rejected")
    if case.verify is not None:
        try:
            problems.extend(case.verify(context, folder, process))
        except (OSError, ValueError, KeyError) as error:
            problems.append("the result files cannot be checked: %s" % error)
    message = first_message_line(case.stream, stream, expected)
    return Outcome(case, process.returncode, message, problems)


def first_message_line(stream_name, stream, expected):
    """Return the first line of stderr, or the first stdout line that names the expected place.

    Merge prints its table and summary on stdout, so there the line naming the place is the
    message.
    """
    lines = [line for line in stream.splitlines() if line.strip()]
    if stream_name == "stdout":
        for line in lines:
            if expected and expected[0] in line:
                return line
    return lines[0] if lines else ""


def shorten(text, context):
    """Replace the temporary, fixture and build folders by short names; cut to MESSAGE_WIDTH."""
    text = text.replace(str(context.fixture_plugins), "<fixtures>")
    text = text.replace(str(context.recprune.parent.parent), "<build>")
    text = text.replace(str(context.root) + "/", "<tmp>/")
    if len(text) > MESSAGE_WIDTH:
        text = text[:MESSAGE_WIDTH - 3] + "..."
    return text


def code_span(text):
    """Return `text` as a Markdown code span that fits in a table cell."""
    text = text.replace("|", "\\|")
    if "`" in text:
        return "`` %s ``" % text
    return "`%s`" % text


def markdown_table(outcomes, context):
    lines = ["| group | input | exit | check | first line of the message |",
             "| --- | --- | ---: | --- | --- |"]
    for outcome in outcomes:
        check = "ok" if not outcome.problems else "**FAIL**: " + "; ".join(
            problem.splitlines()[0] for problem in outcome.problems)
        message = code_span(shorten(outcome.message, context)) if outcome.message else ""
        lines.append("| %s | %s | %d | %s | %s |" % (
            outcome.case.group, outcome.case.title.replace("|", "\\|"), outcome.exit_code,
            shorten(check, context).replace("|", "\\|"), message))
    return "\n".join(lines)


def all_cases():
    return grid_cases() + data_cases() + plugin_cases() + results_cases()


def sanitizer_build(build):
    """Return True when the build folder was configured with RECPRUNE_SANITIZE=ON."""
    cache = build / "CMakeCache.txt"
    return cache.exists() and "RECPRUNE_SANITIZE:BOOL=ON" in cache.read_text(errors="replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=pathlib.Path,
                        help="recprune build folder (bin/recprune, tests/fixtures/plugins)")
    parser.add_argument("--markdown", type=pathlib.Path,
                        help="also write the table and the summary to this file")
    args = parser.parse_args()

    build = args.build.resolve()
    recprune = build / "bin" / "recprune"
    fixture_plugins = build / "tests" / "fixtures" / "plugins"
    required = [recprune, fixture_plugins / "librecprune_pruner_fixture_good.so",
                fixture_plugins / "crash" / "librecprune_pruner_fixture_crash.so"]
    missing = [str(path) for path in required if not path.exists()]
    if missing:
        print("bad_inputs.py: not found in the build folder: %s; build recprune and the "
              "recprune_fixture_plugins target first" % ", ".join(missing), file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="recprune-bad-inputs-") as temporary:
        context = Context(recprune, fixture_plugins, pathlib.Path(temporary))
        try:
            context.prepare_shared()
        except CaseError as error:
            print("bad_inputs.py: %s" % error, file=sys.stderr)
            return 1
        cases = all_cases()
        if sanitizer_build(build):
            left_out = [case.title for case in cases if case.needs_bad_alloc]
            cases = [case for case in cases if not case.needs_bad_alloc]
            print("bad_inputs.py: left out under AddressSanitizer, which ends the process where "
                  "an allocation fails: %s" % "; ".join(left_out), file=sys.stderr)
        outcomes = [run_case(context, case, index)
                    for index, case in enumerate(cases, start=1)]
        table = markdown_table(outcomes, context)
        for outcome in outcomes:
            for problem in outcome.problems:
                print("FAILED %s: %s: %s" % (outcome.case.group, outcome.case.title, problem),
                      file=sys.stderr)

    failed = sum(1 for outcome in outcomes if outcome.problems)
    summary = "%d cases: %d as expected, %d failed" % (len(outcomes), len(outcomes) - failed,
                                                       failed)
    print(table)
    print()
    print(summary)
    if args.markdown is not None:
        args.markdown.write_text(table + "\n\n" + summary + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
