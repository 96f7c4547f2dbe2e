"""Scenario loading: good input validates; every kind of bad input names its file, line and path."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from conftest import BASELINE, two_party

from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario


def problems_of(path, overrides=None) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides or [])
    return [str(p) for p in caught.value.problems]


def test_baseline_and_variants_load():
    loaded = load_scenario(BASELINE)
    spec = loaded.spec
    assert spec.parties() == ["russia", "syria"]
    assert {"southern_europe", "eu_north", "turkiye", "israel", "united_states", "iran", "gulf_states"} <= set(
        spec.actors
    )
    assert {"tartus", "khmeimim", "aid", "debt_relief", "assad", "counter_is"} <= set(spec.issues)
    assert spec.protocol.horizon == 52 and spec.protocol.round_days == 7
    variants = [p for p in BASELINE.parent.glob("*.yaml") if p != BASELINE]
    assert len(variants) >= 3
    for variant in variants:
        loaded = load_scenario(variant)
        assert loaded.files[0] == BASELINE.resolve(), "every variant extends the baseline"
        assert loaded.spec.question and loaded.spec.question != spec.question


def test_small_scenario_loads(write_scenario):
    spec = load_scenario(write_scenario(two_party())).spec
    assert spec.protocol.first_proposer is None
    assert spec.actors["beta"].strategy.beta == 0.5
    assert spec.actors["alpha"].strategy.beta == 1.0


def _with(path_keys, value, base=None):
    data = copy.deepcopy(base or two_party())
    node = data
    for key in path_keys[:-1]:
        node = node[key]
    node[path_keys[-1]] = value
    return data


BAD = [
    # (where, value, expected dotted path, message fragment)
    (("actors", "alpha", "capabilty"), 1.0, "actors.alpha.capabilty", "did you mean 'capability'"),
    (("actors", "alpha", "preferences", "port", "salience"), -0.2, "actors.alpha.preferences.port.salience", "within"),
    (("issues", "port", "range"), [100, 0], "issues.port", "low < high"),
    (("actors", "alpha", "preferences", "port", "ideal"), 150, "actors.alpha.preferences.port.ideal", "outside"),
    (("actors", "alpha", "patience"), {"dist": "normal", "mean": 0.9, "sd": -1}, "actors.alpha.patience.sd", "greater"),
    (("actors", "alpha", "patience"), {"dist": "uniform", "low": 0.9, "high": 0.8}, "actors.alpha.patience", "below"),
    (
        ("actors", "alpha", "risk"),
        {"dist": "triangular", "low": 0, "mode": 2, "high": 1},
        "actors.alpha.risk",
        "mode",
    ),
    (("actors", "alpha", "capability"), {"dist": "normal", "mean": 1, "sd": 1}, "actors.alpha.capability", "support"),
    (("actors", "alpha", "capability"), {"dist": "gamma", "k": 1}, "actors.alpha.capability", "normal"),
    (
        ("events",),
        {"e": {"label": "E", "round": 1, "effects": [{"field": "actors.zeta.patience", "op": "add", "value": 1}]}},
        "events.e.effects[0].field",
        "unknown actor 'zeta'",
    ),
    (
        ("events",),
        {"e": {"label": "E", "round": 1, "effects": [{"field": "actors.alpha.mood", "op": "add", "value": 1}]}},
        "events.e.effects[0].field",
        "not an actor field",
    ),
    (
        ("events",),
        {"e": {"label": "E", "effects": [{"field": "actors.alpha.risk", "op": "set", "value": 0}]}},
        "events.e",
        "exactly one of 'hazard'",
    ),
    (("events",), {"e": {"label": "E", "round": 2, "effects": []}}, "events.e.effects", "at least 1 item"),
    (("protocol", "first_proposer"), "gamma", "protocol.first_proposer", "not a party"),
    (("outcomes", "deal", "terms"), {"harbour": {"min": 1}}, "outcomes.deal.terms.harbour", "unknown issue"),
    (("actors", "alpha", "role"), "observer", "actors.alpha.role", "party"),
    (("seed",), "missing.txt", "seed", "file not found"),
    (("outcomes", "status"), {"label": "S", "status": ["agreement"]}, "outcomes.status", "name taken"),
    (("outcomes", "term_port"), {"label": "T"}, "outcomes.term_port", "name taken"),
    (("outcomes", "win_alpha"), {"label": "W"}, "outcomes.win_alpha", "name taken"),
    (("protocol", "round_days"), {"dist": "uniform", "low": 1, "high": 2}, "protocol.round_days", "not allowed"),
    (("protocol", "horizon"), "3", "protocol.horizon", "valid integer"),
    (("actors", "alpha", "preferences", "port", "ideal"), True, "actors.alpha.preferences.port.ideal", "number"),
    (("actors", "gamma", "capability"), float("inf"), "actors.gamma.capability", "finite"),
    (("issues", "port", "range"), [0, float("inf")], "issues.port.range", "finite"),
    (("influence",), {"model": "pull", "targets": []}, "influence.targets", "at least 1"),
    (
        ("events",),
        {"e": {"label": "E", "round": 30, "effects": [{"field": "actors.alpha.risk", "op": "set", "value": 0}]}},
        "events.e.round",
        "never fires",
    ),
    (
        ("events",),
        {
            "e": {
                "label": "E",
                "round": 2,
                "repeat": True,
                "effects": [{"field": "actors.alpha.risk", "op": "set", "value": 0}],
            }
        },
        "events.e",
        "'repeat' applies",
    ),
    (
        ("events",),
        {
            "e": {
                "label": "E",
                "round": 2,
                "effects": [{"field": "actors.alpha.preferences.harbour.ideal", "op": "set", "value": 0}],
            }
        },
        "events.e.effects[0].field",
        "unknown issue 'harbour'",
    ),
    (("actors", "alpha", "preferences", "port", "source"), "Alpha wants a fleet.", "source", "quote not found"),
]


@pytest.mark.parametrize(("where", "value", "path", "fragment"), BAD, ids=[b[2] + ":" + b[3] for b in BAD])
def test_bad_input_is_located(write_scenario, where, value, path, fragment):
    scenario = write_scenario(_with(where, value))
    problems = problems_of(scenario)
    assert len(problems) >= 1
    first = problems[0]
    assert re.match(r"^.*scenario\.yaml:\d+: ", first), first
    assert path in first, first
    assert fragment in first, first


def test_line_numbers_point_at_the_value(write_scenario):
    text = yaml.safe_dump(two_party(), sort_keys=False)
    text = text.replace("patience: 0.98", "patience: 1.5", 1)
    scenario = write_scenario(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "patience: 1.5" in row)
    assert problems_of(scenario)[0].startswith(f"{scenario}:{line}: actors.alpha.patience:")


def test_not_a_mapping(write_scenario):
    assert "must be a YAML mapping" in problems_of(write_scenario("- just\n- a list\n"))[0]
    assert "empty" in problems_of(write_scenario(""))[0]


def test_invalid_yaml_and_duplicate_keys(write_scenario):
    assert "invalid YAML" in problems_of(write_scenario("name: [unclosed\n"))[0]
    duplicated = write_scenario("name: a\nname: b\n")
    assert "duplicate key (first at line 1)" in problems_of(duplicated)[0]
    assert ":2: name:" in problems_of(duplicated)[0]


def test_missing_file():
    assert "file not found" in problems_of("no/such/scenario.yaml")[0]


def test_extends_merges_and_null_deletes(write_scenario):
    write_scenario(two_party(), "base.yaml")
    variant = write_scenario(
        "extends: base.yaml\nname: variant\nactors:\n  gamma: null\n  alpha:\n    capability: 0.9\n", "variant.yaml"
    )
    spec = load_scenario(variant).spec
    assert spec.name == "variant"
    assert "gamma" not in spec.actors
    assert spec.actors["alpha"].capability == 0.9
    assert spec.actors["alpha"].patience == 0.98


def test_errors_in_an_extended_file_name_that_file(write_scenario):
    data = two_party()
    data["actors"]["beta"]["source"] = "Beta wants war."
    write_scenario(data, "base.yaml")
    child = write_scenario("extends: base.yaml\nactors:\n  alpha:\n    capability: 0.2\n", "child.yaml")
    (problem,) = problems_of(child)
    assert re.search(r"base\.yaml:\d+: actors\.beta\.source: quote not found", problem), problem


def test_extends_cycle_and_missing_parent(write_scenario):
    write_scenario("extends: b.yaml\nname: a\n", "a.yaml")
    b = write_scenario("extends: a.yaml\nname: b\n", "b.yaml")
    assert problems_of(b)[0].endswith("a.yaml:1: extends: extends cycle: b.yaml -> a.yaml -> b.yaml")
    orphan = write_scenario("extends: nowhere.yaml\n", "orphan.yaml")
    assert "orphan.yaml:1: extends: extended file not found" in problems_of(orphan)[0]


def test_errors_in_a_variant_name_the_variant_line(write_scenario):
    write_scenario(two_party(), "base.yaml")
    variant = write_scenario("extends: base.yaml\nactors:\n  alpha:\n    patience: 2\n", "variant.yaml")
    assert re.search(r"variant\.yaml:4: actors\.alpha\.patience", problems_of(variant)[0])


def test_set_overrides(write_scenario):
    scenario = write_scenario(two_party())
    spec = load_scenario(scenario, ["actors.alpha.capability=0.25", "protocol.horizon=7"]).spec
    assert spec.actors["alpha"].capability == 0.25 and spec.protocol.horizon == 7
    spec = load_scenario(scenario, ["actors.alpha.patience={dist: uniform, low: 0.9, high: 0.99}"]).spec
    assert spec.actors["alpha"].patience.mean() == pytest.approx(0.945)
    typo = problems_of(scenario, ["actors.alpha.capabilty=1"])[0]
    assert typo == "--set: actors.alpha.capabilty: unknown key 'capabilty'; did you mean 'capability'?"
    assert "no such path" in problems_of(scenario, ["actors.zeta.capability=1"])[0]
    assert "dotted.path=value" in problems_of(scenario, ["protocol.horizon"])[0]
    # defaulted fields, number keys and new top-level sections can be set too
    spec = load_scenario(scenario, ["protocol.belief_step=0.1", "issues.port.points.0=closed"]).spec
    assert spec.protocol.belief_step == 0.1 and spec.issues["port"].points[0] == "closed"
    assert "invalid value" in problems_of(scenario, ["protocol.horizon=[1"])[0]
    assert "\n" not in problems_of(scenario, ["protocol.horizon=[1"])[0]
    assert problems_of(scenario, ["protocol.horizon=0"])[0].startswith("--set: protocol.horizon:")


def test_every_error_is_reported_once(write_scenario):
    data = two_party()
    data["actors"]["alpha"]["patience"] = 3
    data["actors"]["beta"]["risk"] = 4
    problems = problems_of(write_scenario(data))
    assert len(problems) == 2
    assert {p.split(": ")[1] for p in problems} == {"actors.alpha.patience", "actors.beta.risk"}
