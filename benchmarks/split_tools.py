"""Time ``lightsplit check``, ``split`` and ``card`` on splits the size of NIH's.

Writes, in a temporary folder, 112,000 entries of 30,000 patients with paths
``images/<8-digit patient>_<3-digit image>.png`` (as NIH's chest X-rays have),
once with binary labels and once with 15 multi-hot labels: the list of entries,
and a split of it by patient. Then times, side by side (medians of several
rounds, each calling every run in turn), against ``json.load`` of the split:

- ``check`` with ``--group-pattern`` and ``card``, in process (``main([...])``,
  output discarded) in a new interpreter that imports what the command imports,
  side by side with ``json.load`` there (`FRESH`);
- the same commands and ``split`` as new processes (the ``lightsplit`` script,
  start-up included, bytecode cached as an installed package has it), side by
  side with a new ``python -c`` process that loads the file with ``json.load``:
  what a user waits for at the shell;
- ``split --folds 5`` grouped and stratified, in process, and `split_folds`
  alone (no files written);
- scikit-learn's ``StratifiedGroupKFold`` on the binary labels (fewer rounds);
- what ``check`` spends: reading the split, the content hash (read from the
  file's text where its entries allow, as ``check`` does), the rest.

With ``--file SPLIT [PATTERN]`` (repeatable), it also times ``check`` and
``card`` (in process and as new processes) on real split files (``.json`` or
``.json.bz2``, decompressed first: json.load reads plain text), grouped by
``PATTERN`` where one is given: mednet ships NIH CXR14's, PadChest's and
CXR8's.

::

    .venv/bin/python benchmarks/split_tools.py [--entries N] [--repeats K]
        [--file SPLIT [PATTERN]]...
"""

import argparse
import contextlib
import importlib
import io
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Final

from _common import markdown_table, median_seconds, process_environment, run_quietly

from lightsplit import load_split, split_folds, split_sha256
from lightsplit._cli import main
from lightsplit._entries import EntryFields, compile_group_pattern, index_split
from lightsplit._hashing import text_sha256
from lightsplit._report import summarize_split
from lightsplit._split import read_file, read_split

PATIENTS = 30_000
PATTERN = r"images/(\d{8})_"
PREVALENCE: tuple[float, ...] = (0.1, 0.02, 0.04, 0.18, 0.05, 0.06, 0.01, 0.05)
PREVALENCE += (0.03, 0.02, 0.02, 0.015, 0.03, 0.002, 0.5)
"""Of each of 15 findings, near NIH's (the last is "no finding")."""


def samples(entries: int, *, multi: bool, seed: int = 0) -> list[list[object]]:
    """Return the entries of ``PATIENTS`` patients, some with many images."""
    rng = random.Random(seed)
    counts = [1] * PATIENTS
    for _ in range(entries - PATIENTS):
        counts[min(int(rng.expovariate(1 / 3000)), PATIENTS - 1)] += 1
    found: list[list[object]] = []
    for patient, count in enumerate(counts, start=1):
        for image in range(count):
            path = f"images/{patient:08d}_{image:03d}.png"
            label: object = (
                [int(rng.random() < p) for p in PREVALENCE]
                if multi
                else int(rng.random() < 0.3)  # 30% positive
            )
            found.append([path, label])
    return found


def by_patient(entries: list[list[object]]) -> dict[str, list[list[object]]]:
    """Split entries 70/15/15 by a hash of the patient, without leaks."""
    sets: dict[str, list[list[object]]] = {"train": [], "validation": [], "test": []}
    for entry in entries:
        bucket = int(str(entry[0])[7:15]) * 2654435761 % 100
        name = "train" if bucket < 70 else "validation" if bucket < 85 else "test"
        sets[name].append(entry)
    return sets


FRESH: Final = """
import contextlib, gc, hashlib, io, json, re, statistics, sys, time
from collections import Counter
from itertools import chain, compress
from operator import itemgetter
from lightsplit._cli import main
path, repeats, argvs = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
pattern = sys.argv[5] if len(sys.argv) > 5 else None
def load():
    with open(path) as stream:
        json.load(stream)
def command(argv):
    with contextlib.redirect_stdout(io.StringIO()):
        main(argv)
def floor():
    gc.disable()
    try:
        with open(path, "rb") as stream:
            data = stream.read()
        split = json.loads(data)
        hashlib.sha256(data.translate(None, b" \\t\\n\\r")).hexdigest()
        paths, groups, span = set(), [], None
        for entries in filter(None, split.values()):
            named = list(map(itemgetter(0), entries))
            "//" in "\\n".join(named)
            second = list(map(itemgetter(1), entries))
            lists = isinstance(second[0], list)
            if lists and isinstance(next(chain(*second), None), int):
                [sum(column) for column in zip(*second)]  # multi-hot: each class
            elif lists:
                Counter(chain.from_iterable(second))  # names of findings
            elif isinstance(second[0], str):
                "\\n".join(second).count(".png\\n")  # a mask each
            else:
                Counter(second)
            paths.update(named)
            if pattern is not None:
                span = span or re.search(pattern, named[0]).span(1)
                groups.append(list(map(itemgetter(slice(*span)), named)))
        found = list(map(frozenset, groups))
        leaking = set().union(
            *(a & b for i, a in enumerate(found) for b in found[i + 1 :])
        )
        if leaking:  # in the order the split first lists them
            listed = list(chain.from_iterable(groups))
            dict.fromkeys(compress(listed, map(leaking.__contains__, listed)))
        del split
    finally:
        gc.enable()
runs = [load] + [lambda argv=argv: command(argv) for argv in argvs]
if len(sys.argv) > 4:
    runs.append(floor)
for run in runs:
    run()
times = [[] for _ in runs]
for _ in range(repeats):
    for run, timings in zip(runs, times):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
print(json.dumps([statistics.median(timings) for timings in times]))
"""
"""Time ``json.load`` of a file and commands, side by side, in a new interpreter.

The interpreter imports what the ``lightsplit`` command imports, nothing more:
``json.load`` costs what it costs a user's script (in a process holding many
objects, the cyclic garbage collector makes it up to twice as slow, which
would flatter the commands, which pause that collector).

With a fifth argument, it also times the *floor*: the least that any check in
Python does on a file of arrays with the path first, one C-level pass per step
and nothing else. It parses the file with the collector paused, as lightsplit
does, and takes its content hash the cheapest way (the text's whitespace
dropped, as lightsplit does where the entries allow); then per set lists the
paths and searches them once (for paths to normalise), counts the second items
(the labels, each class of multi-hot ones, or the masks' suffixes), collects
the paths for duplicates, and, given a pattern (a sixth argument), cuts each
patient out of its path at the place the pattern finds in the first path (no
pattern searched); it finds the patients shared by two sets and lists them in
the order the split first names them. There is no validation and no report.
"""


def fresh_seconds(
    path: Path,
    argvs: list[list[str]],
    repeats: int,
    *,
    floor: bool = False,
    pattern: str | None = None,
) -> list[float]:
    """Return the median times of json.load of ``path`` and of each command.

    With ``floor``, the time of the floor (see `FRESH`), its patients cut where
    ``pattern`` finds them, comes last.
    """
    found = subprocess.run(
        [sys.executable, "-c", FRESH, str(path), str(repeats), json.dumps(argvs)]
        + (["floor"] if floor else [])
        + ([pattern] if floor and pattern is not None else []),
        check=True,
        capture_output=True,
        text=True,
    )
    times: list[float] = json.loads(found.stdout)
    return times


def quietly(argv: list[str]) -> None:
    """Run the command line in process, its output discarded; it must succeed."""
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    if status != 0:
        msg = f"lightsplit {' '.join(argv)} exited with status {status}"
        raise RuntimeError(msg)


LOAD: Final = (
    "import json, sys\nwith open(sys.argv[1]) as stream:\n    json.load(stream)"
)
"""A script that reads a JSON file: the baseline of the commands in new processes."""


def process_seconds(
    path: Path, argvs: list[list[str]], repeats: int, bytecode: Path
) -> list[float]:
    """Return median times of new processes: json.load of ``path``, each command.

    Start-up included, as a user waits for them: ``python -c`` loading the
    file, then ``lightsplit`` with each of ``argvs`` (its console script), with
    the modules' bytecode cached as an installed package has it.
    """
    env = process_environment(bytecode)
    script = str(Path(sys.executable).parent / "lightsplit")
    lines = [[sys.executable, "-c", LOAD, str(path)]]
    lines += [[script, *argv] for argv in argvs]
    runs: list[Callable[[], object]] = [
        partial(run_quietly, line, env, statuses=(0, 1))  # 1: problems found
        for line in lines
    ]
    return median_seconds(runs, repeats)


def sklearn_folds(entries: list[list[object]]) -> None:
    """Deal the entries into 5 folds with scikit-learn's StratifiedGroupKFold."""
    model_selection = importlib.import_module("sklearn.model_selection")
    labels = [entry[1] for entry in entries]
    groups = [str(entry[0])[7:15] for entry in entries]
    splitter = model_selection.StratifiedGroupKFold(5, shuffle=True, random_state=0)
    for _ in splitter.split(labels, labels, groups):
        pass


def workload(
    folder: Path, entries: int, *, multi: bool, repeats: int
) -> list[list[str]]:
    """Time one workload; return its table rows."""
    found = samples(entries, multi=multi)
    samples_path = folder / "samples.json"
    samples_path.write_text(json.dumps(found))
    split_path = folder / "split.json"
    split_path.write_text(json.dumps(by_patient(found)))
    output = folder / "folds"
    check = ["check", str(split_path), "--group-pattern", PATTERN]
    card = ["card", str(split_path), "--group-pattern", PATTERN]
    split = ["split", str(samples_path), "--folds", "5", "--group-pattern", PATTERN]
    split += ["-o", str(output)]
    base, checked, carded, floor = fresh_seconds(
        split_path, [check, card], repeats, floor=True, pattern=PATTERN
    )
    started, *in_processes = process_seconds(
        split_path, [check, card, split], repeats, folder.parent / "bytecode"
    )
    checked_apart, carded_apart, made_apart = in_processes
    runs: list[Callable[[], object]] = [
        partial(quietly, split),
        partial(split_folds, found, folds=5, group_pattern=PATTERN),
    ]
    made, folds = median_seconds(runs, repeats)

    fields = EntryFields(group_pattern=compile_group_pattern(PATTERN))
    loaded, text = read_split(split_path)
    # the hash as `check` takes it: read from the text where the entries allow
    from_text = all(f.pairs for f in index_split(loaded, EntryFields()).values())
    parts: list[Callable[[], object]] = [
        partial(read_split, split_path),
        partial(text_sha256, text, loaded)
        if from_text
        else partial(split_sha256, loaded),
        partial(summarize_split, loaded, source="split.json", fields=fields, text=text),
    ]
    loading, hashing, summary = median_seconds(parts, repeats)
    hashed = "read from the text" if from_text else "serialized"

    def row(name: str, seconds: float, target: str = "") -> list[str]:
        return [name, f"{seconds:#.3g}", f"{seconds / base:.2f}x", target]

    def process_row(name: str, seconds: float, started: float) -> list[str]:
        return [name, f"{seconds:#.3g}", f"{seconds / started:.2f}x (new process)", ""]

    kind = "15 multi-hot labels" if multi else "binary labels"
    size = split_path.stat().st_size / 1024
    rows = [
        row(f"json.load of split.json ({size:,.0f} KiB, {kind}; fresh)", base),
        process_row(
            "json.load of split.json, new process (python -c)", started, started
        ),
        row("check --group-pattern, in process (fresh)", checked, "<= 2x json.load"),
        row(
            "  floor: parse, hash, one pass per step, in Python (fresh; see FRESH)",
            floor,
        ),
        row("  of which reading it (load_split)", loading),
        row("  of which summarize_split (hash, counts, leaks, groups)", summary),
        row(f"    of which the content hash ({hashed})", hashing),
        process_row("check --group-pattern, new process", checked_apart, started),
        row("card --group-pattern, in process (fresh)", carded, "<= 2x json.load"),
        process_row("card --group-pattern, new process", carded_apart, started),
        row("split --folds 5, grouped, in process", made, "<= 5 s"),
        row("  split_folds alone (no files)", folds),
        row("split --folds 5, grouped, new process", made_apart, "<= 5 s"),
    ]
    if not multi:
        [sklearn] = median_seconds(
            [partial(sklearn_folds, found)], max(1, repeats // 3)
        )
        rows.append(row("StratifiedGroupKFold(5), scikit-learn", sklearn))
    return rows


def real_file(
    folder: Path, source: Path, pattern: str | None, *, repeats: int
) -> list[list[str]]:
    """Time ``check`` and ``card`` on a real split file; return table rows."""
    path = folder / source.name.removesuffix(".bz2")
    path.write_bytes(read_file(source))
    grouped = [] if pattern is None else ["--group-pattern", pattern]
    check = ["check", str(path), *grouped]
    card = ["card", str(path), *grouped]

    base, checking, carding, floor = fresh_seconds(
        path, [check, card], repeats, floor=True, pattern=pattern
    )
    started, checked_apart, carded_apart = process_seconds(
        path, [check, card], repeats, folder / "bytecode"
    )
    entries = sum(map(len, load_split(path).values()))
    grouping = " --group-pattern" if pattern else ""
    size = path.stat().st_size / 1024
    name = f"{source.parent.name}/{source.name} ({entries:,} entries, {size:,.0f} KiB)"
    return [
        [f"json.load of {name}, fresh", f"{base:#.3g}", "1.00x", ""],
        [
            f"  check{' --group-pattern' if pattern else ''}, in process (fresh)",
            f"{checking:#.3g}",
            f"{checking / base:.2f}x",
            "<= 2x json.load",
        ],
        [
            "    floor: parse, hash, one pass per step, in Python (fresh)",
            f"{floor:#.3g}",
            f"{floor / base:.2f}x",
            "",
        ],
        [
            f"  card{' --group-pattern' if pattern else ''}, in process (fresh)",
            f"{carding:#.3g}",
            f"{carding / base:.2f}x",
            "<= 2x json.load",
        ],
        [
            "  json.load, new process (python -c)",
            f"{started:#.3g}",
            "1.00x (new process)",
            "",
        ],
        [
            f"  check{grouping}, new process",
            f"{checked_apart:#.3g}",
            f"{checked_apart / started:.2f}x (new process)",
            "",
        ],
        [
            f"  card{grouping}, new process",
            f"{carded_apart:#.3g}",
            f"{carded_apart / started:.2f}x (new process)",
            "",
        ],
    ]


def main_benchmark() -> None:
    """Write the workloads, time them and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=112_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--file",
        action="append",
        nargs="+",
        default=[],
        metavar="SPLIT [PATTERN]",
        help="also time a real split file, grouped by PATTERN if given",
    )
    args = parser.parse_args()
    for given in args.file:
        if len(given) > 2:
            parser.error(f"--file takes a split file and a pattern, got {given}")
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for multi in (False, True):
            folder = Path(tmp, "multi" if multi else "binary")
            folder.mkdir()
            rows += workload(folder, args.entries, multi=multi, repeats=args.repeats)
        for source, *pattern in args.file:
            rows += real_file(
                Path(tmp), Path(source), next(iter(pattern), None), repeats=args.repeats
            )
    print(
        f"{args.entries:,} entries of {PATIENTS:,} patients; medians of "
        f"{args.repeats} rounds after one warm-up; new processes with bytecode cached\n"
    )
    header = ["run", "seconds", "ratio to json.load", "target"]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main_benchmark()
