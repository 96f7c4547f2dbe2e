"""Score the forecasts of historical cases against what happened, beside three naive baselines.

A case is a scenario written from its cut-off's facts (``scenarios/cases/<case>.yaml``) and its observed
outcome (``scenarios/cases/outcomes/<case>.yaml``), which only this module reads. Each case's scenario is
run as it stands (``runs`` runs, ``seed``); the share of runs ending in each outcome class is the forecast.
Nothing here fits any parameter to the outcomes: the scores are what the scenarios give.

The results are two tables in the EMA Workbench manner: ``cases`` (one row per case and forecaster: the
class probabilities, the observed class and each score) and ``aggregate`` (one row per forecaster and
score: the mean over cases and its bootstrap 95% interval).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import OutputError
from sim.experiments import scores
from sim.experiments.ensemble import run_ensemble
from sim.experiments.pool import map_in_order
from sim.files import file_kind
from sim.outputs.backtest_page import backtest_page
from sim.outputs.store import create_results_dir, git_commit, json_writer, sha256, table_bytes, this_version, versions
from sim.outputs.summary import wilson
from sim.scenario.distributions import mean_of
from sim.scenario.load import load_scenario
from sim.scenario.loaded import LoadedScenario
from sim.scenario.outcome import ObservedOutcome, load_outcome, outcome_path
from sim.scenario.schema import Scenario

CASES_FOLDER = Path("scenarios") / "cases"
DEFAULT_RUNS = 10_000
FORECASTERS = ("model", "uniform", "base_rate", "status_quo")
SCORES = ("brier", "log", "rps", "crps")


@dataclass
class Case:
    """One historical case: its scenario (as loaded) and its observed outcome."""

    path: Path
    loaded: LoadedScenario
    outcome: ObservedOutcome

    @property
    def spec(self) -> Scenario:
        return self.loaded.spec

    @property
    def window_end(self) -> date:
        protocol = self.spec.protocol
        return date.fromordinal(int(self.spec.start_date.toordinal() + protocol.horizon * protocol.round_days))


@dataclass
class Backtest:
    """The experiments table (``cases``), the outcomes summary (``aggregate``) and the observed terms'
    scores (``terms``) of a backtest."""

    cases: pd.DataFrame
    aggregate: pd.DataFrame
    terms: pd.DataFrame


def case_files(named: list[Path]) -> list[Path]:
    """The case scenarios to score: those named, or every ``*.yaml`` in ``scenarios/cases``."""
    if named:
        return named
    if file_kind(CASES_FOLDER, follow=True) != "folder":
        raise OutputError(f"{CASES_FOLDER}: no such folder of cases; name the case files, or run from the project")
    found = sorted(CASES_FOLDER.glob("*.yaml"))
    if not found:
        raise OutputError(f"{CASES_FOLDER}: holds no case (*.yaml)")
    return found


def load_case(path: Path) -> Case:
    """A case's scenario and its outcome file, both checked; problems as located messages."""
    loaded = load_scenario(path)
    observed = outcome_path(path)
    if file_kind(observed, follow=True) is None:
        raise OutputError(f"{path}: a case needs its observed outcome in {observed}, and there is none")
    return Case(path, loaded, load_outcome(observed, loaded))


def simulate_case(spec: Scenario, runs: int, seed: int) -> pd.DataFrame:
    """Each run's outcome class and the terms in force at its end (``force_<issue>``)."""
    table = run_ensemble(spec, runs, seed).runs
    out = pd.DataFrame({"class": table["status"].astype(str).map(scores.CLASS_OF_STATUS)})
    for issue in spec.issues:
        out[issue] = table[f"force_{issue}"].to_numpy(dtype=float)
    return out


def simulate_cases(cases: list[Case], runs: int, seed: int, workers: int,
                   on_case: Callable[[str], None] | None = None) -> list[pd.DataFrame]:  # fmt: skip
    """Every case's runs, a case per worker process; the same whatever the number of workers."""
    told = None if on_case is None else (lambda k: on_case(cases[k].spec.name))
    return map_in_order(simulate_case, [(case.spec, runs, seed) for case in cases], workers, told)


def model_forecast(runs: pd.DataFrame) -> np.ndarray:
    """The share of runs in each class."""
    counts = runs["class"].value_counts()
    return np.array([counts.get(c, 0) for c in scores.CLASSES], dtype=float) / len(runs)


def term_scores(case: Case, forecaster: str, runs: pd.DataFrame) -> list[dict]:
    """A row per observed term: the forecaster's median of it (where it has a distribution of terms) and
    its CRPS over the issue's range (NaN where the forecaster says nothing of terms, or no run has one)."""
    rows = []
    for issue, observed in case.outcome.terms.items():
        low, high = case.spec.issues[issue].range
        median, crps = np.nan, np.nan
        if forecaster == "model":
            ensemble = runs[issue].dropna().to_numpy()
            if ensemble.size:
                median, crps = float(np.median(ensemble)), scores.crps_scaled(ensemble, observed, high - low)
        elif forecaster == "uniform":
            median, crps = 0.5 * (low + high), scores.crps_uniform_scaled(low, high, observed)
        elif forecaster == "status_quo" and case.spec.status_quo is not None:
            median = mean_of(case.spec.status_quo.positions[issue])
            crps = abs(median - observed) / (high - low)
        unit = case.spec.issues[issue].unit
        rows.append({"case": case.spec.name, "forecaster": forecaster, "issue": issue, "unit": unit,
                     "observed": float(observed), "median": median, "crps": crps})  # fmt: skip
    return rows


def others(items: list[str], k: int) -> list[str]:
    """Every item but the k-th: what a leave-one-out base rate of case k counts."""
    return items[:k] + items[k + 1 :]


def score_cases(cases: list[Case], ensembles: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per case and forecaster (class probabilities, the observed one with its interval, the
    scores; ``crps`` the mean over the case's observed terms), and one per observed term and forecaster."""
    rows, terms = [], []
    observed = [case.outcome.observed for case in cases]
    for k, (case, runs) in enumerate(zip(cases, ensembles, strict=True)):
        obs = scores.CLASS_OF_STATUS[case.outcome.observed]
        forecasts = {
            "model": model_forecast(runs),
            "uniform": scores.uniform_forecast(),
            "base_rate": scores.base_rate_forecast([scores.CLASS_OF_STATUS[o] for o in others(observed, k)]),
            "status_quo": scores.status_quo_forecast(),
        }  # fmt: skip
        for forecaster, forecast in forecasts.items():
            p = forecast[scores.CLASSES.index(obs)]
            per_term = term_scores(case, forecaster, runs)
            terms.extend(per_term)
            crps = [t["crps"] for t in per_term if not np.isnan(t["crps"])]
            low, high = wilson(round(p * len(runs)), len(runs))[1:] if forecaster == "model" else (p, p)
            rows.append({
                "case": case.spec.name, "cut_off": case.spec.start_date.isoformat(),
                "window_end": case.window_end.isoformat(), "observed": obs, "forecaster": forecaster,
                **{f"p_{c}": float(v) for c, v in zip(scores.CLASSES, forecast, strict=True)},
                "p_observed": float(p), "p_observed_low": float(low), "p_observed_high": float(high),
                "brier": scores.brier(forecast, obs), "log": scores.log_score(forecast, obs),
                "rps": scores.rps(forecast, obs), "crps": float(np.mean(crps)) if crps else np.nan,
                "runs": len(runs) if forecaster == "model" else 0,
            })  # fmt: skip
    columns = ["case", "forecaster", "issue", "unit", "observed", "median", "crps"]
    return pd.DataFrame(rows), pd.DataFrame(terms, columns=columns)


def aggregate(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Mean of each score over cases, per forecaster, with a bootstrap 95% interval (cases resampled)."""
    rows = []
    for forecaster in FORECASTERS:
        part = table[table["forecaster"] == forecaster]
        for score in SCORES:
            rng = np.random.default_rng([seed, FORECASTERS.index(forecaster), SCORES.index(score)])
            mean, low, high = scores.bootstrap_mean(part[score].to_numpy(), rng)
            rows.append({"forecaster": forecaster, "score": score, "mean": mean, "low": low, "high": high,
                         "cases": int(part[score].notna().sum())})  # fmt: skip
    return pd.DataFrame(rows)


def write_backtest(out: Path | None, cases: list[Case], result: Backtest, runs: int, seed: int,
                   command: list[str]) -> Path:  # fmt: skip
    """A new folder with ``backtest.parquet`` (the case table), ``scores.parquet`` (the aggregate),
    ``terms.parquet`` (each observed term's score), ``backtest.html`` and ``backtest.json`` (what was run:
    cases and their hashes, runs, seed, versions, git commit, and each file's SHA-256). Nothing in it is
    ever overwritten."""
    folder = create_results_dir(out, "backtest")
    try:
        facts = [["cases", str(len(cases))], ["runs per case", f"{runs:,}"], ["seed", str(seed)],
                 ["basing", this_version()]]  # fmt: skip
        notes = [f"log scores floor the probability at {scores.LOG_FLOOR:g}: at most {-np.log(scores.LOG_FLOOR):.2f}",
                 "CRPS is per observed term, divided by the issue's range, averaged over a case's terms"]  # fmt: skip
        contents = {
            "backtest.parquet": table_bytes(result.cases),
            "scores.parquet": table_bytes(result.aggregate),
            "terms.parquet": table_bytes(result.terms),
            "backtest.html": backtest_page(result.cases, result.aggregate, result.terms, facts, notes).encode(),
        }
        for name, data in contents.items():
            folder.create(name, lambda handle, data=data: handle.write(data))
        digests = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
        stamp = {
            "kind": "backtest", "created": datetime.now(UTC).isoformat(timespec="seconds"), "command": command,
            "runs": runs, "seed": seed,
            "cases": [{"name": c.spec.name, "scenario": str(c.path), "scenario_sha256": sha256(c.path),
                       "outcome": str(outcome_path(c.path)), "outcome_sha256": sha256(outcome_path(c.path))}
                      for c in cases],
            "files": digests, "versions": versions(), "git": git_commit(Path(__file__).resolve().parent),
        }  # fmt: skip
        folder.create("backtest.json", json_writer(stamp))
        return folder.path
    finally:
        folder.close()


def run_backtest(paths: list[Path], runs: int = DEFAULT_RUNS, seed: int = 1, workers: int = 1,
                 on_case: Callable[[str], None] | None = None) -> tuple[list[Case], Backtest]:  # fmt: skip
    """Load every case (all problems before any run), simulate them and score them."""
    cases = [load_case(path) for path in case_files(paths)]
    names = [case.spec.name for case in cases]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise OutputError(f"cases named twice: {', '.join(twice)}; each case is scored once")
    ensembles = simulate_cases(cases, runs, seed, workers, on_case)
    table, terms = score_cases(cases, ensembles)
    return cases, Backtest(table, aggregate(table, seed), terms)


__all__ = ["CASES_FOLDER", "DEFAULT_RUNS", "FORECASTERS", "SCORES", "Backtest", "Case", "case_files",
           "load_case", "run_backtest", "score_cases", "simulate_case", "write_backtest"]  # fmt: skip
