"""Streaming ensembles: chunks of runs simulated by a pool of worker processes, each chunk saved as it
finishes, so that memory does not grow with the number of runs, an interrupted run can be resumed, and
results are the same for any number of workers and any chunk size.

To this layer a chunk is a pure function from (scenario, first run, last run, seed, traced runs) to a
table of rows; the folder (sim.outputs.folder) keeps what has finished.
"""

from __future__ import annotations

import concurrent.futures as futures
import math
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.experiments.ensemble import run_chunk
from sim.outputs.folder import ResultsFolder
from sim.scenario.schema import Scenario

RETRIES = 2  # how often chunks lost with a dead worker are run again before the run fails


class WorkerError(Exception):
    """Worker processes kept dying; the folder holds the finished chunks and can be resumed."""


@dataclass(frozen=True)
class Plan:
    """What to run: runs 0 .. runs-1 in chunks of ``chunk_size``, and which runs to trace."""

    runs: int
    seed: int
    chunk_size: int
    trace_runs: tuple[tuple[int, int], ...] = ()  # half-open ranges of run indices

    def chunks(self) -> list[tuple[int, int]]:
        """(first, stop) of every chunk, in order."""
        return [(start, min(start + self.chunk_size, self.runs)) for start in range(0, self.runs, self.chunk_size)]

    def traced(self, start: int, stop: int) -> np.ndarray:
        """The runs of chunk [start, stop) to trace."""
        ids = [np.arange(max(a, start), min(b, stop)) for a, b in self.trace_runs if a < stop and b > start]
        return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_chunk(runs: int, workers: int) -> int:
    """Chunks big enough to batch well (>= 1,000 runs) and small enough to share out and bound memory."""
    return int(min(10_000, max(1_000, math.ceil(runs / (4 * workers)))))


def parse_trace_runs(text: str, runs: int) -> tuple[tuple[int, int], ...]:
    """'0:100' or '0:100,250,900:' -> half-open ranges within [0, runs). Raises ValueError."""
    ranges = []
    for part in (p.strip() for p in text.split(",")):
        if ":" in part:
            first, _, last = part.partition(":")
            a, b = int(first) if first else 0, int(last) if last else runs
        else:
            a = int(part)
            b = a + 1
        if not 0 <= a < b <= runs:
            raise ValueError(f"'{part}' is not a range of runs within 0:{runs}")
        ranges.append((a, b))
    return tuple(ranges)


def _ignore_interrupts() -> None:
    """Worker start-up: Ctrl-C is the main process's to handle (it lets running chunks finish)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def injected_fault(key: int | str) -> None:
    """Fault injection for tests: BASING_FAULT_CHUNK=KEY:MARKER kills the worker running chunk KEY (a first
    run, or a sweep's task key) once; the marker file records that it did."""
    fault = os.environ.get("BASING_FAULT_CHUNK")
    if fault:
        chunk, _, marker = fault.partition(":")
        if chunk == str(key) and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(3)


def simulate_chunk(spec: Scenario, start: int, stop: int, seed: int, traced: np.ndarray) -> tuple:
    """Run one chunk (in a worker process): the rows of runs [start, stop) and the trace of ``traced``."""
    injected_fault(start)
    rows = run_chunk(spec, np.arange(start, stop), seed).runs
    trace = run_chunk(spec, traced, seed, trace=True).trace if traced.size else None
    return start, rows, trace


def execute(
    spec: Scenario, plan: Plan, folder: ResultsFolder, workers: int, on_progress: Callable[[int], None] | None = None
) -> None:
    """Simulate every chunk the folder does not hold yet and save each as it finishes. With one worker
    the chunks run in this process; otherwise in a pool, with lost chunks retried in a fresh pool."""
    todo = [chunk for chunk in plan.chunks() if not folder.has_chunk(chunk[0])]
    if workers == 1:
        for start, stop in todo:
            folder.save_chunk(*_one(spec, plan, start, stop, on_progress))
        return
    for attempt in range(RETRIES + 1):
        todo = [chunk for chunk in todo if not folder.has_chunk(chunk[0])]
        if not todo:
            return
        try:
            _pool(spec, plan, folder, workers, todo, on_progress)
            return
        except BrokenProcessPool:
            if attempt == RETRIES:
                raise WorkerError(
                    f"worker processes died {RETRIES + 1} times (out of memory, or killed); finished chunks are "
                    f"kept: resume with basing run --resume {folder.path}"
                ) from None


def _one(spec, plan, start, stop, on_progress):
    traced = plan.traced(start, stop)
    rows = run_chunk(spec, np.arange(start, stop), plan.seed, on_progress=on_progress).runs
    trace = run_chunk(spec, traced, plan.seed, trace=True).trace if traced.size else None
    return start, rows, trace


def pool_context():
    """Worker processes start from a clean server process (forkserver), never a fork of a busy one."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _pool(spec, plan, folder, workers, todo, on_progress) -> None:
    pool = futures.ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=_ignore_interrupts)
    pending = {pool.submit(simulate_chunk, spec, start, stop, plan.seed, plan.traced(start, stop)): stop - start
               for start, stop in todo}  # fmt: skip
    try:
        for done in futures.as_completed(pending):
            folder.save_chunk(*done.result())
            if on_progress is not None:
                on_progress(pending[done])
    except KeyboardInterrupt:  # keep what the running chunks finish, start nothing new
        for future in pending:
            future.cancel()
        for done in futures.as_completed([f for f in pending if not f.cancelled()]):
            if done.exception() is None:
                folder.save_chunk(*done.result())
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_runs(folder: ResultsFolder) -> pd.DataFrame:
    """The whole runs table of a finished folder (for small results and tests)."""
    return pd.read_parquet(folder.path / "runs.parquet")
