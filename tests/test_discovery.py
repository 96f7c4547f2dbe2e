"""Scenario discovery: PRIM and CART find a planted rule, feature scores rank its inputs first, and
`basing discover` writes its table and page beside a folder's runs."""

from __future__ import annotations

import html
import itertools
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, ROOT

import sim
from sim.experiments import prim
from sim.experiments.discovery import Outcome, discover, outcome_of

RANGES = {"a": (0.0, 1.0), "b": (0.0, 10.0), "c": (-5.0, 5.0), "d": (0.0, 1.0), "e": (100.0, 200.0)}
PLANTED = {"a": ("low", 0.6), "b": ("high", 3.0)}  # cases: a > 0.6 and b < 3


def planted(n: int = 4000, seed: int = 5, noise: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({name: rng.uniform(lo, hi, n) for name, (lo, hi) in RANGES.items()})
    cases = (table["a"] > 0.6) & (table["b"] < 3.0)
    flip = rng.uniform(size=n) < noise
    table.insert(0, "run", np.arange(n))
    return table, (cases.to_numpy() ^ flip)


@pytest.mark.parametrize("method", ["prim", "cart"])
def test_a_planted_rule_is_found_within_five_percent_of_each_range(method):
    inputs, cases = planted(noise=0.02 if method == "prim" else 0.0)  # a depth-4 tree would split on noise
    found = discover(inputs, Outcome("planted", "the planted rule", cases), method, refits=5)
    box = found.boxes[found.boxes["box"] == 0].set_index("input")
    assert {"a", "b"} <= set(box.index[box["restricted"]])
    for name in set(box.index[box["restricted"]]) - {"a", "b"}:  # peeled a little into the noise, no more
        kept = (box.loc[name, "high"] - box.loc[name, "low"]) / (RANGES[name][1] - RANGES[name][0])
        assert kept > 0.8, (name, kept)
    for name, (end, value) in PLANTED.items():
        lo, hi = RANGES[name]
        limit = box.loc[name, end]
        assert abs(limit - value) <= 0.05 * (hi - lo), (name, limit)
    assert found.summary.loc[0, "density"] > 0.9
    assert found.scores["input"].tolist()[:2] in (["a", "b"], ["b", "a"])
    scores = found.scores
    assert (scores["low"] <= scores["score"]).all() and (scores["score"] <= scores["high"]).all()


def test_prims_trajectory_trades_coverage_for_density_and_the_rule_is_the_documented_one():
    inputs, cases = planted()
    x = inputs[list(RANGES)].to_numpy()
    trajectory = prim.peel(x, cases)
    coverage = [box.coverage for box in trajectory]
    assert coverage[0] == 1.0 and all(a >= b for a, b in itertools.pairwise(coverage))
    assert trajectory[-1].mass >= prim.MASS_MIN - 1e-9
    chosen = prim.choose(trajectory)
    eligible = [k for k, box in enumerate(trajectory) if box.coverage >= prim.MIN_COVERAGE]
    best = max(trajectory[k].density for k in eligible)
    assert chosen in eligible and trajectory[chosen].density == best
    # quasi-p: a planted limit is significant; an input the box does not need is not restricted at all
    found = prim.prim(x, cases)[0]
    assert all(p < 1e-6 for p in found.quasi_p.values())


def test_covering_finds_a_second_rule_in_the_runs_the_first_box_leaves():
    inputs, _ = planted(n=6000)
    cases = ((inputs["a"] > 0.7) & (inputs["b"] < 2.0)) | ((inputs["c"] < -3.0) & (inputs["d"] > 0.8))
    found = prim.prim(inputs[list(RANGES)].to_numpy(), cases.to_numpy(), boxes=2)
    restricted = [{list(RANGES)[j] for j in f.box.restricted} for f in found]
    assert len(found) == 2 and {"a", "b"} in restricted and {"c", "d"} in restricted


def test_outcomes_are_indicators_conditions_or_thresholds(tmp_path):
    result = sim.run(BASELINE, runs=300, seed=2, workers=1)
    runs, spec = result.runs, result.spec
    assert outcome_of(runs, spec, "deal").cases.tolist() == runs["deal"].tolist()
    walked = outcome_of(runs, spec, "status=walkout,breakdown")
    assert walked.cases.sum() == runs["status"].isin(["walkout", "breakdown"]).sum()
    long = outcome_of(runs, spec, "round", threshold=10)
    assert long.cases.tolist() == (runs["round"] > 10).tolist() and long.text == "round > 10"
    with pytest.raises(sim.errors.InputError, match="give --threshold"):
        outcome_of(runs, spec, "term_tartus")
    with pytest.raises(sim.errors.InputError, match="did you mean 'deal'"):
        outcome_of(runs, spec, "deals")
    with pytest.raises(sim.errors.InputError, match="not a value of status in this scenario"):
        outcome_of(runs, spec, "status=won")


def test_discover_on_a_baseline_folder_writes_its_table_and_page(tmp_path):
    folder = tmp_path / "base"
    sim.run(BASELINE, runs=1500, seed=4, out=folder)
    command = [sys.executable, "-m", "sim", "discover", str(folder), "--outcome", "russia_keeps_tartus"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())  # the console wraps lines at its width
    assert "in " in said and "of runs where" in said and "Feature scores" in said
    table = pd.read_parquet(folder / "discovery-prim-russia_keeps_tartus.parquet")
    assert set(table["part"]) == {"trajectory", "box", "score"} and set(table["outcome"]) == {"russia_keeps_tartus"}
    page = (folder / "discovery-prim-russia_keeps_tartus.html").read_text()
    assert page.count("plotly-graph-div") >= 3 and "Feature scores" in page
    again = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert again.returncode == 0, again.stderr  # the same question again: the same bytes, kept as they are
    assert subprocess.run([sys.executable, "-m", "sim", "verify", str(folder)], cwd=ROOT, timeout=300).returncode == 0


def test_the_report_says_what_drives_each_indicator_with_the_box_discover_finds(tmp_path):
    folder = tmp_path / "base"
    sim.run(BASELINE, runs=1500, seed=4, out=folder)
    cells = re.findall(r"<td>(.*?)</td>", (folder / "report.html").read_text())
    rows = {html.unescape(cells[k]): html.unescape(cells[k + 1]) for k in range(len(cells) - 1)}
    report = html.unescape((folder / "report.html").read_text())
    assert "What drives the outcome" in report and "all 1,500 runs" in report
    found = sim.discover(folder, "russia_keeps_tartus", write=False)  # PRIM on the same runs: the same box
    label = found.outcome.text
    assert rows[label] == found.sentence(most=4).removeprefix(f"{label}: ")
    runs = sim.open_results(folder).runs
    for name, indicator in sim.open_results(folder).spec.outcomes.items():
        if not runs[name].any():  # an indicator no run has is said to have nothing to tell, with no box
            assert rows[indicator.label] == "no run has it: nothing to tell"


def test_a_report_of_too_few_runs_has_no_drivers_section(tmp_path):
    sim.run(BASELINE, runs=300, seed=4, out=tmp_path / "small")
    assert "What drives the outcome" not in (tmp_path / "small" / "report.html").read_text()


def test_discovery_from_python_on_results_in_memory():
    result = sim.run(BASELINE, runs=1500, seed=3, workers=1)
    found = sim.discover(result, "deal", method="cart", boxes=2)
    assert found.files == [] and len(found.summary) <= 2
    assert found.sentence().startswith(result.spec.outcomes["deal"].label)
    assert found.scores["score"].sum() == pytest.approx(1.0, abs=0.02)


@pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::pandas.errors.Pandas4Warning"
)  # EMA Workbench's, not ours
def test_our_prim_agrees_with_ema_workbench_where_it_installs():
    """Where EMA Workbench installs, the box our rule chooses from its PRIM's peeling trajectory (the
    'original' objective, peel alpha 0.05) has the limits of ours, within 2% of each range."""
    prim_ema = pytest.importorskip("ema_workbench.analysis.prim")
    inputs, cases = planted()
    x = inputs[list(RANGES)]
    ema = prim_ema.Prim(x, cases, threshold=0.9, peel_alpha=0.05, mass_min=0.05,
                        obj_function=prim_ema.PRIMObjectiveFunctions.ORIGINAL)  # fmt: skip
    box = ema.find_box()
    steps = box.peeling_trajectory
    chosen = steps[steps["coverage"] >= prim.MIN_COVERAGE].sort_values(["density", "mass"], ascending=False).index[0]
    ours = prim.prim(x.to_numpy(), cases)[0].box
    assert ours.density == pytest.approx(steps["density"][chosen], abs=0.01)
    limits = box.box_lims[chosen]
    for j, name in enumerate(RANGES):
        span = RANGES[name][1] - RANGES[name][0]
        assert abs(limits[name].iloc[0] - ours.low[j]) <= 0.02 * span  # an unrestricted input: both at the range
        assert abs(limits[name].iloc[1] - ours.high[j]) <= 0.02 * span
