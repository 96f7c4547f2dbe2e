"""Provenance: quotes must stand verbatim (whitespace aside) in the seed; cites in a reference file."""

from __future__ import annotations

import pytest
from conftest import BASELINE, two_party

from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario
from sim.scenario.provenance import normalise, sourced_entries


def test_whitespace_is_normalised_and_nothing_else(write_scenario):
    data = two_party()
    data["issues"]["port"]["source"] = "Both want\n  peace."  # the seed has "Both   want peace."
    load_scenario(write_scenario(data))
    data["issues"]["port"]["source"] = "both want peace."
    with pytest.raises(ScenarioError, match=r"issues\.port\.source: quote not found"):
        load_scenario(write_scenario(data))


def test_list_of_quotes_names_the_missing_one(write_scenario):
    data = two_party()
    data["actors"]["gamma"]["source"] = ["Beta wants money.", "Gamma wants war."]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(data))
    (problem,) = caught.value.problems
    assert problem.path == "actors.gamma.source[1]"
    assert problem.line is not None


def test_cites_must_be_in_a_reference_file(write_scenario, tmp_path):
    (tmp_path / "refs.md").write_text("- Fact one. https://example.org/one\n")
    data = two_party(references=["refs.md"])
    data["actors"]["alpha"]["cite"] = "https://example.org/one"
    load_scenario(write_scenario(data))
    data["actors"]["alpha"]["cite"] = "https://example.org/two"
    with pytest.raises(ScenarioError, match=r"actors\.alpha\.cite: cite not found"):
        load_scenario(write_scenario(data))
    data["references"] = ["nowhere.md"]
    with pytest.raises(ScenarioError, match=r"references\[0\]: file not found"):
        load_scenario(write_scenario(data))


def test_baseline_is_sourced_throughout():
    spec = load_scenario(BASELINE).spec
    entries = dict(sourced_entries(spec))
    for name in spec.actors:
        entry = entries[("actors", name)]
        assert entry.source or entry.cite, name
    for path, entry in entries.items():
        if path[0] == "actors" and len(path) == 4 and path[2] == "preferences":
            assert entry.source or entry.cite, path
    assert normalise(" a \n\t b ") == "a b"
