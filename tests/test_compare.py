"""Comparing outcomes: the tables behind the figures, the figures themselves, `basing compare` and the
run report, and the inputs they refuse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SEED_TEXT, two_party

from sim.outputs.figures import outcomes as plots
from sim.outputs.figures import tables
from sim.outputs.report import provenance_rows

MARKUP = "<script>window.__injected = 1</script><img src=x onerror='window.__injected = 2'>"


def basing(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def runs_table(statuses: list[str], rounds: list[int], walkers: list[str | None] | None = None) -> pd.DataFrame:
    n = len(statuses)
    return pd.DataFrame({
        "run": np.arange(n), "status": pd.Categorical(statuses), "round": np.array(rounds, dtype=np.int32),
        "walkout_actor": pd.Categorical(walkers or [None] * n, categories=["alpha", "beta"]),
        "term_port": np.linspace(0, 100, n), "utility_alpha": np.linspace(0, 1, n),
        "deal": np.array([s == "agreement" for s in statuses]),
    })  # fmt: skip


# -- tables ---------------------------------------------------------------------------------------------


def test_status_shares_count_every_status_with_intervals():
    table = tables.status_shares({"a": runs_table(["agreement"] * 3 + ["walkout"], [2, 3, 3, 4])},
                                 ("agreement", "walkout", "breakdown"))  # fmt: skip
    row = table.set_index("status").loc["agreement"]
    assert row["count"] == 3 and row["share"] == 0.75 and row["low"] < 0.75 < row["high"]
    assert table.set_index("status").loc["breakdown", "share"] == 0 and len(table) == 3


def test_survival_falls_at_each_agreement_and_never_below_the_other_endings():
    runs = runs_table(["agreement", "agreement", "walkout", "breakdown"], [1, 3, 2, 2])
    curve = tables.no_deal_yet({"a": runs}, horizon=4)
    assert list(curve["share"]) == [1.0, 0.75, 0.75, 0.5, 0.5]
    assert (curve["low"] <= curve["share"]).all() and (curve["share"] <= curve["high"]).all()


def test_walkouts_accumulate_per_party():
    runs = runs_table(["walkout", "walkout", "agreement", "walkout"], [1, 3, 2, 3], ["alpha", "beta", None, "alpha"])
    table = tables.walkouts_by_round({"a": runs}, ["alpha", "beta"], horizon=3)
    alpha = table[table["actor"] == "alpha"]["share"].tolist()
    beta = table[table["actor"] == "beta"]["share"].tolist()
    assert alpha == [0, 0.25, 0.25, 0.5] and beta == [0, 0, 0, 0.25]


def test_paired_bootstrap_of_a_difference_covers_it_and_is_narrower_than_unpaired():
    rng = np.random.default_rng(0)
    shared = rng.random(4000) < 0.5
    flipped = shared.copy()
    flipped[:200] = ~flipped[:200] | True  # a few more successes, on the same runs
    a, b = runs_table(["agreement"] * 4000, [1] * 4000), runs_table(["agreement"] * 4000, [1] * 4000)
    a["deal"], b["deal"] = shared, flipped
    paired = tables.indicator_forest({"a": a, "b": b}, {"deal": "Deal"}, np.random.default_rng(1))
    unpaired = tables.indicator_forest({"a": a, "b": b}, {"deal": "Deal"}, np.random.default_rng(1),
                                       paired={"b": False})  # fmt: skip
    p, u = paired.iloc[1], unpaired.iloc[1]
    assert p["diff"] == pytest.approx(flipped.mean() - shared.mean())
    assert p["diff_low"] < p["diff"] < p["diff_high"] and u["diff_low"] < u["diff"] < u["diff_high"]
    assert p["diff_high"] - p["diff_low"] < 0.5 * (u["diff_high"] - u["diff_low"])
    assert paired.iloc[0]["diff"] == 0 and np.isnan(paired.iloc[0]["diff_low"])


def test_histograms_share_only_the_chosen_runs_and_keep_the_range():
    runs = runs_table(["agreement", "walkout", "agreement", "agreement"], [1, 1, 1, 1])
    bins = tables.histograms({"a": runs}, {"term_port": (0, 100)}, only="agreement", bins=4)
    assert bins["share"].sum() == pytest.approx(1) and bins["left"].min() == 0 and bins["right"].max() == 100
    assert (bins["n"] == 3).all()


def test_position_fans_carry_an_ended_run_at_its_last_position():
    trace = pd.DataFrame({"run": [0, 0, 1], "round": [1, 2, 1], "actor": ["alpha"] * 3, "issue": ["port"] * 3,
                          "position": [10.0, 20.0, 30.0]})  # fmt: skip
    fan = tables.position_fans({"a": trace}, horizon=5)
    assert list(fan["round"]) == [1, 2] and list(fan["median"]) == [20.0, 25.0]
    assert (fan["runs"] == 2).all()


# -- figures --------------------------------------------------------------------------------------------


def test_figures_have_a_trace_per_scenario_and_titled_axes():
    results = {"base": runs_table(["agreement", "walkout"], [1, 2], ["alpha", "alpha"]),
               "variant": runs_table(["agreement", "agreement"], [1, 3])}  # fmt: skip
    bars = plots.status_bars(tables.status_shares(results, ("agreement", "walkout")))
    assert [t.name for t in bars.data] == ["base", "variant"] and bars.layout.yaxis.title.text == "share of runs"
    assert all(t.error_y.array is not None for t in bars.data)
    curve = plots.survival(tables.no_deal_yet(results, 3), round_days=7)
    assert curve.layout.xaxis.title.text == "round (7 days each)" and len(curve.data) == 4
    terms = plots.distributions(tables.histograms(results, {"term_port": (0, 100)}, "agreement"),
                                {"term_port": ("Port access", "level")}, "Terms")  # fmt: skip
    assert terms.layout.xaxis.title.text == "level" and {t.name for t in terms.data} == {"base", "variant"}
    forest = plots.forest(tables.indicator_forest(results, {"deal": "Deal"}, np.random.default_rng(0)))
    assert len(forest.data) == 3 and "difference from base" in forest.layout.annotations[1].text
    boxes = plots.boxes(tables.spreads(results, {"utility_alpha": "alpha"}), "Utility", "utility", "actor")
    assert [t.name for t in boxes.data] == ["base", "variant"] and boxes.data[0].median[0] == 0.5


def test_user_strings_are_escaped_in_figures():
    results = {MARKUP: runs_table(["agreement"], [1])}
    figure = plots.status_bars(tables.status_shares(results, ("agreement",)))
    assert "<script>" not in figure.data[0].name and "&lt;script&gt;" in figure.data[0].name


def test_provenance_rows_pair_values_with_their_quotes():
    rows = {path: (values, quotes) for path, values, quotes, _ in provenance_rows(two_party())}
    values, quotes = rows["actors.alpha.preferences.port"]
    assert "ideal: 100" in values and quotes == ["Alpha wants the port."]
    assert "issues.port" in rows and "actors.alpha.preferences" not in rows


# -- command line ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Two small scenarios (a second with a stronger outside option and markup in its labels) and a
    results folder of the first."""
    folder = tmp_path_factory.mktemp("compare")
    (folder / "seed.txt").write_text(SEED_TEXT)
    (folder / "a.yaml").write_text(yaml.safe_dump(two_party()))
    variant = two_party(name="variant")
    variant["actors"]["alpha"]["label"] = MARKUP
    variant["issues"]["port"]["label"] = MARKUP
    variant["actors"]["alpha"]["outside_option"]["value"] = 0.5
    (folder / "b.yaml").write_text(yaml.safe_dump(variant))
    done = basing("run", "a.yaml", "-n", "300", "-q", "--out", "a-run", "--workers", "1", cwd=folder)
    assert done.returncode == 0, done.stderr
    done = basing("compare", "a-run", "b.yaml", "-n", "300", "--out", "both.html", "--workers", "1", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_run_writes_a_self_contained_report(project):
    page = (project / "a-run" / "report.html").read_text(encoding="utf-8")
    assert "<script src" not in page and page.count("Plotly.newPlot") >= 6  # plotly.js inline, no CDN
    assert "Alpha wants the port." in page and "How the runs ended" in page and "positions over rounds" in page


def test_the_report_is_the_same_for_the_same_run(project):
    done = basing("run", "a.yaml", "-n", "300", "-q", "--out", "a-again", "--workers", "2", cwd=project)
    assert done.returncode == 0, done.stderr
    assert (project / "a-run" / "report.html").read_bytes() == (project / "a-again" / "report.html").read_bytes()


def test_compare_writes_one_page_with_both_scenarios_and_escapes_markup(project):
    page = (project / "both.html").read_text(encoding="utf-8")
    assert "toy" in page and "variant" in page and page.count("Plotly.newPlot") >= 8
    assert MARKUP not in page and "<script>window.__injected" not in page


def test_compare_of_scenarios_shares_their_seed(project):
    done = basing("compare", "a.yaml", "a.yaml", "-n", "200", "--out", "same.html", "--workers", "1", cwd=project)
    assert done.returncode == 0, done.stderr
    page = (project / "same.html").read_text(encoding="utf-8")
    assert "toy #2" in page  # the same scenario twice: distinct labels, identical runs, zero difference


def test_folders_of_another_scenario_version_are_labelled(project):
    changed = two_party()
    changed["actors"]["alpha"]["patience"] = 0.97
    (project / "a2.yaml").write_text(yaml.safe_dump(changed))
    done = basing("compare", "a-run", "a2.yaml", "-n", "200", "--out", "versions.html", "--workers", "1", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "different versions of scenario" in done.stderr
    assert "scenario version" in (project / "versions.html").read_text(encoding="utf-8")


def test_png_export_without_a_browser_says_how_and_keeps_the_html(project, tmp_path):
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "BROWSER_PATH": str(tmp_path / "none")}
    command = [sys.executable, "-m", "sim", "compare", "a-run", "--out", "nopng.html", "--png", str(tmp_path / "png")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=project, env=env, timeout=300)
    assert done.returncode == 2 and "chromium" in done.stderr.lower() and "Traceback" not in done.stderr
    assert (project / "nopng.html").exists()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no Chromium on this machine (apt-get install chromium)")
def test_png_export_writes_an_image_per_figure(project, tmp_path):
    done = basing("compare", "a-run", "--out", "png.html", "--png", str(tmp_path / "png"), cwd=project)
    assert done.returncode == 0, done.stderr
    images = sorted((tmp_path / "png").glob("*.png"))
    assert len(images) >= 6 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in images)


def _incomplete(project):
    shutil.copytree(project / "a-run", project / "half", dirs_exist_ok=True)
    manifest = json.loads((project / "half" / "manifest.json").read_text())
    (project / "half" / "manifest.json").write_text(json.dumps({**manifest, "status": "incomplete"}))
    return "half"


def _sweep_like(project):
    shutil.copytree(project / "a-run", project / "sweepish", dirs_exist_ok=True)
    manifest = json.loads((project / "sweepish" / "manifest.json").read_text())
    (project / "sweepish" / "manifest.json").write_text(json.dumps({**manifest, "kind": "sweep"}))
    return "sweepish"


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (_sweep_like, "a folder of basing sweep, not one of basing run"),
        (lambda p: "missing-folder", "no such scenario file or results folder"),
        (lambda p: "seed.txt", "neither a scenario file"),
        (lambda p: (p / "plain").mkdir(exist_ok=True) or "plain", "not a results folder"),
        (_incomplete, "finish it with basing run --resume"),
        (lambda p: "both.html", "neither a scenario file"),
    ],
)
def test_compare_refuses_what_it_cannot_compare(project, make, fragment):
    argument = make(project)
    done = basing("compare", "a-run", argument, "--out", "never.html", cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert not (project / "never.html").exists()


def test_compare_refuses_a_mix_of_influence_only_and_bargaining_runs(project):
    from sim.reference.cases import DATA

    done = basing("import", "bdm", str(DATA / "bdm" / "ec_car_emissions.csv"), "-o", "bdm.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    done = basing("compare", "a-run", "bdm.yaml", "-n", "20", "--out", "never.html", cwd=project)
    assert done.returncode == 2 and "influence-only runs with bargaining runs" in done.stderr
    done = basing("compare", "bdm.yaml", "-n", "50", "--out", "influence.html", "--workers", "1", cwd=project)
    assert done.returncode == 0, done.stderr


def test_compare_never_overwrites_a_page(project):
    done = basing("compare", "a-run", "--out", "both.html", cwd=project)
    assert done.returncode == 2 and "already exists" in done.stderr


def test_scenarios_with_different_issues_overlay_the_shared_ones(project):
    more = two_party(name="more")
    more["issues"]["bonus"] = {"label": "Bonus", "unit": "points", "range": [0, 1]}
    more["actors"]["alpha"]["preferences"]["bonus"] = {"ideal": 1, "salience": 0.1}
    (project / "more.yaml").write_text(yaml.safe_dump(more))
    done = basing("compare", "a.yaml", "more.yaml", "-n", "100", "--out", "more.html", "--workers", "1", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "left out of the overlaid distributions: bonus" in " ".join(done.stderr.split())


def test_fan_charts_trace_fewer_runs_of_a_big_scenario():
    from sim.experiments.sources import FAN_TRACE_ROWS, fan_count
    from sim.scenario.schema import Scenario

    data = two_party()
    data["protocol"] = {"horizon": 10_000}
    spec = Scenario.model_validate(data)
    per_run = 10_000 * len(spec.actors) * len(spec.issues)
    assert fan_count(spec, 200, 1000) == FAN_TRACE_ROWS // per_run < 200
    assert fan_count(Scenario.model_validate(two_party()), 200, 50) == 50


def test_a_single_runs_figures_show_no_empty_or_self_comparison_panel(tmp_path):
    """One scenario: the indicator chart has no 'difference from itself' panel, a walkout chart appears
    only when someone walked out (otherwise a note says nobody did), and legends use actors' labels."""
    import sim

    (tmp_path / "seed.txt").write_text(SEED_TEXT)
    calm = two_party(outcomes={"deal": {"label": "A deal", "status": ["agreement"]}})
    (tmp_path / "calm.yaml").write_text(yaml.safe_dump(calm))
    leaving = two_party(name="leaving")
    leaving["actors"]["beta"]["outside_option"]["value"] = 0.95
    (tmp_path / "leaving.yaml").write_text(yaml.safe_dump(leaving))
    from sim.outputs.comparison import figures as drawn_figures

    def drawn(path):
        item = sim.run(sim.load(path), runs=200, seed=1, workers=1)
        notes: list[str] = []
        return drawn_figures([item], notes), notes

    figures, notes = drawn(tmp_path / "calm.yaml")
    titles = [f.layout.title.text for f in figures]
    forest = next(f for f in figures if f.layout.title.text == "Indicators")
    assert not any("difference from" in (a.text or "") for a in forest.layout.annotations)
    assert "Cumulative walkouts by party" not in titles and notes == ["nobody walked out in any run"]
    utility = next(f for f in figures if "utility" in f.layout.title.text)
    assert set(utility.data[0].x) == {"Alpha", "Beta", "Gamma"}  # labels, not the keys alpha, beta, gamma

    figures, notes = drawn(tmp_path / "leaving.yaml")
    walkouts = next(f for f in figures if f.layout.title.text == "Cumulative walkouts by party")
    assert any(trace.name.endswith(": Beta") for trace in walkouts.data) and notes == []
    assert walkouts.layout.yaxis.tickformat == ".2~p"  # distinct tick labels at small shares
