"""The catalogue of bad inputs: one row per case, each the files it writes, the command, the exit code
and the words the message must hold. Every case runs the real command line (in this process, for
speed) and must end with its exit code, one clear message, no traceback, no character that acts on a
terminal and, when it refuses (exit code 2), nothing written. The README lists the cases.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from catalogue_support import (
    FIFO,
    VALID,
    Case,
    Link,
    big_scenario,
    changed,
    edit_manifest,
    invoke,
    make_folders,
    many_actors,
    many_issues,
    port_of_alpha,
    rename,
    rerecord,
    snapshot,
    text_of,
    unchanged,
    write,
)
from conftest import two_party

from sim.outputs.escape import UNSAFE
from sim.scenario.limits import MAX_ACTORS, MAX_FILE_BYTES, MAX_ISSUES, MAX_RUNS

FOLDERS = ("done", "tampered", "half", "broken", "broken-inputs", "no-inputs", "swapped", "dupes", "a-sweep",
           "sweep-half")  # fmt: skip

BOMB = (
    "a: &a ["
    + ",".join(["lol"] * 9)
    + "]\n"
    + "".join(f"{b}: &{b} [" + ",".join([f"*{a}"] * 9) + "]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))
)
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
LONG = "9" * 5000
DEEP_CHAIN = {f"c{k}.yaml": {"extends": f"c{k + 1}.yaml"} for k in range(1200)} | {"c1200.yaml": VALID}
WITH_EVENT = changed(lambda d: d.update(events={"shock": {"label": "A shock", "hazard": 0.1, "effects": [
    {"field": "actors.alpha.capability", "op": "add", "value": 0.1, "rounds": 10**12}]}}))
BAD_LABEL = changed(lambda d: d["outcomes"]["deal"].update(label="[bold red]x[/bold red]"))
ESCAPE_UNIT = changed(lambda d: d["issues"]["port"].update(unit="lvl\x1b[31m red", label="Port\x07 \u202e"))
HOSTILE_HTML = changed(lambda d: d["issues"]["port"].update(unit="<a href='https://example.org'>click</a>",
                                                           label="<b>bold</b>"))


def no_live_markup(root: Path) -> None:
    page = (root / "t.html").read_text()
    assert "<a href='https://example.org'>" not in page and "&lt;a href=" in page


def each_run_traced_once(root: Path) -> None:
    trace = pd.read_parquet(root / "tr" / "trace.parquet")
    assert sorted(set(trace["run"])) == list(range(15))
    assert not trace.duplicated(["run", "round", "actor", "issue"]).any()


def move_chunks_outside(root: Path) -> None:
    shutil.move(root / "half" / ".chunks", root / "elsewhere")
    (root / "half" / ".chunks").symlink_to("../elsewhere")


def chunks_as_an_earlier_build_wrote_them(root: Path) -> None:
    """The chunk tables named as an earlier build named its Parquet chunks."""
    for chunk in (root / "half" / ".chunks").glob("*.arrow"):
        chunk.rename(chunk.with_suffix(".parquet"))


def link_summary_outside(root: Path) -> None:
    (root / "outside.json").write_text("{}")
    (root / "done" / "summary.json").unlink()
    (root / "done" / "summary.json").symlink_to("../outside.json")


def deep_manifest(root: Path) -> None:
    (root / "done" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)


def drop(key: str):
    return lambda data: data.pop(key)


def put(key: str, value):
    return lambda data: data.update({key: value})


def bad_capability(data: dict) -> None:
    data["scenario"]["actors"]["alpha"]["capability"] = -1


def hard_link_lock(folder: str):
    """A prepare step: the folder's .lock a second name of a file outside it."""

    def prepare(root: Path) -> None:
        (root / "outside.txt").write_text("keep me")
        (root / folder / ".lock").unlink(missing_ok=True)
        os.link(root / "outside.txt", root / folder / ".lock")

    return prepare


def rewrite_table(folder: str, name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]):
    """A prepare step: a table of a complete folder changed and recorded again, as if the code had made it."""

    def prepare(root: Path) -> None:
        path = root / folder / name
        table = edit(pd.read_parquet(path))
        path.unlink()
        table.to_parquet(path, index=False)
        rerecord(root / folder)

    return prepare


def rewrite_summary(root: Path) -> None:
    (root / "done" / "summary.json").write_text("{}")
    rerecord(root / "done")


def rename_issue(data: dict) -> None:
    scenario = data["scenario"]
    scenario["issues"]["harbor"] = scenario["issues"].pop("port")
    for actor in scenario["actors"].values():
        if "port" in actor.get("preferences", {}):
            actor["preferences"]["harbor"] = actor["preferences"].pop("port")


def sweep_manifest(edit: Callable[[dict], Any]):
    return edit_manifest("sweep-half", edit)


def absent_folder(name: str) -> Callable[[Path], None]:
    def check(root: Path) -> None:
        assert not (root / name).exists(), f"{name} was made on the way"

    return check


def runs_as(text: str):
    return edit_manifest("done", text=lambda t: t.replace('"runs": 40', f'"runs": {text}', 1))


HOSTILE = [
    # -- strings reaching the terminal
    Case("terminal: a question holding [/]", ["run", "s.yaml", "-n", "20", "--workers", "1"], 0, ["Q [/]"],
         {"s.yaml": two_party(question="Q [/]")}),
    Case("terminal: a label holding rich markup", ["run", "s.yaml", "-n", "20", "--workers", "1"], 0,
         ["[bold red]x[/bold red]"], {"s.yaml": BAD_LABEL}),
    Case("terminal: escape characters in a unit and a label", ["run", "s.yaml", "-n", "20", "--workers", "1"], 0,
         ["lvl\\x1b[31m"], {"s.yaml": ESCAPE_UNIT}),
    Case("terminal: an --out path holding [/]", ["run", "s.yaml", "-n", "20", "-q", "--workers", "1", "--out",
         "o[/]"], 0, ["results: o[/]"], {"s.yaml": VALID}),
    # -- values Python cannot represent
    Case("an impossible date in a file", ["validate", "s.yaml"], 2, ["s.yaml:", "start_date", "month"],
         {"s.yaml": text_of(VALID, ("start_date: '2025-02-15'", "start_date: 2025-13-01"))}),
    Case("an impossible date through --set", ["validate", "s.yaml", "--set", "start_date=2025-13-01"], 2,
         ["--set", "start_date", "month"], {"s.yaml": VALID}),
    Case("an impossible date in a sweep file", ["sweep", "w.yaml"], 2, ["start_date", "month", "point"],
         {"s.yaml": VALID, "w.yaml": "scenario: s.yaml\nvary:\n  start_date: {values: [2025-13-01, 2025-02-15]}\n"}),
    Case("an integer of 5,000 digits (horizon)", ["validate", "s.yaml"], 2, ["s.yaml:", "4,300 digits"],
         {"s.yaml": text_of(VALID, ("horizon: 20", f"horizon: {LONG}"))}),
    Case("an integer of 5,000 digits (capability)", ["validate", "s.yaml"], 2, ["s.yaml:", "4,300 digits"],
         {"s.yaml": text_of(VALID, ("capability: 0.6", f"capability: {LONG}"))}),
    Case("a range whose width overflows", ["validate", "s.yaml"], 2, ["issues.money.range", "1e15"],
         {"s.yaml": changed(lambda d: d["issues"]["money"].update(range=[-1.7e308, 1.7e308]))}),
    Case("rounds of a trillion days", ["validate", "s.yaml", "--set", "protocol.round_days=1000000000000"], 2,
         ["protocol.round_days", "36525"], {"s.yaml": VALID}),
    Case("dates that run past year 9999", ["validate", "s.yaml", "--set", "start_date=9999-12-01", "--set",
         "protocol.round_days=365"], 2, ["start_date", "run past 9999-12-31"], {"s.yaml": VALID}),
    Case("an effect lasting a trillion rounds", ["validate", "s.yaml"], 2, ["rounds", "10000"],
         {"s.yaml": WITH_EVENT}),
    Case("a label holding a lone surrogate", ["run", "s.yaml", "-n", "10", "--out", "never"], 2,
         ["s.yaml:", "surrogate"], {"s.yaml": text_of(VALID, ("label: Alpha", 'label: "A\\ud800"'))}),
    # -- files read
    Case("a seed that is a device", ["validate", "s.yaml"], 2, ["seed", "not a regular file"],
         {"s.yaml": two_party(seed="/dev/zero")}),
    Case("references holding a device", ["validate", "s.yaml"], 2, ["references[0]", "not a regular file"],
         {"s.yaml": two_party(references=["/dev/zero"])}),
    Case("import: a device", ["import", "bdm", "/dev/zero", "-o", "out.yaml"], 2, ["/dev/zero", "not a regular file"]),
    Case("a seed that is a pipe", ["validate", "s.yaml"], 2, ["seed", "not a regular file"],
         {"s.yaml": two_party(seed="pipe.txt"), "pipe.txt": FIFO}),
    Case("a sweep file that is a pipe", ["sweep", "pipe.yaml"], 2, ["pipe.yaml", "not a regular file"],
         {"pipe.yaml": FIFO}),
    # -- workers
    Case("a thousand workers", ["run", "s.yaml", "-n", "10", "--workers", "1000"], 2, ["--workers", "at most"],
         {"s.yaml": VALID}),
    Case("sweep: a thousand local Dask workers", ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0.2,0.8",
         "--dask-local", "1000"], 2, ["--dask-local", "at most"], {"s.yaml": VALID}),
    # -- chunks and run ids
    Case("--resume with a chunk copied over another", ["run", "--resume", "swapped"], 2,
         ["runs-000000000010", "damaged"]),
    Case("--resume with chunks an earlier build wrote as Parquet", ["run", "--resume", "half"], 2,
         ["Parquet form of an earlier build", "run it again"], prepare=chunks_as_an_earlier_build_wrote_them),
    Case("verify: runs twice in runs.parquet", ["verify", "dupes"], 2, ["runs.parquet", "run ids"]),
    Case("overlapping --trace-runs (merged)", ["run", "s.yaml", "-n", "20", "-q", "--workers", "1", "--trace-runs",
         "0:10,5:15", "--out", "tr"], 0, ["results: tr"], {"s.yaml": VALID}, check=each_run_traced_once),
    Case("empty --trace-runs", ["run", "s.yaml", "-n", "10", "--trace-runs", ""], 2, ["--trace-runs",
         "no runs given"], {"s.yaml": VALID}),
    # -- the manifest
    Case("verify: a manifest claiming 300 runs", ["verify", "done"], 2, ["manifest.json", "rows (40)"],
         prepare=edit_manifest("done", put("runs", 300))),
    Case("verify: a manifest claiming -5 runs", ["verify", "done"], 2, ["manifest.json", "runs"],
         prepare=edit_manifest("done", put("runs", -5))),
    Case("verify: runs as text in the manifest", ["verify", "done"], 2, ["runs", "integer"],
         prepare=edit_manifest("done", put("runs", "400"))),
    Case("verify: runs of 1e400 in the manifest", ["verify", "done"], 2, ["manifest.json", "1e400"],
         prepare=runs_as("1e400")),
    Case("verify: runs of NaN in the manifest", ["verify", "done"], 2, ["manifest.json", "NaN"],
         prepare=runs_as("NaN")),
    Case("verify: a manifest without its seed", ["verify", "done"], 2, ["seed", "Field required"],
         prepare=edit_manifest("done", drop("seed"))),
    Case("verify: a manifest without its scenario", ["verify", "done"], 2, ["scenario", "Field required"],
         prepare=edit_manifest("done", drop("scenario"))),
    Case("verify: a seed of 2**70", ["verify", "done"], 2, ["seed", "less than or equal"],
         prepare=edit_manifest("done", put("seed", 2**70))),
    Case("verify: a seed as text", ["verify", "done"], 2, ["seed", "integer"],
         prepare=edit_manifest("done", put("seed", "one"))),
    Case("verify: an invalid scenario in the manifest", ["verify", "done"], 2,
         ["scenario.actors.alpha.capability", "must lie within"], prepare=edit_manifest("done", bad_capability)),
    Case("replay: an invalid scenario in the manifest", ["replay", "done", "--run", "0"], 2,
         ["scenario.actors.alpha.capability"], prepare=edit_manifest("done", bad_capability)),
    Case("compare: a manifest without its seed", ["compare", "done", "--out", "c.html"], 2, ["seed", "required"],
         prepare=edit_manifest("done", drop("seed"))),
    Case("verify: a manifest nested 100,000 deep", ["verify", "done"], 2, ["nested deeper"], prepare=deep_manifest),
    Case("replay: a manifest nested 100,000 deep", ["replay", "done", "--run", "0"], 2, ["nested deeper"],
         prepare=deep_manifest),
    Case("compare: a manifest nested 100,000 deep", ["compare", "done", "--out", "c.html"], 2, ["nested deeper"],
         prepare=deep_manifest),
    # -- nothing overwritten
    Case("replay: --html naming the manifest", ["replay", "done", "--run", "1", "--html", "done/manifest.json"], 2,
         ["already exists"]),
    Case("replay: --html naming the report", ["replay", "done", "--run", "1", "--html", "done/report.html"], 2,
         ["already exists"]),
    Case("replay: --html naming a device", ["replay", "done", "--run", "1", "--html", "/dev/null"], 2,
         ["already exists"]),
    Case("replay: a different trace file in the way", ["replay", "done", "--run", "1"], 2,
         ["replay-run-1.parquet", "never overwritten"], {"done/replay-run-1.parquet": b"other bytes"}),
    # -- no symbolic link followed
    Case("--resume with .lock a link outside", ["run", "--resume", "half"], 2, [".lock", "symbolic link"],
         {"outside.txt": "keep me", "half/.lock": Link("../outside.txt")}, check=unchanged("outside.txt", "keep me")),
    Case("--resume with .chunks a link outside", ["run", "--resume", "half"], 2, [".chunks", "symbolic link"],
         prepare=move_chunks_outside),
    Case("verify: a results file that is a link", ["verify", "done"], 2, ["summary.json", "symbolic link"],
         prepare=link_summary_outside),
    # -- pages
    Case("replay: markup in a unit and a label", ["run", "s.yaml", "-n", "5", "-q", "--workers", "1", "--out", "r"],
         0, ["results: r"], {"s.yaml": HOSTILE_HTML},
         check=lambda root: (invoke(["replay", "r", "--run", "0", "--html", "t.html"], root), no_live_markup(root))),
    # -- weak checks
    Case("an empty quote", ["validate", "s.yaml"], 2, ["source", "fewer than 3 words"],
         {"s.yaml": changed(lambda d: port_of_alpha(d).update(source=""))}),
    Case("a quote of spaces", ["validate", "s.yaml"], 2, ["source", "fewer than 3 words"],
         {"s.yaml": changed(lambda d: port_of_alpha(d).update(source="   "))}),
    Case("an indicator with min above max", ["validate", "s.yaml"], 2, ["outcomes.deal.terms.port", "above max"],
         {"s.yaml": changed(lambda d: d["outcomes"]["deal"].update(terms={"port": {"min": 80, "max": 20}}))}),
    Case("replay: a sweep folder", ["replay", "a-sweep", "--run", "0"], 2, ["a folder of basing sweep"]),
    # -- clear messages
    Case("sweep: a typo in a sweep file's key", ["sweep", "w.yaml"], 2, ["w.yaml:2", "varry", "did you mean 'vary'"],
         {"s.yaml": VALID, "w.yaml": "scenario: s.yaml\nvarry:\n  actors.alpha.risk: {values: [0.2, 0.8]}\n"}),
    Case("--trace-runs of commas", ["run", "s.yaml", "-n", "10", "--trace-runs", ",,"], 2, ["--trace-runs",
         "empty entry"], {"s.yaml": VALID}),
    Case("extends 1,200 files deep", ["validate", "c0.yaml"], 2, ["extends", "limit of 32"], DEEP_CHAIN),
    Case("extends a pipe", ["validate", "s.yaml"], 2, ["extends", "not a regular file"],
         {"s.yaml": {"extends": "pipe.yaml"}, "pipe.yaml": FIFO}),
    Case("an actor named yes", ["validate", "s.yaml"], 2, ["actors.yes", "read by YAML as true", "quote it"],
         {"s.yaml": text_of(VALID, ("  alpha:\n", "  yes:\n"))}),
    Case("sweep: a reversed range in a sweep file", ["sweep", "w.yaml"], 2, ["w.yaml:", "must be below"],
         {"s.yaml": VALID, "w.yaml": {"scenario": "s.yaml", "vary": {"actors.alpha.risk": {"range": [1, 0],
                                                                                           "count": 3}}}}),
    # -- no noise on success
    Case("a range narrower than a float can split", ["validate", "s.yaml"], 2, ["issues.money.range", "too narrow"],
         {"s.yaml": changed(lambda d: d["issues"]["money"].update(range=[0, 5e-324]))}),
    Case("sweep: a one-parameter Sobol design", ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0:1", "--design",
         "sobol", "--samples", "4", "-n", "20", "-q", "--workers", "1", "--out", "sob"], 0, ["results: sob"],
         {"s.yaml": VALID}, absent=["Warning", "warning"]),
]


LATIN_1_BDM = "actor,capability,position,salience\nT\xfcrkiye,1,10,0.5\nB,1,50,0.7\nC,1,90,0.9\n".encode("latin-1")
BDM = "actor,capability,position,salience\nA,1,10,0.5\nB,2,50,0.7\nC,3,90,0.9\n"
KTAB = "Test,Desc,3,1\nActor,Description,Power,Pos,Sal\nA,a,10,20,50\nB,b,20,60,40\nC,c,30,90,70\n"
KTAB_101 = "T,D,101,1\nActor,Description,Power,Pos,Sal\n" + "".join(f"A{a},d,10,{a % 100},50\n" for a in range(101))
NO_STATUS = rewrite_table("done", "runs.parquet", lambda t: t.drop(columns="status"))
SWEEP_ARGS = ["sweep", "s.yaml", "--vary", "actors.alpha.risk=0.2,0.8", "-n", "5", "-q", "--workers", "1"]

FOLLOW_UPS = [
    # -- writing outside, or through another name
    Case("--resume with .lock a hard link to a file outside", ["run", "--resume", "half"], 2, [".lock", "hard link"],
         prepare=hard_link_lock("half"), check=unchanged("outside.txt", "keep me")),
    Case("sweep --resume with .lock a hard link", ["sweep", "--resume", "sweep-half"], 2, [".lock", "hard link"],
         prepare=hard_link_lock("sweep-half"), check=unchanged("outside.txt", "keep me")),
    Case("--out through a folder that is not there (new/..)", ["run", "s.yaml", "-n", "5", "-q", "--workers", "1",
         "--out", "new/../o"], 0, ["results: o"], {"s.yaml": VALID}, check=absent_folder("new")),
    Case("compare --out through a folder that is not there", ["compare", "s.yaml", "-n", "5", "--workers", "1",
         "--fan-runs", "2", "--out", "new/../c.html"], 0, ["comparison: c.html"], {"s.yaml": VALID},
         check=absent_folder("new")),
    # -- refused before anything is written
    Case("import: a capability past the limit", ["import", "bdm", "in.csv", "-o", "out.yaml"], 2,
         ["in.csv", "would not be valid", "capability"], {"in.csv": BDM.replace("A,1,", "A,1e13,")}),
    Case("import: a Latin-1 table", ["import", "bdm", "in.csv", "-o", "out.yaml"], 2, ["in.csv", "not UTF-8"],
         {"in.csv": LATIN_1_BDM}),
    Case("import: 101 actors", ["import", "ktab", "in.csv", "-o", "out.yaml"], 2, ["in.csv", "limit is 100"],
         {"in.csv": KTAB_101}),
    Case("replay: --html into a missing folder", ["replay", "done", "--run", "0", "--html", "nodir/t.html"], 2,
         ["--html", "nodir is missing"]),
    Case("compare: --png under a file", ["compare", "done", "--out", "c.html", "--png", "seed.txt/x"], 2,
         ["--png", "not a folder"]),
    Case("--out of a 300-byte name", ["run", "s.yaml", "-n", "5", "--out", "a" * 300], 2, ["--out", "255 bytes"],
         {"s.yaml": VALID}),
    Case("no --out, and 'results' is a file", ["run", "s.yaml", "-n", "5"], 2, ["results", "not a folder"],
         {"s.yaml": VALID, "results": "x"}),
    # -- resuming what was edited
    Case("--resume after the manifest's chunk size was edited", ["run", "--resume", "half"], 2,
         ["no chunk of this run's plan", "Nothing was removed"], prepare=edit_manifest("half", put("chunk_size", 7))),
    Case("--resume after the manifest's scenario was edited", ["run", "--resume", "half"], 2, ["another plan"],
         prepare=edit_manifest("half", lambda m: m["scenario"]["protocol"].update(horizon=5))),
    Case("sweep --resume after the manifest's block was edited", ["sweep", "--resume", "sweep-half"], 2,
         ["no chunk of this run's plan"], prepare=sweep_manifest(put("block", 7))),
    Case("sweep --resume with a count of 2.5", ["sweep", "--resume", "sweep-half"], 2, ["factors.0.count", "integer"],
         prepare=sweep_manifest(lambda m: m["factors"][0].update(count=2.5))),
    Case("sweep --resume with an unknown outcome", ["sweep", "--resume", "sweep-half"], 2,
         ["manifest's outcomes", "nope"], prepare=sweep_manifest(put("outcomes", ["nope"]))),
    # -- results recorded again after a change
    Case("verify: runs.parquet without its status, recorded again", ["verify", "done"], 2,
         ["runs.parquet", "lacks status"], prepare=NO_STATUS),
    Case("compare: runs.parquet without its status, recorded again", ["compare", "done", "--out", "c.html"], 2,
         ["fails verification", "lacks status"], prepare=NO_STATUS),
    Case("compare: summary.json emptied, recorded again", ["compare", "done", "--out", "c.html"], 2,
         ["summary.json", "not the summary"], prepare=rewrite_summary),
    Case("compare: an issue renamed in the manifest", ["compare", "done", "--out", "c.html"], 2,
         ["lacks term_harbor"], prepare=edit_manifest("done", rename_issue)),
    Case("verify: trace rows twice, recorded again", ["verify", "done"], 2, ["trace.parquet", "more than once"],
         prepare=rewrite_table("done", "trace.parquet", lambda t: pd.concat([t, t]))),
    # -- values YAML and Python cannot make
    Case("a key that is a list", ["validate", "s.yaml"], 2, ["s.yaml:", "a key must be a name or a number"],
         {"s.yaml": yaml.safe_dump(VALID) + "? [a, b]\n: 1\n"}),
    Case("!!bool 'maybe'", ["validate", "s.yaml"], 2, ["s.yaml:", "cannot be read as YAML's !!bool"],
         {"s.yaml": text_of(VALID, ("horizon: 20", "horizon: !!bool 'maybe'"))}),
    Case("--set with !!bool maybe", ["validate", "s.yaml", "--set", "name=!!bool maybe"], 2, ["--set", "!!bool"],
         {"s.yaml": VALID}),
    Case("!!int 'abc'", ["validate", "s.yaml"], 2, ["s.yaml:", "'abc' is not an integer"],
         {"s.yaml": text_of(VALID, ("horizon: 20", "horizon: !!int 'abc'"))}),
    Case("sweep: a count of superscript two", [*SWEEP_ARGS[:3], "actors.alpha.risk=0:1:\u00b2"], 2,
         ["number of values must be a whole number"], {"s.yaml": VALID}),
    Case("import: a count of superscript three", ["import", "ktab", "in.csv", "-o", "out.yaml"], 2,
         ["in.csv:1", "not a positive whole number"], {"in.csv": KTAB.replace("Test,Desc,3,1", "Test,Desc,\u00b3,1")}),
    Case("sweep: a tls:// scheduler", [*SWEEP_ARGS, "--scheduler", "tls://127.0.0.1:9"], 2,
         ["--scheduler", "cannot reach"], {"s.yaml": VALID}),
    Case("a scenario that is a link to itself", ["validate", "l.yaml"], 2, ["l.yaml", "loop of symbolic links"],
         {"l.yaml": Link("l.yaml")}),
    Case("an empty seed path", ["validate", "s.yaml"], 2, ["seed", "at least 1 character"],
         {"s.yaml": two_party(seed="")}),
    Case("an indicator of no status", ["validate", "s.yaml"], 2, ["outcomes.t.status", "at least 1"],
         {"s.yaml": changed(lambda d: d["outcomes"].update(t={"label": "never", "status": []}))}),
    # -- the terminal
    Case("an Arabic letter mark in a label", ["run", "s.yaml", "-n", "5", "--workers", "1"], 0, ["De\\u061cal"],
         {"s.yaml": changed(lambda d: d["outcomes"]["deal"].update(label="De\u061cal"))}),
    Case("an unknown option holding a right-to-left override", ["run", "s.yaml", "--x\u202e"], 2,
         ["No such option", "--x\\u202e"], {"s.yaml": VALID}),
    # -- sweeps that were wrong, and noise
    Case("sweep: a value of 0.00001", [*SWEEP_ARGS[:3], "protocol.breakdown_risk=0.00001,0.001", *SWEEP_ARGS[4:],
         "--out", "o"], 0, ["results: o"], {"s.yaml": VALID}),
    Case("sweep: indicators deal and deal_low", [*SWEEP_ARGS, "--out", "o"], 2, ["indicators_deal_low"],
         {"s.yaml": changed(lambda d: d["outcomes"].update(deal_low={"label": "x", "status": ["walkout"]}))}),
    Case("compromise with every capability 0", ["run", "s.yaml", "-n", "5", "-q", "--workers", "1", "--out", "o"], 0,
         ["results: o"], {"s.yaml": changed(lambda d: (d.update(influence={"model": "compromise"}),
                                                       [a.update(capability=0) for a in d["actors"].values()]))},
         absent=["warning"]),
    Case("200 indicators", ["run", "s.yaml", "-n", "5", "-q", "--workers", "1", "--out", "o"], 0, ["results: o"],
         {"s.yaml": changed(lambda d: d["outcomes"].update({f"o{i}": {"label": f"L{i}", "status": ["agreement"]}
                                                            for i in range(199)}))}, absent=["warning"]),
]


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
         ["--set", "nested deeper than the limit of 200"], {"s.yaml": VALID}),
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
    Case("--resume with a damaged chunk file", ["run", "--resume", "broken"], 2, ["runs-000000000000.arrow",
         "damaged", "delete it"]),
    Case("--resume with a damaged inputs file of a chunk", ["run", "--resume", "broken-inputs"], 2,
         ["inputs-000000000010.arrow", "damaged", "delete it"]),
    Case("--resume with a chunk recorded without its inputs", ["run", "--resume", "no-inputs"], 2,
         ["runs-000000000000.json", "damaged", "no inputs file", "delete it"]),
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
         ["not a folder"]),
    Case("compare: not a scenario", ["compare", "seed.txt", "--out", "c.html"], 2, ["neither a scenario file"]),
    # -- imports
    Case("import: unknown format", ["import", "xml", "k.csv", "-o", "out.yaml"], 2, ["unknown format"],
         {"k.csv": BAD_KTAB}),
    Case("import: a number that is not one", ["import", "ktab", "k.csv", "-o", "out.yaml"], 2, ["k.csv:"],
         {"k.csv": BAD_KTAB}),
]
# fmt: on
CASES += HOSTILE + FOLLOW_UPS


# fmt: off
def outcome_of(**changes) -> dict:
    """A valid observed outcome of the toy scenario, with ``changes``."""
    data = {"case": "toy", "observed": "agreement", "date": "2025-03-01", "summary": "They agreed.",
            "sources": [{"quote": "they agreed on the port", "cite": "https://example.org/news"}]}
    data.update(changes)
    return data


BACKTEST = [
    Case("backtest: a case without its outcome file", ["backtest", "case.yaml", "-n", "20", "--workers", "1"], 2,
         ["case.yaml", "outcomes/case.yaml", "there is none"], {"case.yaml": VALID}),
    Case("backtest: an outcome the scenario cannot produce", ["backtest", "case.yaml", "-n", "20", "--workers", "1"],
         2, ["outcomes/case.yaml:", "observed", "cannot produce", "ratification"],
         {"case.yaml": VALID, "outcomes/case.yaml": outcome_of(observed="rejected")}),
    Case("backtest: an observed term outside its issue's range", ["backtest", "case.yaml", "-n", "20", "--workers",
         "1"], 2, ["outcomes/case.yaml:", "terms.money", "outside the issue's range"],
         {"case.yaml": VALID, "outcomes/case.yaml": outcome_of(terms={"money": 50})}),
    Case("backtest: an outcome of another case", ["backtest", "case.yaml", "-n", "20", "--workers", "1"], 2,
         ["outcomes/case.yaml:", "case", "not the scenario's name"],
         {"case.yaml": VALID, "outcomes/case.yaml": outcome_of(case="other")}),
    Case("backtest: an outcome dated after the window", ["backtest", "case.yaml", "-n", "20", "--workers", "1"], 2,
         ["outcomes/case.yaml:", "date", "after the window's end"],
         {"case.yaml": VALID, "outcomes/case.yaml": outcome_of(date="2031-01-01")}),
    Case("backtest: a walkout by a stakeholder", ["backtest", "case.yaml", "-n", "20", "--workers", "1"], 2,
         ["outcomes/case.yaml:", "walkout_by", "not a party"],
         {"case.yaml": VALID, "outcomes/case.yaml": outcome_of(observed="walkout", walkout_by="gamma")}),
    Case("backtest: an impossible outcome date", ["backtest", "case.yaml", "-n", "20", "--workers", "1"], 2,
         ["outcomes/case.yaml:", "date"],
         {"case.yaml": VALID, "outcomes/case.yaml": "case: toy\nobserved: agreement\ndate: 2025-02-30\n"
          "summary: x\nsources: [{quote: they agreed here, cite: https://example.org}]\n"}),
    Case("backtest: the same case twice", ["backtest", "case.yaml", "case.yaml", "-n", "20", "--workers", "1"], 2,
         ["named twice", "toy"], {"case.yaml": VALID, "outcomes/case.yaml": outcome_of()}),
]
# fmt: on
CASES += BACKTEST
CASES.append(
    Case(
        "an indicator named point",
        ["validate", "s.yaml"],
        2,
        ["outcomes.point", "taken by a results column"],
        {"s.yaml": two_party(outcomes={"point": {"label": "a point", "status": ["agreement"]}})},
    )
)


def forget_inputs(root: Path) -> None:
    """A folder as basing made it before it wrote inputs.parquet: the file gone, and not recorded."""
    (root / "done" / "inputs.parquet").unlink()
    rerecord(root / "done")


# fmt: off
DISCOVERY = [
    Case("discover: an unknown outcome", ["discover", "done", "--outcome", "nonesuch"], 2,
         ["--outcome nonesuch", "not an indicator"]),
    Case("discover: an outcome no run has", ["discover", "done", "--outcome", "round", "--threshold", "1e9"], 2,
         ["no run has it", "nothing to discover"]),
    Case("discover: a folder made before inputs.parquet", ["discover", "done", "--outcome", "status=agreement"], 2,
         ["made before basing wrote inputs.parquet"], prepare=forget_inputs),
    Case("discover: an unfinished sweep", ["discover", "sweep-half", "--outcome", "status=agreement"], 2,
         ["the sweep is incomplete", "basing sweep --resume"]),
]
EXPLORE = [
    Case("explore: more runs than the cap", ["explore", "s.yaml", "--runs", "50000"], 2,
         ["--runs 50000", "1 to 20,000"], {"s.yaml": VALID}),
    Case("explore: a port out of range", ["explore", "s.yaml", "--port", "70000"], 2, ["a port is 1 to 65535"],
         {"s.yaml": VALID}),
    Case("explore: a host that is no address", ["explore", "s.yaml", "--host", "no such host", "--port", "8050"], 2,
         ["--host no such host", "not an address"], {"s.yaml": VALID}),
]
# fmt: on
CASES += DISCOVERY + EXPLORE


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """The results folders the cases use (see ``make_folders``), made once."""
    folder = tmp_path_factory.mktemp("finished")
    make_folders(folder)
    return folder


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, finished: Path):
    for name in FOLDERS:
        if name in case.args or name in " ".join(case.args):
            shutil.copytree(finished / name, tmp_path / name, symlinks=True)
    write(tmp_path, case.files)
    if case.prepare is not None:
        case.prepare(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = invoke(case.args, tmp_path)
    message = " ".join((err + out).split())
    assert code == case.code, message
    for word in case.words:
        assert word in message, f"{word!r} not in: {message}"
    for word in case.absent:
        assert word not in message, f"{word!r} in: {message}"
    assert "Traceback" not in message and "internal error" not in message
    assert not UNSAFE.search(out + err), f"a character that acts on a terminal reached it: {(out + err)!r}"
    if case.code == 2:
        assert message.startswith("error:") or "Usage:" in message or "Invalid value" in message, message
        assert snapshot(tmp_path) == before, "a refused input wrote or removed files"
    if case.check is not None:
        case.check(tmp_path)


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
              f"| {limits.MAX_TRACE_ROWS:,} |", f"{limits.CHUNK_CELLS:,} ÷", f"| {limits.MAX_YAML_DEPTH} levels |",
              f"| {limits.MAX_EXTENDS} |", "within ±10^15 (1e15)", "| 0 to 10^12 |", "at most 36,525",
              "| 0.01 to 100 |", f"at least {limits.MIN_QUOTE_WORDS} words / at least {limits.MIN_CITE_CHARACTERS} "
              "characters", f"| {limits.MAX_COMPARE_RUNS:,} |", f"| {limits.WORKERS_PER_CORE} per core",
              "| 256 MiB, 64 levels"]  # fmt: skip
    assert limits.MAX_MAGNITUDE == 1e15 and limits.MAX_WEIGHT == 1e12 and limits.MAX_ROUND_DAYS == 36_525
    assert limits.BETA_SHAPE == (0.01, 100.0) and limits.MIN_RANGE_WIDTH == 1e-9
    assert (limits.MAX_JSON_BYTES, limits.MAX_JSON_DEPTH) == (256 * 2**20, 64)
    assert [s for s in stated if s not in section] == []
