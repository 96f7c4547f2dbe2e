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

from sim.errors import OutputError, WorkerError
from sim.experiments.options import DEFAULT_CHUNK
from sim.outputs.console import install_warning_lines
from sim.outputs.folder import ResultsFolder
from sim.scenario.limits import MAX_RUNS, MAX_TRACE_ROWS, max_chunk
from sim.scenario.schema import Scenario

RETRIES = 2  # how often chunks lost with a dead worker are run again before the run fails


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


def default_chunk(runs: int, workers: int, limit: int = DEFAULT_CHUNK) -> int:
    """Chunks big enough to batch well (>= 1,000 runs) and small enough to share out and bound memory
    (never more than ``DEFAULT_CHUNK`` or ``limit``, see ``chunk_limit``)."""
    return int(min(DEFAULT_CHUNK, limit, max(1_000, math.ceil(runs / (4 * workers)))))


def chunk_limit(spec: Scenario) -> int:
    """The most runs of ``spec`` one chunk (or sweep task) may hold, for bounded memory per worker."""
    return max_chunk(len(spec.actors), len(spec.issues), spec.influence.model in ("eum", "smp"))


def check_plan(spec: Scenario, plan: Plan) -> None:
    """Refuse, with the limit in the message, a plan that would exhaust memory or disk."""
    if plan.runs > MAX_RUNS:
        raise OutputError(f"--runs {plan.runs:,}: the limit is {MAX_RUNS:,} runs (see Limits in the README)")
    limit = chunk_limit(spec)
    if plan.chunk_size > limit:
        size = f"{len(spec.actors)} actors and {len(spec.issues)} issues"
        raise OutputError(f"--chunk-size {plan.chunk_size:,}: at most {limit:,} runs at once for a scenario of "
                          f"{size} (memory; see Limits in the README)")  # fmt: skip
    traced = sum(b - a for a, b in plan.trace_runs)
    rows = traced * spec.protocol.horizon * len(spec.actors) * len(spec.issues)
    if rows > MAX_TRACE_ROWS:
        raise OutputError(f"tracing {traced:,} runs could write up to {rows:,} rows; the limit is {MAX_TRACE_ROWS:,} "
                          "(trace fewer runs with --trace-runs; see Limits in the README)")  # fmt: skip


def _worker_setup() -> None:
    """Worker start-up: Ctrl-C is the main process's to handle (it lets running chunks finish), and a
    warning is one line, as in the main process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    install_warning_lines()


def injected_fault(key: int | str) -> None:
    """Fault injection for tests: BASING_FAULT_CHUNK=KEY:MARKER kills the worker running chunk KEY (a first
    run, or a sweep's task key) once; the marker file records that it did."""
    fault = os.environ.get("BASING_FAULT_CHUNK")
    if fault:
        chunk, _, marker = fault.partition(":")
        if chunk == str(key) and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(3)


def simulate_chunk(
    spec: Scenario,
    start: int,
    stop: int,
    seed: int,
    traced: np.ndarray,
    on_progress: Callable[[int], None] | None = None,
) -> tuple:
    """One chunk: (its first run, the rows of runs [start, stop), the trace of the ``traced`` runs or None,
    the runs' drawn inputs, read from the same set-up as their rows)."""
    # The engine (Mesa, numba and the kernels: 100 MB) is imported here, on the first chunk, so that with a
    # pool of workers the main process never holds it: a million runs peak with three processes alive.
    from sim.experiments.ensemble import run_chunk

    chunk = run_chunk(spec, np.arange(start, stop), seed, on_progress=on_progress, inputs=True)
    trace = run_chunk(spec, traced, seed, trace=True).trace if traced.size else None
    return start, chunk.runs, trace, chunk.inputs


def _simulate_chunk_in_worker(spec: Scenario, start: int, stop: int, seed: int, traced: np.ndarray) -> tuple:
    injected_fault(start)
    return simulate_chunk(spec, start, stop, seed, traced)


def execute(
    spec: Scenario, plan: Plan, folder: ResultsFolder, workers: int, on_progress: Callable[[int], None] | None = None
) -> None:
    """Simulate every chunk the folder does not hold yet and save each as it finishes. With one worker
    the chunks run in this process; otherwise in a pool, with lost chunks retried in a fresh pool."""
    todo = [chunk for chunk in plan.chunks() if not folder.has_chunk(chunk[0])]
    if workers == 1:
        for start, stop in todo:
            folder.save_chunk(*simulate_chunk(spec, start, stop, plan.seed, plan.traced(start, stop), on_progress))
        return
    jobs = [(start, stop - start, (spec, start, stop, plan.seed, plan.traced(start, stop))) for start, stop in todo]
    run_jobs(_simulate_chunk_in_worker, jobs, folder, workers, on_progress, f"basing run --resume {folder.path}")


def pool_context():
    """Worker processes start from a clean server process (forkserver), never a fork of a busy one."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def map_in_order(function: Callable, jobs: list[tuple], workers: int,
                 on_each: Callable[[int], None] | None = None) -> list:  # fmt: skip
    """``function(*job)`` for every job, results in job order: in this process with one worker or one
    job, else on a pool of workers started as ``run_jobs``'s are; ``on_each(k)`` after job k, in order.
    For work kept in memory (the API's runs, the backtest's cases); ``run_jobs`` saves to a folder."""
    done = []
    if workers == 1 or len(jobs) <= 1:
        for k, job in enumerate(jobs):
            done.append(function(*job))
            if on_each is not None:
                on_each(k)
        return done
    with futures.ProcessPoolExecutor(min(workers, len(jobs)), mp_context=pool_context(),
                                     initializer=_worker_setup) as pool:  # fmt: skip
        for k, future in enumerate([pool.submit(function, *job) for job in jobs]):
            done.append(future.result())
            if on_each is not None:
                on_each(k)
    return done


def run_jobs(function: Callable, jobs: list[tuple], folder: ResultsFolder, workers: int,
             on_progress: Callable[[int], None] | None, resume: str) -> None:  # fmt: skip
    """Run ``function(*args)`` for each job (key, runs, args) the folder does not hold yet on a pool of
    ``workers`` processes, saving each result (key, rows, trace, inputs) as it arrives. Jobs lost with a
    dead worker run again in a fresh pool, RETRIES times at most; ``resume`` is the command that finishes
    the work if workers keep dying."""
    for attempt in range(RETRIES + 1):
        todo = [job for job in jobs if not folder.has_chunk(job[0])]
        if not todo:
            return
        try:
            _pool_once(function, todo, folder, workers, on_progress)
            return
        except BrokenProcessPool:
            if attempt == RETRIES:
                raise WorkerError(
                    f"worker processes died {RETRIES + 1} times (out of memory, or killed); finished work is "
                    f"kept: resume with {resume}"
                ) from None


def _pool_once(function: Callable, todo: list[tuple], folder: ResultsFolder, workers: int, on_progress) -> None:
    """One pool of at most ``workers`` processes, and never more than there are jobs."""
    pool = futures.ProcessPoolExecutor(
        max_workers=min(workers, len(todo)), mp_context=pool_context(), initializer=_worker_setup
    )
    # A saved job's future is dropped at once: it holds the job's rows, and keeping every finished
    # future would hold the whole ensemble in this process's memory.
    pending = {pool.submit(function, *args): runs for _, runs, args in todo}
    try:
        for done in futures.as_completed(list(pending)):
            folder.save_chunk(*done.result())
            runs = pending.pop(done)
            del done
            if on_progress is not None:
                on_progress(runs)
    except KeyboardInterrupt:  # keep what the running jobs finish, start nothing new
        for future in pending:
            future.cancel()
        for done in futures.as_completed([f for f in pending if not f.cancelled()]):
            if done.exception() is None:
                folder.save_chunk(*done.result())
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
