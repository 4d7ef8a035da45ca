"""Bad input to every command that reads a file or writes one (issue 8, item 1).

Each case runs the real command line in a subprocess and must exit 2 with exactly one line on
stderr, naming the file (or option) and what is wrong, with no traceback, and must write or change
nothing: the case's working directory (its output directories, its copies of inputs) and the corpus
are snapshotted (names, sizes, mtimes, directories included) before and after.

The corpus is tests/data/bad/, one file per fault; faults that are arguments rather than files (a
directory or a missing file where a file is expected, unusable output paths, existing outputs) are
entries of the tables below. The cases run a few at a time (each in its own working directory)
so that the whole corpus takes seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"
INPUTS = (BAD, ROOT / "scenarios", ROOT / "tests" / "data" / "sweeps")
PLACES = {
    "bad": str(BAD),
    "baseline": str(ROOT / "scenarios" / "baseline.toml"),
    "tiny": str(ROOT / "tests" / "data" / "valid_small.toml"),  # a valid scenario named "tiny"
    "sweep": str(ROOT / "tests" / "data" / "sweeps" / "small_lhs.toml"),
}
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # root writes into read-only directories


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]  # after `sim`; {bad} {baseline} {tiny} {sweep} {work} {result} are filled in
    names: str  # the file or option the line must name
    says: str  # what the line must say is wrong (and what is allowed)
    setup: tuple[str, ...] = ()  # paths made in the working directory first: "x/" a directory, "x" a file
    unprivileged: bool = field(default=False)  # a read-only directory: meaningless as root


# Scenario files of the corpus: what the one line says (and the file it names, when not this one).
SCENARIO_FAULTS = {
    "malformed.toml": ("malformed TOML", None),
    "binary.toml": ("is not a text TOML file", None),
    "unknown_key.toml": ("unknown key (did you mean 'seeds'?); allowed: name,", None),
    "unknown_parameter.toml": ("unknown parameter 'share_selection_strenght' (did you mean 'share_selection_strength'?)", None),
    "unknown_lever.toml": ("unknown lever (did you mean 'digital_subsidy'?); allowed: digital_subsidy,", None),
    "unknown_industry.toml": ("unknown industry 'steal' (did you mean 'steel'?); allowed:", None),
    "unknown_region.toml": ("unknown region 'centre' (did you mean 'central'?); allowed: east,", None),
    "unknown_macro.toml": ("unknown macro path (did you mean 'rest_real_growth'?); allowed:", None),
    "bad_name.toml": ("name: '../escaped': must be letters, digits, '_', '-' or '.'", None),
    "wrong_type.toml": ("must be a number", None),
    "wrong_type_lever.toml": ("intensity: must be a number", None),
    "wrong_type_seeds.toml": ("seeds: must be a whole number", None),
    "out_of_bounds.toml": ("99.0 is out of bounds: allowed 0.0 to 8.0", None),
    "out_of_bounds_lever.toml": ("7.0 is out of bounds: allowed 0 to 0.9", None),
    "out_of_bounds_scale.toml": ("scale: 0.0 is out of bounds: allowed 0.005 to 1 (below 0.005 a run's 2012 state drifts", None),
    "inverted_years.toml": ("start_year 2030 is after end_year 2025", None),
    "inverted_macro_years.toml": ("range starts after it ends (2030 > 2026)", None),
    "macro_out_of_range.toml": ("macro.rest_real_growth.2023-2035: 50.0 is out of bounds: allowed -20 to 20 % per year", None),
    "missing_extends.toml": ("extends: scenario file 'no_such_file.toml' does not exist", None),
    "extends_directory.toml": ("extends: '.' is a directory; expected a scenario .toml file", None),
    "extends_bad_file.toml": ("unknown parameter 'share_selection_strenght'", "unknown_parameter.toml"),
    "circular_a.toml": ("circular extends: circular_a.toml -> circular_b.toml -> circular_a.toml", "circular_b.toml"),
}
SCENARIO_ARGUMENTS = {  # not files of the corpus: a directory, a missing file
    "directory": ("{bad}", "is a directory, expected a scenario .toml file", "bad"),
    "missing": ("{work}/no_such.toml", "no such scenario file", "no_such.toml"),
}
RESULT_FAULTS = {  # result files of the corpus, and the commands given them (both read them with sim.results)
    "truncated.nc": ("not a readable NetCDF result (truncated or another format; expected a .nc file written by `sim run`)",
                     ("plot", "report")),
    "foreign.nc": ("not a sim result: lacks the dimension(s) run, year", ("plot", "report")),
    "netcdf3.nc": ("not a readable NetCDF result", ("plot",)),
    "empty.nc": ("not a readable NetCDF result", ("report",)),
    "text.nc": ("not a readable NetCDF result", ("plot",)),
}
# check meets every scenario fault; run and compare read scenarios with the same loader, so a sample
# of the faults shows that they stop before any work and write nothing.
SAMPLED = {
    "run": ("malformed.toml", "unknown_parameter.toml", "circular_a.toml", "bad_name.toml", "directory"),
    "compare": ("binary.toml", "unknown_lever.toml", "missing"),
}
SWEEP_FAULTS = {
    "sweep_zero_width.toml": ("inputs.markup.bounds: zero-width bounds [0.2, 0.2]: lower must lie below upper (declared range", None),
    "sweep_out_of_bounds.toml": ("99.0 is out of bounds: allowed 0.0 to 8.0", None),
    "sweep_unknown_input.toml": ("(did you mean 'share_selection_strength'?)", None),
    "sweep_unknown_method.toml": ("unknown method 'moris' (did you mean 'morris'?); allowed: grid,", None),
    "sweep_unknown_variable.toml": ("unknown variable 'manufacturing_vaa' (did you mean 'manufacturing_va'?)", None),
    "sweep_missing_scenario.toml": ("scenario: scenario file 'no_such_scenario.toml' does not exist", None),
    "sweep_bad_scenario.toml": ("unknown parameter 'share_selection_strenght'", "unknown_parameter.toml"),
    "malformed.toml": ("malformed TOML", None),
}
# Unusable output places, the same for every command that writes: (the --out given, what the line names, says).
# (A missing output folder is made, parents too: tests/test_inputs_and_ux.py.)
A_FILE = ("{work}/file", "file", "is a file; expected an output directory")
UNDER_A_FILE = ("{work}/file/out", "file", A_FILE[2])  # fails for root too
READ_ONLY = ("{work}/read_only", "read_only", "output directory is not writable")


def _cases() -> list[Case]:
    cases = []
    for command in ("check", "run", "compare"):
        faults = {name: ("{bad}/" + name, says, named or name) for name, (says, named) in SCENARIO_FAULTS.items()}
        faults.update(SCENARIO_ARGUMENTS)
        for fault, (path, says, named) in faults.items():
            if command in SAMPLED and fault not in SAMPLED[command]:
                continue
            args = {"check": ("check", path), "run": ("run", path, "--out", "{work}/out", "--scale", "0.01"),
                    "compare": ("compare", "{baseline}", path, "--out", "{work}/out")}[command]
            cases.append(Case(f"{command}-{fault}", args, named, says))
    for name, (says, named) in SWEEP_FAULTS.items():
        cases.append(Case(f"sweep-{name}", ("sweep", "{bad}/" + name, "--out", "{work}/out", "--quiet"), named or name, says))
    for name, (says, commands) in RESULT_FAULTS.items():
        if "plot" in commands:
            cases.append(Case(f"plot-{name}", ("plot", "{bad}/" + name, "--out", "{work}/out"), name, says))
        if "report" in commands:
            cases.append(Case(f"report-{name}", ("report", "{bad}/" + name, "-o", "{work}/out/report.html"), name, says))
    for command in ("plot", "report"):
        write = ("--out", "{work}/out") if command == "plot" else ("-o", "{work}/out/report.html")
        cases += [
            Case(f"{command}-directory", (command, "{bad}", *write), "bad", "is not a file (expected a .nc file written by `sim run`)"),
            Case(f"{command}-missing", (command, "{work}/no_such.nc", *write), "no_such.nc", "no such result file"),
        ]

    # Output places, per command that writes (the inputs are valid).
    writers = {
        "run": (("run", "{baseline}", "--scale", "0.01", "--out"), "out/baseline.nc"),
        "compare": (("compare", "{baseline}", "{tiny}", "--out"), "out/compare_baseline_vs_tiny.nc"),
        "plot": (("plot", "{result}", "--vars", "exports", "--out"), "out/result_trade.png"),
        "sweep": (("sweep", "{sweep}", "--quiet", "--out"), "out/small_lhs/parts/part-000000.h5"),
        "calibrate": (("calibrate", "--report", "--seeds", "1", "--out"), "out/calibration_fit.csv"),
    }
    for command, (args, existing) in writers.items():
        for label, (place, named, says) in {"under-a-file": UNDER_A_FILE, "a-file": A_FILE, "read-only": READ_ONLY,
                                            "under-read-only": ("{work}/read_only/new/out", *READ_ONLY[1:])}.items():
            if command not in ("run", "sweep") and label == "a-file":
                continue  # every other writer checks as run does
            cases.append(Case(f"{command}-{label}", (*args, place), named, says, unprivileged="read-only" in label))
        says = "holds an earlier sweep; pass --resume" if command == "sweep" else "already exists; pass --overwrite to replace it"
        named = "out/small_lhs" if command == "sweep" else existing
        cases.append(Case(f"{command}-existing-output", (*args, "{work}/out"), named, says, setup=(existing,)))
    cases += [
        Case("run-output-is-a-directory", ("run", "{baseline}", "--out", "{work}/out", "--overwrite"), "out/baseline.nc",
             "is a directory; expected the name of an output file", setup=("out/baseline.nc/",)),
        Case("report-under-a-file", ("report", "{result}", "-o", "{work}/file/report.html"), "file", A_FILE[2]),
        Case("report-output-is-a-directory", ("report", "{result}", "-o", "{work}/out", "--overwrite"), "out",
             "is a directory; expected the name of an output file"),
        Case("report-read-only", ("report", "{result}", "-o", "{work}/read_only/report.html"), "read_only", READ_ONLY[2],
             unprivileged=True),
        Case("report-existing-output", ("report", "{result}", "-o", "{work}/out/report.html"), "out/report.html",
             "already exists; pass --overwrite", setup=("out/report.html",)),
        Case("report-existing-default-output", ("report", "{result}"), "result_report.html", "already exists; pass --overwrite",
             setup=("result_report.html",)),
        Case("report-same-result-twice", ("report", "{result}", "{result}", "-o", "{work}/out/report.html"), "result.nc",
             "the same result file is given twice"),
        Case("plot-unknown-variable", ("plot", "{result}", "--vars", "export", "--out", "{work}/out"), "--vars",
             "unknown variable 'export' (did you mean 'exports'?); allowed:"),
        Case("compare-one-scenario", ("compare", "{baseline}", "--out", "{work}/out"), "baseline.toml", "needs at least two"),
        Case("compare-same-name-twice", ("compare", "{baseline}", "{baseline}", "--out", "{work}/out"), "baseline.toml",
             "scenario name 'baseline' is given twice"),
        Case("calibrate-zero-seeds", ("calibrate", "--report", "--seeds", "0", "--out", "{work}/out"), "--seeds", "must lie in 1-10000, got 0"),
        Case("calibrate-scale-above-one", ("calibrate", "--report", "--scale", "2", "--out", "{work}/out"), "--scale", "allowed 0.005 to 1"),
        Case("dashboard-scale-zero", ("dashboard", "--scale", "0"), "--scale", "allowed 0.005 to 1"),
        Case("dashboard-port", ("dashboard", "--port", "70000"), "--port", "must lie in 1-65535"),
    ]
    return cases


CASES = _cases()


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory below the roots: (size, mtime in ns); a directory's mtime changes
    when an entry is made or removed, so a temporary file made and removed again shows too."""
    found = {}
    for root in roots:
        for path in (root, *root.rglob("*")):
            stat = path.lstat()
            found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


@dataclass
class Outcome:
    returncode: int
    stderr: str
    before: dict
    after: dict


def prepare(case: Case, work: Path, result: Path) -> list[str]:
    """The case's working directory (out/, a regular file, a read-only folder, its setup) and argv."""
    (work / "out").mkdir(parents=True)
    (work / "file").write_text("a regular file, not a directory\n")
    for entry in case.setup:
        target = work / entry
        if entry.endswith("/"):
            target.mkdir(parents=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"an earlier output\n")
    if case.unprivileged:
        (work / "read_only").mkdir(mode=0o555)
    places = {**PLACES, "work": str(work), "result": str(work / "result.nc")}
    if any("{result}" in a for a in case.args):
        shutil.copy(result, work / "result.nc")
    return [arg.format(**places) for arg in case.args]


def run_case(case: Case, work: Path, result: Path) -> Outcome:
    argv = prepare(case, work, result)
    before = snapshot(work)
    process = subprocess.run([sys.executable, "-m", "sim", *argv], capture_output=True, text=True, cwd=work, timeout=120)
    return Outcome(process.returncode, process.stderr, before, snapshot(work))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, small_result):
    """Every case run once, a few at a time; the corpus and scenarios checked unchanged afterwards."""
    inputs = snapshot(*INPUTS)
    root = tmp_path_factory.mktemp("bad_input")
    runnable = [case for case in CASES if not (case.unprivileged and AS_ROOT)]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {case.id: pool.submit(run_case, case, root / case.id, small_result) for case in runnable}
        results = {name: future.result() for name, future in futures.items()}
    for case in runnable:
        if case.unprivileged:
            (root / case.id / "read_only").chmod(0o755)
    return results, inputs, snapshot(*INPUTS)


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.id, marks=pytest.mark.skipif(c.unprivileged and AS_ROOT, reason="root may write anywhere"))
             for c in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, outcomes):
    results, inputs_before, inputs_after = outcomes
    outcome = results[case.id]
    assert outcome.returncode == 2, outcome.stderr
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in outcome.stderr, outcome.stderr
    assert case.names in lines[0] and case.says in lines[0], lines[0]
    assert outcome.after == outcome.before, "files were written or changed"
    assert inputs_after == inputs_before, "the corpus or the scenarios changed"


def test_every_corpus_file_is_a_case():
    used = {arg.removeprefix("{bad}/") for case in CASES for arg in case.args if arg.startswith("{bad}/")}
    corpus = {path.name for path in BAD.iterdir()} - {"circular_b.toml"}  # reached through circular_a.toml
    assert corpus == used
