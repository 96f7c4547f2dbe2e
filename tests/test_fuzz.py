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
