"""The catalogue of bad inputs: one row per case, each the files it writes, the command, the exit code
and the words the message must hold. Every case runs the real command line (in this process, for
speed) and must end with its exit code, one clear message and no traceback. The README lists the cases.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SEED_TEXT, two_party

from sim.cli import main
from sim.scenario.limits import MAX_ACTORS, MAX_FILE_BYTES, MAX_ISSUES, MAX_RUNS


@dataclass
class Case:
    """A bad input: ``files`` to write (name -> text, bytes, or a scenario mapping), the command's
    arguments, the exit code and the words its message must hold."""

    name: str
    args: list[str]
    code: int
    words: list[str]
    files: dict[str, Any] = field(default_factory=dict)


def changed(edit: Callable[[dict], None], **top: Any) -> dict:
    data = two_party(**top)
    edit(data)
    return data


def port_of_alpha(data: dict) -> dict:
    return data["actors"]["alpha"]["preferences"]["port"]


def rename(section: str, old: str, new: str) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        data[section][new] = data[section].pop(old)

    return edit


def many_actors(count: int) -> dict:
    data = two_party()
    for k in range(count - len(data["actors"])):
        data["actors"][f"extra_{k}"] = {"label": f"Extra {k}", "role": "stakeholder", "capability": 0.1,
                                        "outside_option": {"value": 0.3, "label": "o"},
                                        "preferences": {"port": {"ideal": 50, "salience": 1}}}  # fmt: skip
    return data


def many_issues(count: int) -> dict:
    data = two_party()
    for k in range(count - len(data["issues"])):
        data["issues"][f"extra_{k}"] = {"label": f"Extra {k}", "unit": "u", "range": [0, 1]}
    return data


def big_scenario() -> dict:
    """The largest scenario allowed: its chunks must be small."""
    data = many_issues(MAX_ISSUES)
    names = list(data["issues"])
    preferences = {n: {"ideal": 0.5, "salience": 1} for n in names[2:]}
    for k in range(MAX_ACTORS - 3):
        data["actors"][f"extra_{k}"] = {"label": f"Extra {k}", "role": "stakeholder", "capability": 0.1,
                                        "outside_option": {"value": 0.3, "label": "o"},
                                        "preferences": copy.deepcopy(preferences)}  # fmt: skip
    return data


BOMB = (
    "a: &a ["
    + ",".join(["lol"] * 9)
    + "]\n"
    + "".join(f"{b}: &{b} [" + ",".join([f"*{a}"] * 9) + "]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))
)
VALID = two_party()
MERGED = (
    yaml.safe_dump({k: v for k, v in VALID.items() if k != "issues"})
    + """issues:
  port: &port {label: Port access, unit: level, range: [0, 100], points: {0: none, 100: full}}
  money:
    <<: *port
    label: Aid
    unit: USD bn
    range: [0, 10]
    points: {}
"""
)
BAD_KTAB = "Scenario,Test\nActor,Description,Power,Position,Salience\nA,a,not-a-number,50,0.5\n"

# fmt: off
CASES = [
    # -- the file itself
    Case("empty file", ["validate", "s.yaml"], 2, ["s.yaml", "empty"], {"s.yaml": ""}),
    Case("only comments", ["validate", "s.yaml"], 2, ["empty"], {"s.yaml": "# nothing\n"}),
    Case("a list, not a mapping", ["validate", "s.yaml"], 2, ["must be a YAML mapping"], {"s.yaml": "- a\n- b\n"}),
    Case("UTF-8 byte-order mark (accepted)", ["validate", "s.yaml"], 0, ["valid"],
         {"s.yaml": b"\xef\xbb\xbf" + yaml.safe_dump(VALID).encode()}),
    Case("tabs for indentation", ["validate", "s.yaml"], 2, ["s.yaml:2", "never tabs"],
         {"s.yaml": "name: toy\n\tquestion: q\n"}),
    Case("duplicate keys", ["validate", "s.yaml"], 2, ["duplicate key", "first at line 1"],
         {"s.yaml": "name: toy\nname: other\n"}),
    Case("non-UTF-8 bytes", ["validate", "s.yaml"], 2, ["s.yaml:2", "not UTF-8"], {"s.yaml": b"name: toy\nq: \xff\n"}),
    Case("a Python tag (code in YAML)", ["validate", "s.yaml"], 2, ["s.yaml:2", "invalid YAML"],
         {"s.yaml": "name: toy\nquestion: !!python/object/apply:os.system ['touch hacked']\n"}),
    Case("invalid YAML", ["validate", "s.yaml"], 2, ["s.yaml:2", "invalid YAML"], {"s.yaml": "name: [toy\n"}),
    Case("no such file", ["validate", "missing.yaml"], 2, ["missing.yaml", "file not found"]),
    Case("a folder, not a file", ["validate", "folder"], 2, ["is a folder"], {"folder/x.txt": "x"}),
    Case("a device, not a file", ["validate", "/dev/zero"], 2, ["not a regular file"]),
    Case("YAML merge keys (accepted)", ["validate", "s.yaml"], 0, ["valid"], {"s.yaml": MERGED}),
    Case("alias bomb", ["validate", "s.yaml"], 2, ["anchors and aliases", "200,000"], {"s.yaml": BOMB}),
    Case("file over the size limit", ["validate", "s.yaml"], 2, ["limit of", f"{MAX_FILE_BYTES:,}"],
         {"s.yaml": "# " + "x" * (50 * 2**20) + "\nname: toy\n"}),
    # -- numbers
    Case("NaN", ["validate", "s.yaml"], 2, ["actors.alpha.capability", "finite"],
         {"s.yaml": changed(lambda d: d["actors"]["alpha"].update(capability=float("nan")))}),
    Case("infinity", ["validate", "s.yaml"], 2, ["salience", "finite"],
         {"s.yaml": changed(lambda d: port_of_alpha(d).update(salience=float("inf")))}),
    Case("minus infinity in a range", ["validate", "s.yaml"], 2, ["issues.money.range", "finite"],
         {"s.yaml": changed(lambda d: d["issues"]["money"].update(range=[float("-inf"), 10]))}),
    Case("NaN through --set", ["validate", "s.yaml", "--set", "actors.alpha.risk=.nan"], 2, ["--set", "finite"],
         {"s.yaml": VALID}),
    Case("float where an integer is needed", ["validate", "s.yaml"], 2, ["protocol.horizon", "integer"],
         {"s.yaml": changed(lambda d: d.update(protocol={"horizon": 52.5}))}),
    Case("text where a number is needed", ["validate", "s.yaml"], 2, ["actors.alpha.capability", "number"],
         {"s.yaml": changed(lambda d: d["actors"]["alpha"].update(capability="0.5"))}),
    Case("ideal outside the issue's range", ["validate", "s.yaml"], 2, ["actors.alpha.preferences.port.ideal"],
         {"s.yaml": changed(lambda d: port_of_alpha(d).update(ideal=150))}),
    Case("distribution with low above high", ["validate", "s.yaml"], 2, ["actors.alpha.patience"],
         {"s.yaml": changed(lambda d: d["actors"]["alpha"].update(patience={"dist": "uniform", "low": 0.99,
                                                                             "high": 0.9}))}),
    # -- names
    Case("actor name with a space", ["validate", "s.yaml"], 2, ["actors.the alpha", "lower_snake_case"],
         {"s.yaml": changed(rename("actors", "alpha", "the alpha"))}),
    Case("actor name in unicode", ["validate", "s.yaml"], 2, ["lower_snake_case"],
         {"s.yaml": changed(rename("actors", "alpha", "türkiye"))}),
    Case("actor name with markup", ["validate", "s.yaml"], 2, ["lower_snake_case"],
         {"s.yaml": changed(rename("actors", "alpha", "<script>alert(1)</script>"))}),
    Case("issue name with a space", ["validate", "s.yaml"], 2, ["issues.port access", "lower_snake_case"],
         {"s.yaml": changed(rename("issues", "port", "port access"))}),
    Case("unknown key", ["validate", "s.yaml"], 2, ["actors.alpha.capabilty", "did you mean"],
         {"s.yaml": changed(lambda d: d["actors"]["alpha"].update(capabilty=0.5))}),
    Case("reference to an unknown actor", ["validate", "s.yaml"], 2, ["delta"],
         {"s.yaml": changed(lambda d: d.update(events={"shock": {"label": "A shock", "hazard": 0.1, "effects": [
             {"field": "actors.delta.capability", "op": "add", "value": 0.1}]}}))}),
    Case("quote not in the seed text", ["validate", "s.yaml"], 2, ["source", "not found"],
         {"s.yaml": changed(lambda d: port_of_alpha(d).update(source="Alpha hates ports."))}),
    # -- extends
    Case("extends a web address", ["validate", "s.yaml"], 2, ["extends", "not an address"],
         {"s.yaml": {"extends": "https://example.org/base.yaml", "name": "x"}}),
    Case("extends outside the scenario's folder", ["validate", "sub/s.yaml"], 2, ["outside the folder"],
         {"base.yaml": VALID, "sub/s.yaml": {"extends": "../base.yaml"}}),
    Case("extends a missing file", ["validate", "s.yaml"], 2, ["extended file not found"],
         {"s.yaml": {"extends": "nothere.yaml"}}),
    Case("extends cycle", ["validate", "s.yaml"], 2, ["extends cycle"],
         {"s.yaml": {"extends": "t.yaml"}, "t.yaml": {"extends": "s.yaml"}}),
    # -- limits
    Case("too many actors", ["validate", "s.yaml"], 2, ["actors", f"limit is {MAX_ACTORS}"],
         {"s.yaml": many_actors(MAX_ACTORS + 1)}),
    Case("too many issues", ["validate", "s.yaml"], 2, ["issues", f"limit is {MAX_ISSUES}"],
         {"s.yaml": many_issues(MAX_ISSUES + 1)}),
    Case("too many rounds", ["validate", "s.yaml"], 2, ["protocol.horizon", "limit on rounds"],
         {"s.yaml": changed(lambda d: d.update(protocol={"horizon": 20_000}))}),
    Case("too many runs", ["run", "s.yaml", "-n", str(MAX_RUNS + 1)], 2, ["--runs", "limit is"], {"s.yaml": VALID}),
    Case("chunks too big for a big scenario", ["run", "s.yaml", "-n", "10", "--chunk-size", "5000"], 2,
         ["--chunk-size", "at most 1,000 runs"], {"s.yaml": big_scenario()}),
    Case("a trace too big to write", ["run", "s.yaml", "-n", "10000000", "--trace"], 2, ["--trace-runs", "limit"],
         {"s.yaml": VALID}),
    # -- overrides and options
    Case("--set without =", ["validate", "s.yaml", "--set", "actors.alpha.risk"], 2, ["--set", "dotted.path=value"],
         {"s.yaml": VALID}),
    Case("--set value nested too deeply", ["validate", "s.yaml", "--set", "description=" + "[" * 3000], 2,
         ["--set", "nested too deeply"], {"s.yaml": VALID}),
    Case("--set unknown path", ["validate", "s.yaml", "--set", "actors.alfa.risk=0.5"], 2, ["alfa", "did you mean"],
         {"s.yaml": VALID}),
    Case("zero runs", ["run", "s.yaml", "-n", "0"], 2, ["--runs"], {"s.yaml": VALID}),
    Case("bad --trace-runs", ["run", "s.yaml", "-n", "10", "--trace-runs", "5:2"], 2, ["--trace-runs"],
         {"s.yaml": VALID}),
    Case("--out exists", ["run", "s.yaml", "-n", "10", "--out", "taken"], 2, ["already exists"],
         {"s.yaml": VALID, "taken/x": "x"}),
    Case("--resume of no folder", ["run", "--resume", "nowhere"], 2, ["nowhere"]),
    Case("--resume with a plan", ["run", "--resume", "done", "-n", "5"], 2, ["takes its plan from the manifest"]),
    Case("--resume of a complete run", ["run", "--resume", "done"], 2, ["nothing to resume"]),
    Case("--resume with a damaged chunk file", ["run", "--resume", "broken"], 2, ["runs-000000000000.parquet",
         "damaged", "delete it"]),
    # -- sweeps
    Case("sweep: unknown path", ["sweep", "s.yaml", "--vary", "actors.alfa.risk=0:1:3"], 2, ["did you mean"],
         {"s.yaml": VALID}),
    Case("sweep: range of one point", ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0:1:1"], 2,
         ["at least 2 values"], {"s.yaml": VALID}),
    Case("sweep: lo above hi", ["sweep", "s.yaml", "--vary", "actors.alpha.risk=1:0:3"], 2, ["must be below"],
         {"s.yaml": VALID}),
    Case("sweep: value outside the schema", ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0.5,7"], 2,
         ["point", "actors.alpha.risk"], {"s.yaml": VALID}),
    Case("sweep: Sobol samples not a power of two",
         ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0:1:3", "--design", "sobol", "--samples", "6"], 2,
         ["power of two"], {"s.yaml": VALID}),
    Case("sweep: empty list in a sweep file", ["sweep", "w.yaml"], 2, ["empty"],
         {"s.yaml": VALID, "w.yaml": {"scenario": "s.yaml", "vary": {"actors.alpha.risk": {"values": []}}}}),
    Case("sweep: too many points", ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0:1:200", "--vary",
         "actors.beta.risk=0:1:200"], 2, ["40,000 points", "limit is 20,000"], {"s.yaml": VALID}),
    Case("sweep: unreachable scheduler",
         ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0:1:2", "-n", "5", "--scheduler", "tcp://127.0.0.1:9"], 2,
         ["--scheduler", "cannot reach"], {"s.yaml": VALID}),
    # -- results folders
    Case("verify: not a folder", ["verify", "nowhere"], 2, ["no such folder"]),
    Case("verify: a changed file", ["verify", "tampered"], 2, ["fails verification", "runs.parquet"]),
    Case("replay: a changed file", ["replay", "tampered", "--run", "0"], 2, ["fails verification"]),
    Case("replay: run out of range", ["replay", "done", "--run", "99"], 2, ["holds runs 0 to"]),
    Case("compare: a changed file", ["compare", "tampered", "--out", "c.html"], 2, ["fails verification"]),
    Case("compare: not a results folder", ["compare", "folder", "--out", "c.html"], 2, ["not a results folder"],
         {"folder/x.txt": "x"}),
    Case("compare: an incomplete run", ["compare", "half", "--out", "c.html"], 2, ["--resume"]),
    Case("compare: a manifest that is not an object", ["compare", "folder", "--out", "c.html"], 2,
         ["not a manifest"], {"folder/manifest.json": "[1, 2]"}),
    Case("compare: --png names a file", ["compare", "done", "--out", "c.html", "--png", "seed.txt"], 2,
         ["is a file"]),
    Case("compare: not a scenario", ["compare", "seed.txt", "--out", "c.html"], 2, ["neither a scenario file"]),
    # -- imports
    Case("import: unknown format", ["import", "xml", "k.csv", "-o", "out.yaml"], 2, ["unknown format"],
         {"k.csv": BAD_KTAB}),
    Case("import: a number that is not one", ["import", "ktab", "k.csv", "-o", "out.yaml"], 2, ["k.csv:"],
         {"k.csv": BAD_KTAB}),
]
# fmt: on


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A complete run, a tampered copy and an incomplete copy, made once."""
    folder = tmp_path_factory.mktemp("finished")
    (folder / "seed.txt").write_text(SEED_TEXT)
    (folder / "s.yaml").write_text(yaml.safe_dump(VALID))
    code, _, err = invoke(["run", "s.yaml", "-n", "40", "-q", "--workers", "1", "--out", "done"], folder)
    assert code == 0, err
    shutil.copytree(folder / "done", folder / "tampered")
    runs = folder / "tampered" / "runs.parquet"
    runs.write_bytes(runs.read_bytes()[:-1] + b"\0")
    manifest = json.loads((folder / "done" / "manifest.json").read_text())
    for name in ("half", "broken"):
        shutil.copytree(folder / "done", folder / name)
        (folder / name / "manifest.json").write_text(json.dumps({**manifest, "status": "incomplete"}))
    (folder / "broken" / ".chunks").mkdir()
    (folder / "broken" / ".chunks" / "runs-000000000000.parquet").write_bytes(b"PAR1 not a table")
    return folder


def invoke(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run the command line in this process; (exit code, stdout, stderr)."""
    import contextlib
    import io
    import os

    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            old_argv, sys.argv = sys.argv, ["basing", *args]
            try:
                main()
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            finally:
                sys.argv = old_argv
    finally:
        os.chdir(previous)
    return code, out.getvalue(), err.getvalue()


def write(folder: Path, files: dict[str, Any]) -> None:
    (folder / "seed.txt").write_text(SEED_TEXT)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, dict):
            path.write_text(yaml.safe_dump(copy.deepcopy(content), allow_unicode=True), encoding="utf-8")
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, finished: Path):
    for name in ("done", "tampered", "half", "broken"):
        shutil.copytree(finished / name, tmp_path / name)
    write(tmp_path, case.files)
    code, out, err = invoke(case.args, tmp_path)
    message = " ".join((err + out).split())
    assert code == case.code, message
    for word in case.words:
        assert word in message, f"{word!r} not in: {message}"
    assert "Traceback" not in message and "internal error" not in message
    if case.code == 2:
        assert message.startswith("error:") or "Usage:" in message or "Invalid value" in message, message


def test_the_readme_lists_the_catalogue():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Limits and guarantees", 1)[1].split("\n## ", 1)[0]
    assert f"{len(CASES)} cases" in section
    missing = [case.name for case in CASES if case.name not in section]
    assert not missing, f"README's catalogue lacks: {missing}"


def test_a_dask_address_in_the_environment_is_never_used(tmp_path):
    """Only --scheduler or --dask-local reach Dask; a sweep without them runs on the local pool even when
    the environment names a (here unreachable) scheduler."""
    import os
    import subprocess

    write(tmp_path, {"s.yaml": VALID})
    env = {**os.environ, "DASK_SCHEDULER_ADDRESS": "tcp://127.0.0.1:9", "DASK_SCHEDULER__ADDRESS": "tcp://127.0.0.1:9"}
    args = ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0.2,0.8", "-n", "20", "-q", "--workers", "1", "--out"]
    args.append("local")
    done = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "local" / "manifest.json").read_text())["status"] == "complete"


def test_the_python_tag_ran_nothing(tmp_path):
    write(tmp_path, {"s.yaml": "name: toy\nquestion: !!python/object/apply:os.system ['touch hacked']\n"})
    invoke(["validate", "s.yaml"], tmp_path)
    assert not (tmp_path / "hacked").exists()


def test_the_readme_states_the_limits_the_code_enforces():
    from conftest import ROOT

    from sim.scenario import limits

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Limits and guarantees", 1)[1].split("\n## ", 1)[0]
    stated = [f"{limits.MAX_FILE_BYTES:,} bytes", f"| {limits.MAX_YAML_NODES:,} |",
              f"{limits.MAX_ACTORS} / {limits.MAX_ISSUES} / {limits.MAX_EVENTS} / {limits.MAX_OUTCOMES}",
              f"| {limits.MAX_HORIZON:,} |", f"| {limits.MAX_RUNS:,} |", f"| {limits.MAX_SWEEP_RUNS:,} |",
              f"| {limits.MAX_SWEEP_POINTS:,} |",
              f"| {limits.MAX_TRACE_ROWS:,} |", f"{limits.CHUNK_CELLS:,} ÷"]  # fmt: skip
    assert [s for s in stated if s not in section] == []
