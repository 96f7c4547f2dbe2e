"""Results side by side: the figures of a comparison (``basing compare``) and of one run's report
(``report.html``), and the pages that hold them. The first result is the reference for differences; a
chart that would show nothing is left out, with a note saying so.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.errors import FileError, OutputError
from sim.files import file_kind, read_bounded, write_new
from sim.outputs import report
from sim.outputs.discovery_page import Driver, drivers_html
from sim.outputs.escape import esc
from sim.outputs.figures import outcomes as plots
from sim.outputs.figures import tables
from sim.outputs.results import Results
from sim.outputs.store import make_folders, this_version
from sim.outputs.summary import IN_FORCE, STATUSES, statuses_of
from sim.scenario.schema import Scenario

PNG_BYTES = 64 * 2**20  # the largest image read back from kaleido (a figure is well under 1 MB)
BOOTSTRAP_SEED = 20250215  # the forest plot's bootstrap draws; fixed so a page is the same every time


def label_and_check(items: list[Results]) -> list[str]:
    """Give each result a distinct legend label and return notes for the page; refuse a mix of
    influence-only and bargaining results."""
    kinds = {item.influence_only for item in items}
    if len(kinds) > 1:
        mixed = ", ".join(f"{i.origin} ({'influence-only' if i.influence_only else 'bargaining'})" for i in items)
        raise OutputError(f"cannot compare influence-only runs with bargaining runs: {mixed}")
    notes = [note for item in items for note in item.notes]
    by_name: dict[str, set[str]] = {}
    for item in items:
        by_name.setdefault(item.spec.name, set()).add(item.fingerprint)
    now = this_version()
    for item in items:
        if len(by_name[item.spec.name]) > 1:
            item.label = f"{item.spec.name} (scenario version {item.fingerprint})"
        if item.made_with != now:
            item.label += f" [basing {item.made_with}]"
            notes.append(f"{item.origin} was made with basing {item.made_with}; this is basing {now}")
    for name, prints in by_name.items():
        if len(prints) > 1:
            notes.append(f"{len(prints)} different versions of scenario '{name}' are compared; each is labelled "
                         "with a hash of its resolved scenario")  # fmt: skip
    seen: dict[str, int] = {}
    for item in items:
        seen[item.label] = seen.get(item.label, 0) + 1
        if seen[item.label] > 1:
            item.label = f"{item.label} #{seen[item.label]}"
    unshared = sorted({i for item in items for i in item.spec.issues} - set.intersection(
        *(set(item.spec.issues) for item in items)))  # fmt: skip
    if unshared:
        notes.append(f"issues not in every scenario are left out of the overlaid distributions: {', '.join(unshared)}")
    seeds = {item.seed for item in items}
    if len(seeds) > 1:
        notes.append(f"the results use different seeds ({', '.join(map(str, sorted(seeds)))}): differences include "
                     "the noise of different draws, and the bootstrap treats them as unpaired")  # fmt: skip
    return notes


def _issue_axes(spec: Scenario) -> dict[str, tuple[str, str]]:
    return {name: (issue.label, issue.unit) for name, issue in spec.issues.items()}


# The figures of a comparison, in page order (``figures(..., parts=...)`` picks some). For influence-only
# scenarios "status" is how the runs stopped, "survival" the time to convergence, "terms" the forecasts
# and "utilities" the winning probabilities; the others do not apply.
PARTS = ("status", "in_force", "force", "terms", "survival", "walkouts", "indicators", "utilities", "fans")


def figures(items: list[Results], notes: list[str] | None = None,
            parts: Collection[str] = PARTS) -> list[go.Figure]:  # fmt: skip
    """The comparison's figures, in page order; the first result is the reference for differences. A
    chart that would show nothing is left out, with a line in ``notes`` saying so. ``parts`` (of
    ``PARTS``) chooses which of a bargaining scenario's figures to draw."""
    notes = [] if notes is None else notes
    first = items[0].spec
    actor_labels = {name: actor.label for item in items for name, actor in item.spec.actors.items()}
    runs = {item.label: item.runs for item in items}
    horizon = max(item.spec.protocol.horizon for item in items)
    round_days = first.protocol.round_days
    issues = {name: axes for item in items for name, axes in _issue_axes(item.spec).items()}
    if items[0].influence_only:
        out = _influence_figures(items, runs, issues, horizon, round_days, actor_labels, set(parts))
    else:
        out = _bargaining_figures(items, runs, issues, horizon, round_days, actor_labels, notes, set(parts))
    if "fans" in parts:
        traces = {item.label: item.trace for item in items if item.trace is not None}
        fan = tables.position_fans(traces, horizon)
        for label in dict.fromkeys(fan["scenario"]):
            out.append(plots.fans(fan, issues, round_days, label, actor_labels))
    return out


def _influence_figures(items, runs, issues, horizon: int, round_days: float, actor_labels,
                       parts: set[str]) -> list[go.Figure]:  # fmt: skip
    out = []
    if "status" in parts:
        out.append(plots.status_bars(tables.status_shares(runs, ("converged", "horizon")), "How the runs stopped"))
    if "survival" in parts:
        converged = tables.no_deal_yet(runs, horizon, "converged")
        out.append(plots.survival(converged, round_days, "Chance that positions have not converged yet",
                                  "share of runs not converged"))  # fmt: skip
    if "terms" in parts:
        out.append(_overlaid(items, runs, issues, "forecast_mean_", "Forecast: weighted mean position at the end"))
    wins = [c for c in items[0].runs.columns if c.startswith("win_")]
    if "utilities" in parts and wins and all(set(wins) <= set(item.runs.columns) for item in items):
        names = {c: actor_labels.get(c.removeprefix("win_"), c.removeprefix("win_")) for c in wins}
        out.append(plots.boxes(tables.spreads(runs, names), "Winning probability of each actor's final position",
                               "probability", "actor", [0, 1]))  # fmt: skip
    return out


def _bargaining_figures(items, runs, issues, horizon: int, round_days: float, actor_labels, notes: list[str],
                        parts: set[str]) -> list[go.Figure]:  # fmt: skip
    parties = list(dict.fromkeys(p for item in items for p in item.spec.parties()))
    labels = {name: o.label for item in items for name, o in item.spec.outcomes.items()}
    shared = [name for name in labels if all(name in item.runs for item in items)]
    paired = {item.label: item.seed == items[0].seed for item in items}
    actors = list(dict.fromkeys(a for item in items for a in item.spec.actors))
    shared_actors = [a for a in actors if all(f"utility_{a}" in item.runs for item in items)]
    statuses = tuple(s for s in STATUSES if any(s in statuses_of(item.spec) for item in items))
    in_force = all("in_force" in item.runs for item in items)  # folders of basing 0.2 on
    out = []
    if "status" in parts:
        out.append(plots.status_bars(tables.status_shares(runs, statuses)))
    if "in_force" in parts and in_force:
        out.append(plots.status_bars(tables.status_shares(runs, IN_FORCE, "in_force"),
                                     "What is in force when the window closes"))  # fmt: skip
    if "force" in parts and in_force:
        out.append(_overlaid(items, runs, issues, "force_", "Terms in force at the end (agreed, or the status quo's)"))
    if "terms" in parts:
        out.append(_overlaid(items, runs, issues, "term_", "Agreed terms per issue", only="agreement"))
    if "survival" in parts:
        out.append(plots.survival(tables.no_deal_yet(runs, horizon), round_days))
    if "walkouts" in parts:
        walkouts = tables.walkouts_by_round(runs, parties, horizon)
        if walkouts["share"].gt(0).any():
            out.append(plots.walkout_curves(walkouts, round_days, actor_labels))
        else:
            notes.append("nobody walked out in any run" + ("" if len(items) == 1 else " of any scenario"))
    if "indicators" in parts and shared:
        forest = tables.indicator_forest(runs, {n: labels[n] for n in shared},
                                         np.random.default_rng(BOOTSTRAP_SEED), paired=paired)  # fmt: skip
        out.append(plots.forest(forest))
    if "utilities" in parts:
        out.append(plots.boxes(tables.spreads(runs, {f"utility_{a}": actor_labels[a] for a in shared_actors}),
                               "Each actor's utility of the outcome", "utility (0 = worst, 1 = ideal package)",
                               "actor", [0, 1]))  # fmt: skip
    return out


def _overlaid(items: list[Results], runs: dict[str, pd.DataFrame], issues: dict[str, tuple[str, str]], prefix: str,
              title: str, only: str | None = None) -> go.Figure:  # fmt: skip
    """Distributions of one column per shared issue (``prefix`` + issue), scenarios overlaid."""
    ranges = _ranges(items, prefix)
    panels = {column: issues[column.removeprefix(prefix)] for column in ranges}
    note = "no run reached an agreement" if only == "agreement" else "no runs to show"
    return plots.distributions(tables.histograms(runs, ranges, only=only), panels, title, note)


def _ranges(items: list[Results], prefix: str) -> dict[str, tuple[float, float]]:
    """The columns of the issues every scenario has, each with the widest range any of them gives it
    (an issue only some scenarios have cannot be overlaid, and is left out)."""
    shared = [name for name in items[0].spec.issues if all(name in item.spec.issues for item in items)]
    ranges: dict[str, tuple[float, float]] = {}
    for name in shared:
        lows, highs = zip(*(item.spec.issues[name].range for item in items), strict=True)
        ranges[prefix + name] = (min(lows), max(highs))
    return ranges


def compare_page(items: list[Results], notes: list[str], figs: list[go.Figure]) -> str:
    """The comparison as one self-contained page."""
    rows = [[item.label, item.origin, f"{len(item.runs):,}", item.seed, item.made_with] for item in items]
    body = (report.notes_html(notes)
            + report.table(["scenario", "from", "runs", "seed", "basing"], rows, {2, 3})
            + "<h2>Figures</h2>" + report.figures_html(figs)
            + "".join(f"<h2>{esc(item.label)}: summary</h2>" + report.summary_tables(item.summary)
                      for item in items))  # fmt: skip
    return report.document("Comparison: " + " vs ".join(item.label for item in items), body)


def run_report(item: Results, drivers: Sequence[Driver] = (), driver_runs: int = 0) -> str:
    """``report.html`` of one run's results: summary tables, figures, what drives each indicator (the
    ``drivers``, read from the first ``driver_runs`` runs), the scenario with its quotes."""
    notes = label_and_check([item])
    drawn = figures([item], notes)
    facts = [["runs", f"{item.runs_count:,}"], ["seed", item.seed], ["basing", item.made_with],
             ["overrides", ", ".join(item.overrides) or "none"]]  # fmt: skip
    body = (report.notes_html(notes)
            + f"<p>{esc(item.spec.question)}</p>" + report.table(["", ""], facts)
            + "<h2>Summary</h2>" + report.summary_tables(item.summary)
            + "<h2>Figures</h2>" + report.figures_html(drawn)
            + drivers_html(list(drivers), min(driver_runs, item.runs_count), item.runs_count)
            + "<h2>The scenario, with its sources</h2>" + report.scenario_section(item.resolved))  # fmt: skip
    return report.document(f"{item.spec.name}: report", body)


def check_kaleido() -> None:
    """Refuse --png at once where kaleido is not installed."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        raise OutputError("--png needs kaleido: pip install kaleido") from None


def write_pngs(figs: list[go.Figure], folder: Path) -> list[Path]:
    """Static PNG images of the figures (kaleido, which drives a Chrome or Chromium browser). All are
    drawn in one browser session (five times faster than one session per figure, the same bytes), into
    a temporary folder; a figure that session did not write (kaleido can drop one under load without
    saying so) is drawn again on its own. Then each is written as a new file, never over one."""
    import tempfile

    import plotly.io as pio

    check_kaleido()
    make_folders(folder)
    paths = [folder / f"figure-{k + 1:02d}.png" for k in range(len(figs))]
    try:
        with tempfile.TemporaryDirectory(prefix="basing-png-") as scratch:
            drawn = [Path(scratch) / path.name for path in paths]
            heights = [f.layout.height or 550 for f in figs]
            pio.write_images(figs, drawn, format="png", width=1100, height=heights)
            images = [read_bounded(path, PNG_BYTES) if file_kind(path) == "file" else
                      figure.to_image(format="png", width=1100, height=height)
                      for path, figure, height in zip(drawn, figs, heights, strict=True)]  # fmt: skip
    except Exception as exc:  # kaleido reports a missing browser in several ways
        raise OutputError(f"--png: kaleido could not export images ({exc.__class__.__name__}: {exc}). It needs a "
                          "Chrome or Chromium browser: on Debian or Ubuntu, apt-get install chromium (or run "
                          "plotly_get_chrome). The HTML page was written.") from None  # fmt: skip
    for image, target in zip(images, paths, strict=True):
        try:
            write_new(target, lambda handle, image=image: handle.write(image))
        except FileError as exc:
            raise OutputError(str(exc)) from None
    return paths
