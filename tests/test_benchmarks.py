"""The benchmark scripts stay runnable: their scenarios validate and their measurements run (on tiny
sizes; the figures themselves are the scripts' to print, not a test's to time)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import ROOT


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("size", [(4, 4, 13), (8, 2, 13), (8, 16, 13), (64, 4, 13), (8, 4, 208)])
def test_the_scaling_benchmark_builds_and_runs_its_synthetic_scenarios(size):
    bench = load("bench_scale")
    assert bench.cost(bench.synthetic(*size), 20) > 0


def test_the_engine_benchmark_measures_the_baseline():
    bench = load("bench_engine")
    spec = bench.load_scenario(bench.BASELINE).spec
    rates = bench.batched_rate(spec, 50, 1)
    assert len(rates) == 1 and rates[0] > 0


def test_the_inputs_benchmark_writes_a_table():
    bench = load("bench_inputs")
    seconds, size = bench.inputs_seconds(200)
    assert seconds > 0 and size > 1000
