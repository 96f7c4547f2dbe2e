"""DEU III benchmark: forecast 353 EU legislative outcomes with each influence model. Prints a table.

    python benchmarks/deu3.py

Data: the DEU III dataset (Arregui & Perarnaud 2021) with a GDP row (capabilities = GDP / max), as
shipped in sim/reference/data/deu/. Procedure as in the project's reference notes: keep issues with an
outcome; actors with a position take part; an empty salience counts as 0. Scores are absolute errors
against the outcome on the 0-100 scale. Every model runs with its published defaults; nothing is fitted
to this data.
"""

from __future__ import annotations

import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.influence import eum, smp, static  # noqa: E402

DATA = ROOT / "sim" / "reference" / "data" / "deu" / "deu3.csv"
ANCHORS = {"compromise (c.s mean)": 23.22, "weighted median (c.s)": 27.58, "status quo (rp)": 51.11}


@dataclass
class Issue:
    """One legislative issue: its participants' capabilities, positions and saliences (0-100), the status
    quo and the outcome (NaN when missing), the Commission's and the EP's positions."""

    capability: np.ndarray
    position: np.ndarray
    salience: np.ndarray
    status_quo: float
    outcome: float
    commission: float
    parliament: float


def number(text: str) -> float:
    return float(text) if text.strip() not in ("", "NA") else np.nan


def read_issues(path: Path = DATA) -> list[Issue]:
    rows = list(csv.reader(path.open(encoding="utf-8"), delimiter="\t", quotechar='"'))
    header, gdp, body = rows[0], rows[1], rows[2:]
    positions = list(range(13, 43))  # 0-based columns 14-43
    saliences = list(range(43, 73))
    rp, out = header.index("rp"), header.index("out")
    capability_all = np.array([number(gdp[c]) for c in positions])
    capability_all = capability_all / np.nanmax(capability_all)
    issues = []
    for row in body:
        if len(row) <= out or np.isnan(number(row[out])):
            continue
        x = np.array([number(row[c]) for c in positions])
        s = np.array([number(row[c]) for c in saliences])
        present = ~np.isnan(x)
        issues.append(Issue(capability_all[present], x[present], np.nan_to_num(s[present]), number(row[rp]),
                            number(row[out]), number(row[positions[0]]), number(row[positions[1]])))  # fmt: skip
    return issues


def eum_forecast(issue: Issue, rounds: int = 10) -> float:
    """c.s weighted mean after ``rounds`` rounds of the expected-utility model (its published horizon)."""
    c, s, x = issue.capability[None], issue.salience[None] / 100, issue.position[None].astype(float)
    if x.max() == x.min():
        return float(x[0, 0])
    final = eum.run_eum(c, s, x, rounds)[-1]
    return float(eum.weighted_mean(c, s, final)[0])


def smp_forecast(issue: Issue) -> tuple[float, float]:
    """KTAB SMP (defaults, deterministic) to its stopping rule: the c.s weighted mean and median at the end."""
    c, s, x = issue.capability[None], issue.salience[None, :, None] / 100, issue.position[None, :, None] / 100
    final = smp.run_smp(x, s, c).final()[0, :, 0] * 100
    w = issue.capability * issue.salience
    if w.sum() == 0:
        w = issue.capability
    return float(static.weighted_mean(final, w)), float(static.weighted_median(final, w))


def main() -> None:
    issues = read_issues()
    print(f"{len(issues)} issues with an outcome")
    predictors: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        predictors.setdefault(name, []).append(value)

    started = time.perf_counter()
    for issue in issues:
        c, s, x = issue.capability, issue.salience, issue.position
        add("compromise (c.s mean)", static.weighted_mean(x, c * s))
        add("salience-only mean", static.weighted_mean(x, s))
        add("unweighted mean", x.mean())
        add("weighted median (c.s)", static.weighted_median(x, c * s))
        add("weighted median (s only)", static.weighted_median(x, s))
        add("unweighted median", float(np.median(x)))
        add("EP position", issue.parliament)
        add("Commission proposal", issue.commission)
        add("status quo (rp)", issue.status_quo)
        add("EUM, 10 rounds (c.s mean)", eum_forecast(issue))
        mean, median = smp_forecast(issue)
        add("KTAB SMP (c.s mean at the end)", mean)
        add("KTAB SMP (c.s median at the end)", median)
    elapsed = time.perf_counter() - started
    outcome = np.array([i.outcome for i in issues])
    print(f"{'predictor':36} {'N':>4} {'MAE':>7} {'median AE':>10} {'share AE<=10':>13} {'anchor':>7}")
    for name, values in predictors.items():
        error = np.abs(np.array(values) - outcome)
        error = error[~np.isnan(error)]
        anchor = f"{ANCHORS[name]:.2f}" if name in ANCHORS else ""
        print(f"{name:36} {len(error):4d} {error.mean():7.2f} {np.median(error):10.2f} {(error <= 10).mean():13.3f} "
              f"{anchor:>7}")  # fmt: skip
    print(f"(models computed in {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
