"""A results folder: finished chunks kept under ``.chunks/`` while a run is under way (see
``sim.outputs.chunks``), a manifest that says whether it is complete, and the final merge into
``runs.parquet`` (and ``trace.parquet``) in fixed-size row groups, so the files are byte-identical
whatever the chunking.

Every file is reached through one handle on the folder (``sim.files.Folder``): no symbolic link inside
it is ever followed, and no file is ever overwritten but the manifest, which is replaced atomically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import FileError, OutputError
from sim.files import Folder, Writer, file_kind, native, text_writer
from sim.outputs.chunks import ROW_GROUP, ChunkStore, Key, Span, write_row_groups
from sim.outputs.integrity import FolderLock, file_records
from sim.outputs.manifest import RESULT_FILES, RunManifest, SweepManifest, parse_manifest, read_json, read_manifest
from sim.outputs.store import create_results_dir, json_writer, table_writer
from sim.outputs.summary import Summary
from sim.scenario.schema import Scenario

__all__ = ["ROW_GROUP", "Key", "ResultsFolder", "Span"]


class ResultsFolder:
    """One run's or sweep's folder: chunk files while it runs, merged files once it is complete.
    ``expected`` is the plan's chunks (key -> Span), known once the plan is."""

    def __init__(self, folder: Folder, expected: dict[Key, Span] | None = None, plan: str = ""):
        self.dir = folder
        self.sealed = False
        self.expected: dict[Key, Span] = expected or {}
        self.plan = plan  # the manifest's plan_id: chunks made under another are refused
        self._chunks: Folder | None = None

    @property
    def path(self) -> Path:
        return self.dir.path

    @classmethod
    def create(cls, out: Path | None, name: str, expected: dict[Key, Span] | None = None,
               plan: str = "0" * 64) -> ResultsFolder:  # fmt: skip
        """A new, empty folder (``out``, or one named from ``name`` and the time) with its ``.chunks``."""
        try:
            folder = cls(create_results_dir(out, name), expected, plan)
            folder._chunks = folder.dir.sub(".chunks", create=True)
        except FileError as exc:
            raise OutputError(str(exc)) from None
        return folder

    @classmethod
    def begin(cls, out: Path | None, name: str, manifest: dict[str, Any], expected: dict[Key, Span]) -> ResultsFolder:
        """A new folder holding its first manifest. If that cannot be written, the new folder is removed
        again (it holds nothing else), so that the same --out can be used once the cause is mended."""
        plan = parse_manifest(manifest, "the new manifest").plan_id()  # a bug, if it fails: never write one
        folder = cls.create(out, name, expected, plan)
        try:
            folder.write_manifest(manifest)
        except BaseException:
            folder.dir.remove_folder(".chunks")
            folder.dir.discard()
            raise
        return folder

    @classmethod
    def open(cls, path: Path) -> ResultsFolder:
        """An existing folder with a manifest, to resume, replay, verify or compare. The folder may be
        named through a link; nothing inside it is ever reached through one."""
        if file_kind(path) is None:
            raise OutputError(f"{path}: no such results folder")
        try:
            handle = Folder.open(path, follow=True)
        except FileError as exc:
            raise OutputError(f"{path}: {exc.reason}") from None
        if handle.kind("manifest.json") is None:
            handle.close()
            raise OutputError(f"{path}: not a results folder (no manifest.json)")
        return cls(handle)

    def close(self) -> None:
        for folder in (self._chunks, self.dir):
            if folder is not None:
                folder.close()

    @property
    def chunks(self) -> ChunkStore:
        if self._chunks is None:
            try:
                self._chunks = self.dir.sub(".chunks")
            except FileError as exc:
                raise OutputError(str(exc)) from None
        return ChunkStore(self._chunks, self.expected, self.plan)

    # -- the manifest
    def manifest(self, kind: str | None = None) -> RunManifest | SweepManifest:
        """The manifest, read through its schema (of ``kind``, 'run' or 'sweep', if given)."""
        return read_manifest(self.dir, kind)

    def write_manifest(self, manifest: dict[str, Any] | RunManifest | SweepManifest) -> None:
        data = manifest.model_dump(mode="json") if not isinstance(manifest, dict) else manifest
        try:
            self.dir.replace("manifest.json", json_writer(data))
        except FileError as exc:
            raise OutputError(str(exc)) from None

    def mark(self, status: str, **extra: Any) -> None:
        """Set the manifest's status ('running', 'incomplete', 'complete') and any extra fields."""
        self.write_manifest({**self.manifest().model_dump(mode="json"), "status": status, **extra})

    # -- reading results
    def read_table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        return self.read_arrow(name, columns).to_pandas()

    def read_arrow(self, name: str, columns: list[str] | None = None, filters: Any = None) -> pa.Table:
        """A Parquet file of the folder (never through a link); a damaged one is an OutputError."""
        try:
            with self.dir.open_binary(name) as handle:
                return pq.read_table(native(handle), columns=columns, filters=filters)
        except FileError as exc:
            raise OutputError(str(exc)) from None
        except (OSError, pa.ArrowException) as exc:
            raise OutputError(f"{self.path / name}: not a readable table ({exc.__class__.__name__})") from None

    def read_json(self, name: str) -> Any:
        return read_json(self.dir, name)

    def has(self, name: str) -> bool:
        return self.dir.kind(name) == "file"

    # -- writing results
    def write_table(self, name: str, table: pd.DataFrame) -> None:
        self._create(name, table_writer(table))

    def keep(self, name: str, data: bytes, what: str) -> bool:
        """Add the file ``name`` holding ``data`` to a (complete) folder, beside its results: True if an
        earlier call left the same bytes there (kept as it is). A different file of that name is refused,
        never overwritten; ``what`` names the file in the message."""
        kind = self.dir.kind(name)
        if kind == "file":
            try:
                if self.dir.read_bytes(name, len(data)) == data:
                    return True
            except FileError:  # larger, or unreadable: not these bytes
                pass
        if kind is not None:
            raise OutputError(f"{self.path / name}: already exists and is not {what}; it is never overwritten "
                              "(move it away to make it again)")  # fmt: skip
        try:
            self.dir.create(name, lambda handle: handle.write(data))
        except FileError as exc:
            raise OutputError(str(exc)) from None
        return False

    def write_tables(self, name: str, tables: Iterable[pd.DataFrame]) -> int:
        """One Parquet file of the tables in order, in the fixed row groups of the merged files (so its
        bytes do not depend on how the tables were cut); returns the rows written."""
        return self._write_arrow(name, (pa.Table.from_pandas(table, preserve_index=False) for table in tables))

    def _write_arrow(self, name: str, tables: Iterator[pa.Table]) -> int:
        """One Parquet file of Arrow tables in fixed row groups; 0, and no file, when there are none."""
        first = next(tables, None)
        if first is None:
            return 0
        rows = 0

        def write(handle) -> None:
            nonlocal rows
            rows = write_row_groups(handle, first, tables)

        self._create(name, write)
        return rows

    def write_text(self, name: str, text: str) -> None:
        self._create(name, text_writer(text))

    def write_json(self, name: str, data: Any) -> None:
        self._create(name, json_writer(data))

    def _create(self, name: str, write: Writer) -> None:
        try:
            self.dir.create(name, write)
        except FileError as exc:
            raise OutputError(str(exc)) from None

    # -- chunks
    def has_chunk(self, key: Key) -> bool:
        return self.chunks.has(key)

    def done_runs(self) -> int:
        return self.chunks.done_runs()

    def save_chunk(self, key: Key, rows: pd.DataFrame, trace: pd.DataFrame | None,
                   inputs: pd.DataFrame | None = None) -> None:  # fmt: skip
        """Keep a finished chunk (or sweep task): its rows, the trace of its traced runs and its runs'
        drawn inputs (either may be None)."""
        self.chunks.save(key, rows, trace, inputs)

    def merge_chunks(self, keys: list[Key], target: str, kind: str = "runs",
                     visit: Callable[[pd.DataFrame], None] | None = None,
                     stop: threading.Event | None = None) -> int:  # fmt: skip
        """Merge the chunks ``keys`` in order into ``target``, each checked on the way; ``visit`` sees each
        chunk's rows; once ``stop`` is set, the merge stops before its next chunk, writing no file.
        Returns the rows written (0, and no file, when no chunk has a trace)."""
        return self._write_arrow(target, self.chunks.merged(keys, kind, visit, stop))

    def merge_all(
        self, keys: list[Key], kinds: tuple[str, ...], visit: Callable[[pd.DataFrame], None]
    ) -> dict[str, int]:
        """Merge the chunks' rows (seen by ``visit``) into runs.parquet and, beside them in a thread, their
        tables of the other ``kinds`` into ``<kind>.parquet``: the encoders let go of the GIL, so the
        merges share the cores. Returns the rows written of each kind (runs included)."""
        stop = threading.Event()
        with futures.ThreadPoolExecutor(1, thread_name_prefix="merge") as beside:
            merge = lambda kind: self.merge_chunks(keys, f"{kind}.parquet", kind=kind, stop=stop)  # noqa: E731
            others = beside.submit(lambda: {kind: merge(kind) for kind in kinds})
            try:
                rows = self.merge_chunks(keys, "runs.parquet", visit=visit)
            except BaseException:
                stop.set()  # the merge beside stops at its next chunk (and is waited for)
                raise
            return {"runs": rows, **others.result()}

    def finalise(self, spec: Scenario, chunks: list[tuple[int, int]]) -> dict[str, Any]:
        """Merge the chunks in run order into runs.parquet, trace.parquet (from the chunks that traced runs)
        and inputs.parquet, summarise them on the way, check that every run is there exactly once and
        write summary.json (``seal`` then drops the chunk files)."""
        summary = Summary(spec)
        keys = [start for start, _ in chunks]
        missing = [key for key in keys if not self.has_chunk(key)]
        if missing:
            raise OutputError(f"{self.path}: chunks starting at runs {missing[:5]} are missing; resume the run")
        expected = sum(stop - start for start, stop in chunks)
        rows = self.merge_all(keys, ("trace", "inputs"), summary.add)["runs"]
        if rows != expected:
            raise OutputError(f"{self.path}: {rows} rows for {expected} runs; the chunk files are inconsistent")
        result = summary.result()
        self.write_json("summary.json", result)
        return result

    def seal(self, **extra: Any) -> None:
        """Record every results file's checksum in the manifest and mark the folder complete, in one
        atomic write; only then drop the chunk files (until this point a resume can redo the merge)."""
        record = self.manifest()
        files = file_records(self.dir, record.file_names())
        self.write_manifest({**record.model_dump(mode="json"), "status": "complete", **extra, "files": files})
        self.sealed = True
        self.dir.remove_folder(".chunks")

    @contextmanager
    def finishing(self, expected: dict[Key, Span]) -> Iterator[ResultsFolder]:
        """Hold the folder's lock while this process runs, merges and seals it. Under the lock, before
        anything runs: refuse a folder another process has finished meanwhile, remove what a killed
        process left half-done (``unfinished``) and refuse a chunk whose record or files do not
        match the plan. On any failure or interruption before ``seal``, the folder is marked
        ``incomplete`` and stays resumable."""
        self.expected = expected
        with FolderLock(self.dir):
            self.plan = self._check_unfinished()
            stale = self.unfinished()  # refuses, removing nothing, what cannot be resumed
            self.chunks.check()
            for where, name in stale:
                where.remove(name)
            try:
                yield self
            except BaseException:
                if not self.sealed:
                    self.mark("incomplete")
                raise

    def unfinished(self) -> list[tuple[Folder, str]]:
        """What a killed process left half-done, to remove once the folder is known to be resumable:
        temporary files, merged files of a folder not yet sealed (they are made again from the chunks)
        and chunk files without a record."""
        here = [name for name in self.dir.names() if name.startswith(".") and name.endswith(".partial")]
        here += [name for name in RESULT_FILES if self.dir.kind(name) is not None]
        chunks = self.chunks
        return [(self.dir, name) for name in here] + [(chunks.folder, name) for name in chunks.unfinished()]

    def check_resumable(self) -> None:
        """Refuse a folder whose chunk files are gone, or whose ``.chunks`` is not a folder of its own."""
        kind = self.dir.kind(".chunks")
        if kind == "link":
            raise OutputError(f"{self.path / '.chunks'}: is a symbolic link; results folders never follow links, "
                              "so the run cannot be resumed")  # fmt: skip
        if kind != "folder":
            raise OutputError(f"{self.path}: its chunk files are gone; the run cannot be resumed")

    def _check_unfinished(self) -> str:
        """Refuse a folder another process has finished, or without its chunks; its plan_id."""
        record = self.manifest()
        if record.status == "complete":
            raise OutputError(f"{self.path}: this folder was completed by another process; nothing to resume")
        self.check_resumable()
        return record.plan_id()
