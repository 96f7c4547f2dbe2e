"""Summaries and indicators: Wilson intervals against published values, indicator conditions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.outputs.chunks import chunk_bytes, chunk_table
from sim.outputs.indicators import indicator
from sim.outputs.store import table_bytes
from sim.outputs.summary import wilson
from sim.scenario.schema import Outcome


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_published_intervals(k, n, low, high):
    p, lo, hi = wilson(k, n)
    assert p == k / n
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_wilson_edges():
    p, lo, hi = wilson(0, 0)
    assert math.isnan(p) and (lo, hi) == (0.0, 1.0)
    assert wilson(10, 10)[2] == 1.0


def test_indicator_conditions_combine():
    runs = pd.DataFrame(
        {
            "status": ["agreement", "agreement", "walkout", "breakdown"],
            "walkout_actor": [None, None, "russia", None],
            "round": [5, 30, 2, 9],
            "term_tartus": [30.0, 10.0, float("nan"), float("nan")],
        }
    )
    keeps = Outcome(label="k", status=["agreement"], terms={"tartus": {"min": 25}})
    assert indicator(keeps, runs).tolist() == [True, False, False, False]
    early = Outcome(label="e", within_rounds=9)
    assert indicator(early, runs).tolist() == [True, False, True, True]
    walked = Outcome(label="w", walkout_by=["russia"])
    assert indicator(walked, runs).tolist() == [False, False, True, False]
    capped = Outcome(label="c", terms={"tartus": {"max": 20}})
    assert indicator(capped, runs).tolist() == [False, True, False, False]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(0, 40),
    labels=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=5, unique=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_chunk_file_reads_back_as_its_parquet_file_would(rows, labels, seed):
    """The merged files are made from chunk tables: Arrow IPC chunks must give the very table (types and
    metadata included) that the Parquet chunks of earlier builds gave, or the merged bytes would change."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "run": np.arange(rows, dtype=np.int64),
        "round": rng.integers(0, 60, rows).astype(np.int32),
        "value": np.where(rng.random(rows) < 0.2, np.nan, rng.normal(size=rows)),
        "agreed": rng.random(rows) < 0.5,
        "status": pd.Categorical(rng.choice(labels, rows), categories=labels),
        "note": pd.Series(rng.choice(labels, rows), dtype=object),
    })  # fmt: skip
    from_parquet = pq.read_table(pa.BufferReader(table_bytes(frame)))
    assert chunk_table(chunk_bytes(frame)).equals(from_parquet, check_metadata=True)
