"""``basing explore``'s model side: the scenario as written, a change to its numbers, its runs.

An ``Explorer`` holds the scenario's controls and its runs as written (the base). ``evaluate`` takes the
text of the changed controls, reads each as a YAML scalar, validates the changed scenario through the
same schema as a file (problems are returned by control path, never raised), and runs it with the same
seed and runs as the base, so differences are the change's and not noise.

The runs are split between worker processes (two on a two-core machine); run k depends only on the
seed and k, so the split changes nothing. Only the newest change is run: every worker checks before each
round whether a newer change has come (a counter shared with the workers), and stops if so
(``SupersededError``). ``save_variant`` writes the change as a scenario file that ``extends`` the one
explored, never over an existing file.

The page itself (``sim.outputs.explore_page``) only calls these methods.
"""

from __future__ import annotations

import concurrent.futures as futures
import itertools
import os
import re
import signal
import threading
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.errors import FileError, OutputError, SupersededError
from sim.experiments.controls import ChangeError, Control, controls_of, overrides_of, read_change, variant_mapping
from sim.experiments.discovery import drivers
from sim.experiments.ensemble import run_chunk
from sim.experiments.inputs import input_blocks
from sim.experiments.pool import pool_context
from sim.files import write_new
from sim.outputs.discovery_page import Driver
from sim.outputs.results import Results
from sim.outputs.summary import summarise
from sim.scenario.errors import ScenarioError
from sim.scenario.load import load_scenario, with_overrides
from sim.scenario.loaded import LoadedScenario

EXPLORE_RUNS = 2_000  # runs per change unless asked otherwise
MAX_EXPLORE_RUNS = 20_000  # the cap: a change must redraw in seconds, not minutes
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass
class Evaluation:
    """What a change gives: ``problems`` by control path (and ``general`` ones that name no control),
    or, if there are none, the ``results`` of its runs; ``overrides`` are the change as ``--set``."""

    overrides: list[str]
    problems: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    results: Results | None = None


def check_runs(runs: int) -> None:
    """Refuse runs per change outside 1 .. MAX_EXPLORE_RUNS."""
    if not 1 <= runs <= MAX_EXPLORE_RUNS:
        raise OutputError(f"--runs {runs}: basing explore runs 1 to {MAX_EXPLORE_RUNS:,} runs per change")


class Explorer:
    """A scenario opened for exploring: its controls, its base runs and the newest change's."""

    def __init__(self, path: str | Path, runs: int = EXPLORE_RUNS, seed: int = 1, workers: int | None = None) -> None:
        check_runs(runs)
        self.path = Path(path)
        self.loaded: LoadedScenario = load_scenario(self.path)
        self.runs, self.seed = runs, seed
        self.workers = min(2, os.cpu_count() or 1) if workers is None else workers
        self._shared = pool_context().Value("q", 0, lock=False)  # the newest change's number, for the workers
        self._pool: futures.ProcessPoolExecutor | None = None
        self.controls: list[Control] = controls_of(self.loaded)
        self.by_path = {c.path: c for c in self.controls}
        self.path_of = {c.key: c.path for c in self.controls}
        self._generation = 0
        self._lock = threading.Lock()  # one change runs at a time; a newer one stops it within a round
        self._count = threading.Lock()
        self._closed = False
        self.base = self.latest = self._simulate(self.loaded, None)

    def changes_of(self, texts: dict[str, str]) -> tuple[dict[tuple, Any], dict[str, str]]:
        """The changed controls' values (by key) and the texts that are not one number (by path). A text
        equal to the value as written is no change."""
        changes, problems = {}, {}
        for path, text in texts.items():
            control = self.by_path.get(path)
            if control is None:
                problems[path] = "not a control of this scenario"
                continue
            text = "" if text is None else str(text).strip()
            try:
                value = read_change(control, text)
            except ChangeError as exc:
                problems[path] = exc.message
                continue
            if value != control.value or type(value) is not type(control.value):
                changes[control.key] = value
        return changes, problems

    def evaluate(self, texts: dict[str, str]) -> Evaluation:
        """Validate and run the change the texts make (path -> text of each control shown changed);
        raises ``SupersededError`` if a newer change came while it ran, or the explorer is closed."""
        if self._closed:
            raise SupersededError
        with self._count:
            self._generation += 1
            generation = self._shared.value = self._generation
        changes, problems = self.changes_of(texts)
        overrides = overrides_of(self.loaded.resolved, changes)
        found = Evaluation(overrides, problems)
        if problems:
            return found
        loaded = self.loaded
        if changes:
            try:
                loaded = with_overrides(self.loaded, overrides)
            except ScenarioError as exc:
                self._place(found, exc, changes)
                return found
        with self._lock:
            results = self._simulate(loaded, generation) if changes else self.base
            if self._shared.value != generation:  # a newer change came as this one finished
                raise SupersededError
            found.results = self.latest = results
        return found

    @property
    def running(self) -> bool:
        """Whether a change is being simulated now (a newer change would stop it within a round)."""
        return self._lock.locked()

    def drivers(self) -> list[Driver]:
        """What drives each indicator in the newest change's runs (the report's section)."""
        return drivers(self.latest)

    def _place(self, found: Evaluation, exc: ScenarioError, changes: dict[tuple, Any]) -> None:
        """Each problem beside the changed control it is about (the control itself, or one under or
        above the problem's path), else among the general ones."""
        changed = [self.path_of[key] for key in changes]
        for problem in exc.problems:
            where = problem.path
            near = [c for c in changed if c == where or c.startswith(where + ".") or c.startswith(where + "[")
                    or where.startswith(c + ".") or where.startswith(c + "[")]  # fmt: skip
            if near:
                for path in near:
                    found.problems.setdefault(path, problem.message)
            else:
                found.general.append(str(problem))

    def _simulate(self, loaded: LoadedScenario, generation: int | None) -> Results:
        """The runs of a scenario, split between the workers; stops if a newer change has come. A worker
        that died is replaced on the next change (this one is refused, with why)."""
        if self._closed:
            raise SupersededError  # the server is stopping
        spec = loaded.spec
        cuts = np.linspace(0, self.runs, self.workers + 1).astype(np.int64)
        spans = [(int(a), int(b)) for a, b in itertools.pairwise(cuts) if b > a]
        if self.workers == 1:
            parts = [runs_of(spec, a, b, self.seed, generation, self._shared) for a, b in spans]
        else:
            if self._pool is None:
                self._pool = futures.ProcessPoolExecutor(
                    self.workers, mp_context=pool_context(), initializer=_worker_start, initargs=(self._shared,)
                )
            pending = [self._pool.submit(runs_of, spec, a, b, self.seed, generation) for a, b in spans]
            try:
                parts = [job.result() for job in pending]  # raises SupersededError if a worker stopped
            except BrokenProcessPool:
                self._pool = None
                raise OutputError("a worker process died while running this change; change a value to run it "
                                  "again on new workers") from None  # fmt: skip
        table = pd.concat(parts, ignore_index=True)
        runs, seed = self.runs, self.seed
        inputs = lambda: pd.concat(input_blocks(spec, seed, runs), ignore_index=True)  # noqa: E731 - on first use
        return Results(spec, summarise(spec, table), table, trace=None, seed=seed, resolved=loaded.resolved,
                       overrides=loaded.overrides, origin=str(self.path), inputs=inputs)  # fmt: skip

    def close(self) -> None:
        """Stop the worker processes (from a notebook, when done exploring); later changes are refused."""
        self._closed = True
        with self._count:
            self._generation += 1
            self._shared.value = self._generation  # a change still running stops within a round
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def variant_text(self, texts: dict[str, str], name: str, question: str) -> str:
        """The change as a scenario file: ``extends`` the explored file, its name and question, and the
        changed values (a list under a changed value is written whole)."""
        changes, problems = self.changes_of(texts)
        if problems:
            path, message = next(iter(problems.items()))
            raise OutputError(f"{path}: {message}")
        if not changes:
            raise OutputError("nothing is changed: there is no variant to save")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise OutputError(f"name {name!r}: lower_snake_case, a small letter first, at most 64 characters")
        question = " ".join(question.split()) if isinstance(question, str) else ""
        if not question:
            raise OutputError("a variant needs its question: what does this change ask?")
        try:  # the change must validate before a file is written
            with_overrides(self.loaded, overrides_of(self.loaded.resolved, changes))
        except ScenarioError as exc:
            raise OutputError(f"not a valid variant: {exc.render(3)}") from None
        header = {"extends": self.path.name, "name": name, "question": question}
        body = variant_mapping(self.loaded.resolved, changes)
        text = (f"# Variant of {self.path.name}, saved by basing explore: {len(changes)} value(s) changed.\n"
                + yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=100)
                + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100))  # fmt: skip
        return text

    def save_variant(self, texts: dict[str, str], name: str, question: str) -> Path:
        """Write the variant beside the explored file as ``<name>.yaml`` (never over a file); the change
        is validated before and the file after; returns its path."""
        text = self.variant_text(texts, name, question)
        target = self.path.absolute().parent / f"{name}.yaml"  # beside the file as named: extends finds it
        try:
            write_new(target, lambda handle: handle.write(text.encode("utf-8")))
        except FileError as exc:
            raise OutputError(str(exc)) from None
        try:
            load_scenario(target)
        except (ScenarioError, FileError) as exc:  # the file stays (nothing is lost), with the reason
            raise OutputError(f"{target} was written but does not validate: {exc.render(3)}") from None
        return target


SHARED = None  # in a worker process: its explorer's counter of the newest change


def _worker_start(shared) -> None:
    """A worker process's start: Ctrl-C is the main process's to handle; keep the shared counter."""
    global SHARED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    SHARED = shared


def runs_of(spec, start: int, stop: int, seed: int, generation: int | None, shared=None) -> pd.DataFrame:
    """Runs [start, stop) of a scenario; ``SupersededError`` as soon as the counter (``shared``, or the
    worker's) says a newer change than ``generation`` came (None: never, for the scenario as written)."""
    counter = SHARED if shared is None else shared

    def check() -> None:
        if generation is not None and counter is not None and counter.value != generation:
            raise SupersededError

    return run_chunk(spec, np.arange(start, stop), seed, check=check).runs


__all__ = ["EXPLORE_RUNS", "MAX_EXPLORE_RUNS", "Evaluation", "Explorer", "check_runs"]
