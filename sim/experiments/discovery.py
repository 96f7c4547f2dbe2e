"""Scenario discovery on a results folder: under which drawn inputs does an outcome of interest happen,
and which inputs matter?

The experiments table is ``inputs.parquet`` (a row per run) and the outcome a yes/no per run made from
``runs.parquet`` (see ``outcome_of``). Three methods answer:

* **PRIM** (``sim.experiments.prim``): a box of input limits where the outcome is dense, its peeling
  trajectory, quasi-p values, and up to K boxes found in turn;
* **CART** (scikit-learn's decision tree, leaves of at least 5% of the runs, depth at most 4): every leaf
  where the outcome is more common than overall is a box, with the same statistics;
* **feature scores**: extra-trees importances (Geurts et al. 2006, as EMA Workbench's
  ``feature_scoring``), refitted on bootstrap resamples of the runs for a 95% interval.

Everything is seeded from the folder's seed, so the same folder and options give the same bytes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import OutputError
from sim.experiments import prim as prim_method
from sim.outputs.discovery_page import Driver
from sim.outputs.results import Results
from sim.outputs.summary import IN_FORCE, share, statuses_of
from sim.outputs.wording import percent
from sim.scenario.schema import Scenario

METHODS = ("prim", "cart")
SCORE_REFITS = 10  # bootstrap refits of the feature scores
SCORE_TREES = 100  # trees per extra-trees fit
SCORE_SAMPLE = 5_000  # runs per refit at most (the scores' interval comes from the refits)
CART_DEPTH, CART_LEAF = 4, 0.05  # deepest tree, and smallest leaf as a share of the runs
# The report's section reads the first REPORT_RUNS runs and fits cheaper scores, so that it adds
# about a second or two to basing run whatever the runs (basing discover does the full analysis).
REPORT_RUNS = 4_000
REPORT_MIN_RUNS = 1_000  # fewer runs make boxes of a few dozen runs: noise, so the section says so
REPORT_SCORES = {"refits": 4, "trees": 25, "sample": 2_000}
REPORT_TOP = 3  # inputs named per indicator
REPORT_LIMITS = 4  # limits named per box


@dataclass(frozen=True)
class Outcome:
    """An outcome of interest: ``name`` as asked, ``text`` in words, ``cases`` (N,) which runs have it."""

    name: str
    text: str
    cases: np.ndarray


def outcome_of(runs: pd.DataFrame, spec: Scenario, name: str, threshold: float | None = None,
               below: bool = False) -> Outcome:  # fmt: skip
    """The runs with the outcome ``name``: an indicator of the scenario (``russia_keeps_tartus``), a
    condition on a label column (``status=agreement``, ``status=walkout,breakdown``, ``in_force=...``,
    ``walkout_actor=syria``), or a number column (``term_tartus``, ``utility_syria``, ``round``) above
    ``threshold`` (below it with ``below``; a run without the number, such as a term where nothing was
    agreed, is not a case). Refused: a name that is none of these, and an outcome that every run has or
    none has (nothing to discover)."""
    labels = ("status", "in_force", "walkout_actor")
    if "=" in name:
        column, _, wanted = name.partition("=")
        if column not in labels or column not in runs:
            raise OutputError(f"--outcome {name}: a condition is one of {', '.join(labels)}=value[,value...]")
        values = [v.strip() for v in wanted.split(",") if v.strip()]
        possible = {"status": statuses_of(spec), "in_force": IN_FORCE, "walkout_actor": spec.parties()}[column]
        known = sorted({*possible, *(str(v) for v in runs[column].dropna().unique())})
        unknown = [v for v in values if v not in known]
        if not values or unknown:
            raise OutputError(f"--outcome {name}: {', '.join(unknown) or 'no value'} is not a value of {column} in "
                              f"this scenario ({', '.join(known)})")  # fmt: skip
        cases = runs[column].astype(str).isin(values).to_numpy()
        text = f"{column} is {' or '.join(values)}"
    elif name in spec.outcomes:
        cases = runs[name].to_numpy(dtype=bool)
        text = spec.outcomes[name].label
        if threshold is not None:
            raise OutputError(f"--threshold: {name} is a yes/no indicator; it takes no threshold")
    elif name in runs and pd.api.types.is_numeric_dtype(runs[name]) and name != "run":
        if threshold is None:
            raise OutputError(f"--outcome {name}: a number per run; give --threshold T (cases: above T, or below "
                              "it with --below)")  # fmt: skip
        values = runs[name].to_numpy(dtype=float)
        cases = (values < threshold) if below else (values > threshold)
        text = f"{name} {'<' if below else '>'} {threshold:g}"
    else:
        known = [*spec.outcomes, *(c for c in runs.columns if c.startswith(("term_", "force_", "utility_"))),
                 "round", *(f"{c}=..." for c in labels)]  # fmt: skip
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise OutputError(f"--outcome {name}: not an indicator, a condition or a number column of these runs{hint} "
                          f"(indicators: {', '.join(spec.outcomes) or 'none'}; conditions: status=..., "
                          "in_force=..., walkout_actor=...; numbers: term_*, force_*, utility_*, round)")  # fmt: skip
    count = int(cases.sum())
    if count in (0, len(cases)):
        raise OutputError(f"--outcome {name}: {'every' if count else 'no'} run has it ({text}), so there is "
                          "nothing to discover; choose another outcome or threshold")  # fmt: skip
    return Outcome(name, text, cases)


def input_matrix(inputs: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The inputs that vary across the runs, and their values (N, D); a missing first round (an event
    that never came up in the window) counts as one round past the window's end. The ids ``run`` and
    ``point`` are not inputs, and nor is a sweep's varied value given as text (a mapping or a word):
    boxes need an order."""
    names, columns = [], []
    for name in inputs.columns:
        if name in ("run", "point") or not (pd.api.types.is_numeric_dtype(inputs[name])
                                            or pd.api.types.is_bool_dtype(inputs[name])):  # fmt: skip
            continue
        values = inputs[name].to_numpy(dtype=float)
        if name.endswith(".first_round"):
            values = np.where(np.isnan(values), np.nanmax(values, initial=0.0) + 1.0, values)
        if np.isnan(values).any() or np.ptp(values) == 0:
            continue
        names.append(name)
        columns.append(values)
    return names, np.column_stack(columns) if columns else np.zeros((len(inputs), 0))


@dataclass
class Discovery:
    """What ``discover`` found: ``trajectory`` (PRIM's peeling, a row per step and box), ``boxes`` (a
    row per box and input: its limits against the inputs' range, quasi-p for PRIM), ``scores`` (a row
    per input: the feature score with its 95% interval, best first), ``summary`` (a row per box)."""

    outcome: Outcome
    method: str
    trajectory: pd.DataFrame
    boxes: pd.DataFrame
    summary: pd.DataFrame
    scores: pd.DataFrame
    files: list[Path] = field(default_factory=list)  # the files written, if any
    labels: dict[str, str] = field(default_factory=dict)  # readable names of the inputs

    def sentence(self, labels: dict[str, str] | None = None, box: int = 0, most: int | None = None) -> str:
        """The box in one line: 'X: in 92% (90-94%) of runs where a < 0.46 and b > 0.985; these cover
        61% of the runs with it (40% of all runs)'; the interval is the box density's 95% Wilson
        interval. With ``most``, at most that many limits are named (those with the lowest quasi-p) and
        the others counted."""
        if self.summary.empty:
            return f"no box found for {self.outcome.text}"
        return f"{self.outcome.text}: {self.box_text(labels, box, most)}"

    def box_text(self, labels: dict[str, str] | None = None, box: int = 0, most: int | None = None) -> str:
        """``sentence`` without the outcome's name: 'in 92% (90-94%) of runs where ...' (a box must exist)."""
        row = self.summary.iloc[box]
        limits = self.boxes[(self.boxes["box"] == box) & self.boxes["restricted"]]
        labels = self.labels if labels is None else labels
        named = limits if most is None else limits.sort_values("quasi_p", kind="stable").head(most)
        parts = [limit_text(r, labels.get(r.input, r.input)) for r in named.itertuples()]
        if len(limits) > len(named):
            more = len(limits) - len(named)
            parts.append(f"{more} more limit{'s' if more > 1 else ''}")
        where = " and ".join(parts) if parts else "anywhere (no input restricted)"
        held = round(row.mass * len(self.outcome.cases))
        density, interval = percent(share(round(row.density * held), held))
        return (
            f"in {density} ({interval}) of runs where {where}; these cover "
            f"{row.coverage:.0%} of the runs with it ({row.mass:.0%} of all runs)"
        )


def limit_text(row, label: str) -> str:
    """One restricted input's limits as text: 'a > 0.46', 'b < 3', '0.2 < c < 0.4'."""
    low = row.low > row.range_low
    high = row.high < row.range_high
    if low and high:
        return f"{row.low:.4g} < {label} < {row.high:.4g}"
    return f"{label} > {row.low:.4g}" if low else f"{label} < {row.high:.4g}"


def _prim_tables(names, x, y, boxes: int):
    found = prim_method.prim(x, y, boxes)
    low, high = x.min(axis=0), x.max(axis=0)
    steps, limits, summary = [], [], []
    for b, result in enumerate(found):
        for k, box in enumerate(result.trajectory):
            steps.append({"box": b, "step": k, "coverage": box.coverage, "density": box.density, "mass": box.mass,
                          "restricted_inputs": len(box.restricted), "chosen": k == result.chosen})  # fmt: skip
        chosen = result.box
        summary.append({"box": b, "step": result.chosen, "coverage": chosen.coverage, "density": chosen.density,
                        "mass": chosen.mass, "restricted_inputs": len(chosen.restricted)})  # fmt: skip
        for j, name in enumerate(names):
            limits.append({"box": b, "input": name, "low": float(chosen.low[j]), "high": float(chosen.high[j]),
                           "range_low": float(low[j]), "range_high": float(high[j]),
                           "restricted": j in chosen.restricted, "quasi_p": result.quasi_p.get(j, np.nan)})  # fmt: skip
    return pd.DataFrame(steps), pd.DataFrame(limits), pd.DataFrame(summary)


def _cart_tables(names, x, y, seed: int):
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=CART_DEPTH, min_samples_leaf=max(1, int(CART_LEAF * len(y))),
                                  random_state=seed).fit(x, y)  # fmt: skip
    structure, leaf_of = tree.tree_, tree.apply(x)
    low, high = x.min(axis=0), x.max(axis=0)
    bounds = {0: (low.copy(), high.copy())}
    for node in range(structure.node_count):  # parents come before children in sklearn's numbering
        left, right = structure.children_left[node], structure.children_right[node]
        if left < 0:
            continue
        j, cut = structure.feature[node], structure.threshold[node]
        lo, hi = bounds[node]
        bounds[left] = (lo.copy(), hi.copy())
        bounds[left][1][j] = min(hi[j], cut)
        bounds[right] = (lo.copy(), hi.copy())
        bounds[right][0][j] = max(lo[j], cut)
    base, total = y.mean(), y.sum()
    leaves = []
    for leaf in np.unique(leaf_of):
        inside = leaf_of == leaf
        leaves.append((float(y[inside].mean()), int(inside.sum()), int(leaf), inside))
    leaves = [item for item in sorted(leaves, key=lambda t: (-t[0], -t[1], t[2])) if item[0] > base]
    limits, summary = [], []
    for b, (density, count, leaf, inside) in enumerate(leaves):
        lo, hi = bounds[leaf]
        restricted = [(lo[j] > low[j]) or (hi[j] < high[j]) for j in range(len(names))]
        summary.append({"box": b, "step": leaf, "coverage": float(y[inside].sum() / total), "density": density,
                        "mass": count / len(y), "restricted_inputs": int(sum(restricted))})  # fmt: skip
        for j, name in enumerate(names):
            limits.append({"box": b, "input": name, "low": float(lo[j]), "high": float(hi[j]),
                           "range_low": float(low[j]), "range_high": float(high[j]), "restricted": restricted[j],
                           "quasi_p": np.nan})  # fmt: skip
    return pd.DataFrame(columns=["box", "step", "coverage", "density", "mass", "restricted_inputs", "chosen"]), \
        pd.DataFrame(limits), pd.DataFrame(summary)  # fmt: skip


def feature_scores(names: list[str], x: np.ndarray, y: np.ndarray, seed: int, refits: int = SCORE_REFITS,
                   trees: int = SCORE_TREES, sample: int = SCORE_SAMPLE) -> pd.DataFrame:  # fmt: skip
    """Extra-trees importances of every input for the outcome (they sum to 1 in each fit): the mean over
    ``refits`` fits of ``trees`` trees on bootstrap resamples of the runs (``sample`` at most each) and
    their 2.5-97.5 percentiles as a 95% interval; best first."""
    from sklearn.ensemble import ExtraTreesClassifier

    rng = np.random.default_rng([seed, 15])
    n = len(y)

    def fit(rows: np.ndarray, k: int) -> np.ndarray:
        model = ExtraTreesClassifier(n_estimators=trees, max_features="sqrt", min_samples_leaf=5,
                                     random_state=k, n_jobs=1)  # fmt: skip
        return model.fit(x[rows], y[rows]).feature_importances_

    refitted = np.array([fit(rng.choice(n, size=min(n, sample), replace=True), k) for k in range(refits)])
    table = pd.DataFrame({"input": names, "score": refitted.mean(axis=0), "low": np.percentile(refitted, 2.5, axis=0),
                          "high": np.percentile(refitted, 97.5, axis=0)})  # fmt: skip
    table = table.sort_values(["score", "input"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def discover(inputs: pd.DataFrame, outcome: Outcome, method: str = "prim", boxes: int = 1, seed: int = 1,
             refits: int = SCORE_REFITS) -> Discovery:  # fmt: skip
    """Boxes (PRIM or CART) and feature scores for ``outcome`` over the ``inputs`` table (rows in the
    runs' order)."""
    if method not in METHODS:
        raise OutputError(f"--method {method}: choose {' or '.join(METHODS)}")
    if boxes < 1:
        raise OutputError(f"--boxes {boxes}: at least 1")
    names, x = input_matrix(inputs)
    if not names:
        raise OutputError("no input varies across these runs (the scenario draws nothing): nothing to discover")
    y = outcome.cases.astype(bool)
    if method == "prim":
        trajectory, limits, summary = _prim_tables(names, x, y, boxes)
    else:
        trajectory, limits, summary = _cart_tables(names, x, y, seed)
        summary = summary.head(boxes)
        limits = limits[limits["box"] < boxes].reset_index(drop=True)
    return Discovery(outcome, method, trajectory, limits, summary, feature_scores(names, x, y, seed, refits))


def discovery_table(found: Discovery) -> pd.DataFrame:
    """``discovery.parquet``: one tidy table, its ``part`` saying what a row is (trajectory: a PRIM peeling
    step; box: a box's limits on one input; score: an input's feature score), with the outcome and the
    method on every row; fields that do not apply to a part are empty."""
    parts = [found.trajectory.assign(part="trajectory"), found.boxes.assign(part="box"),
             found.scores.assign(part="score")]  # fmt: skip
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    table.insert(0, "method", found.method)
    table.insert(0, "outcome", found.outcome.name)
    return table


def input_labels(spec: Scenario, columns: list[str]) -> dict[str, str]:
    """Readable names of the inputs: actors and issues by their labels (``Russia: patience``); a sweep's
    varied parameter as ``varied: ...``."""
    out = {}
    for column in columns:
        varied = column.startswith("varied.")
        parts = column.removeprefix("varied.").split(".")
        if parts[0] in ("actors", "derived") and len(parts) > 2 and parts[1] in spec.actors:
            rest = ".".join(parts[2:])
            for issue, value in spec.issues.items():
                rest = rest.replace(f"preferences.{issue}.", f"{value.label}: ")
            out[column] = f"{'varied: ' if varied else ''}{spec.actors[parts[1]].label}: {rest}"
    return out


def drivers(item: Results, runs: int = REPORT_RUNS, seed: int | None = None) -> list[Driver]:
    """What drives each indicator of ``item``'s scenario, for the report: PRIM's box in one line and the
    REPORT_TOP inputs by (cheaper) feature score, from the first ``runs`` runs. Empty for results without
    inputs, with fewer than REPORT_MIN_RUNS runs, or whose scenario draws nothing. Indicators that hold
    in exactly the same runs share one analysis."""
    if not item.spec.outcomes or item.runs_count < REPORT_MIN_RUNS:
        return []
    inputs = item.first_inputs(runs)
    if inputs is None:
        return []
    names, x = input_matrix(inputs)
    if not names:
        return []
    table = item.first_runs(len(inputs))
    labels = input_labels(item.spec, names)
    found, done = [], {}
    for name, indicator in item.spec.outcomes.items():
        cases = table[name].to_numpy(dtype=bool)
        if cases.all() or not cases.any():
            found.append(Driver(indicator.label, f"{'every' if cases.all() else 'no'} run has it: nothing to tell"))
            continue
        key = cases.tobytes()
        if key not in done:
            trajectory, limits, summary = _prim_tables(names, x, cases, 1)
            scores = feature_scores(names, x, cases, item.seed if seed is None else seed, **REPORT_SCORES)
            found_box = Discovery(Outcome(name, indicator.label, cases), "prim", trajectory, limits, summary, scores,
                                  labels=labels)  # fmt: skip
            text = found_box.box_text(most=REPORT_LIMITS) if not summary.empty else "no box found"
            top = tuple((labels.get(r.input, r.input), r.score, r.low, r.high)
                        for r in scores.head(REPORT_TOP).itertuples())  # fmt: skip
            done[key] = (text, top)
        found.append(Driver(indicator.label, *done[key]))
    return found
