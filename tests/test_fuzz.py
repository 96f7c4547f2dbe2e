"""Property-based fuzzing of the loader and of --set: whatever the structure or the text, loading a
scenario either succeeds or raises the project's own error with a located message; nothing else."""

from __future__ import annotations

import copy
import math

import pytest
import yaml
from conftest import SEED_TEXT, two_party
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["party", "stakeholder", "uniform", "normal", "", "0.5", "1e309", ".nan", "-.inf"]),
)  # fmt: skip
keys = st.one_of(st.text(max_size=12), st.sampled_from(["name", "actors", "issues", "dist", "low", "high", "range"]))


def containers(inner):
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4))


values = st.recursive(scalars, containers, max_leaves=25)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz")
    (path / "seed.txt").write_text(SEED_TEXT)
    return path


def loads_or_says_why(path, overrides=()) -> None:
    try:
        load_scenario(path, list(overrides))
    except ScenarioError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        assert str(exc)


@FUZZ
@given(document=values)
def test_any_structure_loads_or_raises_a_scenario_error(folder, document):
    path = folder / "any.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    loads_or_says_why(path)


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_load_or_raise_a_scenario_error(folder, raw):
    path = folder / "bytes.yaml"
    path.write_bytes(raw)
    loads_or_says_why(path)


def paths_of(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths_of(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths_of(value, (*prefix, index))


VALID = two_party()
VALID_PATHS = [p for p in paths_of(VALID) if p]


@FUZZ
@given(where=st.sampled_from(VALID_PATHS), value=values)
def test_a_valid_scenario_with_any_value_anywhere_loads_or_raises(folder, where, value):
    data = copy.deepcopy(VALID)
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    path = folder / "mutated.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loads_or_says_why(path)


dotted = st.lists(st.one_of(st.sampled_from(["actors", "alpha", "beta", "issues", "port", "preferences", "ideal",
                                             "salience", "protocol", "horizon", "events", "0", "points"]),
                            st.text(max_size=8)), min_size=0, max_size=5).map(".".join)  # fmt: skip


@FUZZ
@given(path=dotted, text=st.text(max_size=30), separator=st.sampled_from(["=", "", "==", " = "]))
def test_any_set_assignment_loads_or_raises(folder, path, text, separator):
    scenario = folder / "valid.yaml"
    if not scenario.exists():
        scenario.write_text(yaml.safe_dump(VALID), encoding="utf-8")
    loads_or_says_why(scenario, [f"{path}{separator}{text}"])


@FUZZ
@given(value=values)
def test_any_set_value_on_a_real_path_loads_or_raises(folder, value):
    scenario = folder / "valid.yaml"
    if not scenario.exists():
        scenario.write_text(yaml.safe_dump(VALID), encoding="utf-8")
    text = yaml.safe_dump(value, default_flow_style=True).strip().replace("\n", " ")
    if isinstance(value, float) and not math.isfinite(value):
        text = ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    loads_or_says_why(scenario, [f"actors.alpha.capability={text}"])


# -- a scenario that validates runs: numbers and dates at every numeric path


def rich_scenario() -> dict:
    """The small scenario with every kind of number the schema holds: a distribution, an event with a
    temporary effect and a fixed-round one, an indicator with bounds, days per round."""
    data = two_party()
    data["actors"]["alpha"]["patience"] = {"dist": "uniform", "low": 0.9, "high": 0.99}
    data["actors"]["beta"]["risk"] = {"dist": "normal", "mean": 0.2, "sd": 0.3, "low": -1, "high": 1}
    data["protocol"].update(round_days=7, belief_step=0.02)
    data["events"] = {
        "shock": {"label": "Shock", "hazard": 0.2, "repeat": True,
                  "effects": [{"field": "actors.alpha.capability", "op": "multiply", "value": 2.0, "rounds": 3}]},
        "fixed": {"label": "Fixed", "round": 2,
                  "effects": [{"field": "actors.beta.preferences.money.ideal", "op": "add", "value": 1.5}]},
    }  # fmt: skip
    data["outcomes"]["big_port"] = {"label": "Big port", "status": ["agreement"], "terms": {"port": {"min": 40}},
                                    "within_rounds": 10}  # fmt: skip
    return data


RICH = rich_scenario()


def _at(data, path):
    node = data
    for key in path:
        node = node[key]
    return node


NUMERIC_PATHS = [p for p in paths_of(RICH) if p and type(_at(RICH, p)) in (int, float)]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=-2.0, max_value=2.0),
    st.integers(min_value=-(10**300), max_value=10**300), st.integers(min_value=-3, max_value=20_000),
    st.sampled_from([5e-324, -5e-324, 1e15, 1e15 + 1, 2**53, 2**63, 1e308, -1e308, 0, 1, 10_000, 10_001]),
)  # fmt: skip
DATES = st.one_of(st.dates().map(str), st.sampled_from(["2025-13-01", "0000-01-01", "9999-12-31", "2025-02-30"]))


def runs_cleanly(spec) -> None:
    """Three runs, summarised with their dates, with every warning an error."""
    import warnings

    import numpy as np

    from sim.experiments.ensemble import run_chunk
    from sim.outputs.summary import Summary

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = run_chunk(spec, np.arange(3), 1).runs
        summary = Summary(spec)
        summary.add(runs)
        summary.result()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(NUMERIC_PATHS), value=NUMBERS, start=DATES)
def test_a_scenario_that_loads_runs(folder, where, value, start):
    """Whatever number stands at a numeric path and whatever date starts it, a scenario either is
    refused with a located message or runs, summarises and dates its rounds with no warning."""
    data = copy.deepcopy(RICH)
    data["start_date"] = start
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    path = folder / "numbers.yaml"
    try:
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    except ValueError:  # an integer too long for Python to print: the catalogue covers it as text
        return
    try:
        loaded = load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    runs_cleanly(loaded.spec)
