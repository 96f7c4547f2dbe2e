"""A results folder: finished chunks kept one file each under ``.chunks/`` while a run is under way, a
manifest that says whether it is complete, and the final merge into ``runs.parquet`` (and
``trace.parquet``) in fixed-size row groups, so the files are byte-identical whatever the chunking.

Every file is reached through one handle on the folder (``sim.files.Folder``): no symbolic link inside
it is ever followed, and no file is ever overwritten but the manifest, which is replaced atomically.
Each finished chunk has a record, written after its files: its runs and the SHA-256 of each file. A
resume checks every record against the plan and every file against its record before it runs
anything, and the merge checks each chunk's run column, so a chunk copied over another is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import FileError
from sim.files import Folder, file_kind, text_writer
from sim.outputs.integrity import FolderLock, file_record, file_records
from sim.outputs.manifest import (
    RESULT_FILES,
    ChunkRecord,
    FileRecord,
    RunManifest,
    SweepManifest,
    parse_manifest,
    read_chunk_record,
    read_json,
    read_manifest,
)
from sim.outputs.store import OutputError, create_results_dir, json_writer, table_writer
from sim.outputs.summary import Summary
from sim.scenario.schema import Scenario

ROW_GROUP = 65_536  # rows per Parquet row group in the merged files, whatever the chunk size
Key = int | str  # a chunk's key: its first run (an ensemble) or a name (a sweep's point and block)


@dataclass(frozen=True)
class Span:
    """The runs a chunk holds: [first, stop), of sweep point ``point`` if any."""

    first: int
    stop: int
    point: int | None = None


class ResultsFolder:
    """One run's or sweep's folder: chunk files while it runs, merged files once it is complete."""

    def __init__(self, folder: Folder):
        self.dir = folder
        self.sealed = False
        self.expected: dict[Key, Span] = {}
        self._chunks: Folder | None = None

    @property
    def path(self) -> Path:
        return self.dir.path

    @classmethod
    def create(cls, out: Path | None, name: str) -> ResultsFolder:
        try:
            folder = cls(create_results_dir(out, name))
        except FileError as exc:
            raise OutputError(str(exc)) from None
        folder._chunks = folder.dir.sub(".chunks", create=True)
        return folder

    @classmethod
    def begin(cls, out: Path | None, name: str, manifest: dict[str, Any]) -> ResultsFolder:
        """A new folder holding its first manifest. If that cannot be written, the new folder is removed
        again (it holds nothing else), so that the same --out can be used once the cause is mended."""
        folder = cls.create(out, name)
        try:
            parse_manifest(manifest, folder.path / "manifest.json")  # a bug, if it fails: never write one
            folder.write_manifest(manifest)
        except BaseException:
            folder.dir.remove_folder(".chunks")
            folder.dir.remove(".manifest.json.partial")
            folder.dir.discard()
            raise
        return folder

    @classmethod
    def open(cls, path: Path) -> ResultsFolder:
        """An existing folder with a manifest, to resume, replay, verify or compare."""
        if file_kind(path) is None:
            raise OutputError(f"{path}: no such results folder")
        try:
            handle = Folder.open(Path(path).resolve())
        except FileError as exc:
            raise OutputError(f"{path}: {exc.reason}") from None
        if handle.kind("manifest.json") is None:
            raise OutputError(f"{path}: not a results folder (no manifest.json)")
        return cls(handle)

    @property
    def chunks(self) -> Folder:
        if self._chunks is None:
            try:
                self._chunks = self.dir.sub(".chunks")
            except FileError as exc:
                raise OutputError(str(exc)) from None
        return self._chunks

    def manifest(self, kind: str | None = None) -> RunManifest | SweepManifest:
        """The manifest, read through its schema (of ``kind``, 'run' or 'sweep', if given)."""
        return read_manifest(self.dir, kind)

    def write_manifest(self, manifest: dict[str, Any] | RunManifest | SweepManifest) -> None:
        data = manifest.model_dump(mode="json") if not isinstance(manifest, dict) else manifest
        self.dir.replace("manifest.json", json_writer(data))

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
                return pq.read_table(handle, columns=columns, filters=filters)
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
        self._create(self.dir, name, table_writer(table))

    def write_text(self, name: str, text: str) -> None:
        self._create(self.dir, name, text_writer(text))

    def write_json(self, name: str, data: Any) -> None:
        self._create(self.dir, name, json_writer(data))

    @staticmethod
    def _create(folder: Folder, name: str, write) -> None:
        try:
            folder.create(name, write)
        except FileError as exc:
            raise OutputError(str(exc)) from None

    # -- chunks
    @staticmethod
    def _names(key: Key) -> tuple[str, str, str]:
        """A chunk's rows, trace and record file names."""
        stem = f"{key:012d}" if isinstance(key, int) else str(key)
        return f"runs-{stem}.parquet", f"trace-{stem}.parquet", f"runs-{stem}.json"

    def has_chunk(self, key: Key) -> bool:
        return self.chunks.kind(self._names(key)[2]) == "file"

    def done_runs(self) -> int:
        """Runs held in finished chunks (by their records; a damaged one is refused by ``finishing``)."""
        total = 0
        for name in self.chunks.names():
            if name.startswith("runs-") and name.endswith(".json") and self.chunks.kind(name) == "file":
                try:
                    record = read_chunk_record(self.chunks, name)
                except OutputError:
                    continue
                total += record.stop - record.first
        return total

    def save_chunk(self, key: Key, rows: pd.DataFrame, trace: pd.DataFrame | None) -> None:
        """Keep a finished chunk: its files, then its record (which marks the chunk as done)."""
        span = self.expected[key]
        runs = rows["run"].to_numpy()
        if not np.array_equal(runs, np.arange(span.first, span.stop)):
            raise OutputError(f"{self.path}: chunk {key} does not hold runs {span.first} to {span.stop - 1}")
        rows_name, trace_name, record_name = self._names(key)
        self._create(self.chunks, rows_name, table_writer(rows))
        record = {"first": span.first, "stop": span.stop, "point": span.point,
                  "runs": file_record(self.chunks, rows_name), "trace": None}  # fmt: skip
        if trace is not None:
            self._create(self.chunks, trace_name, table_writer(trace))
            record["trace"] = file_record(self.chunks, trace_name)
        self._create(self.chunks, record_name, json_writer(record))

    def _record(self, key: Key) -> ChunkRecord:
        name = self._names(key)[2]
        try:
            record = read_chunk_record(self.chunks, name)
        except OutputError as exc:
            raise self._damaged(name, str(exc).split(": ", 1)[-1]) from None
        span = self.expected[key]
        if (record.first, record.stop, record.point) != (span.first, span.stop, span.point):
            raise self._damaged(name, f"it records runs {record.first} to {record.stop - 1}, not those of this chunk")
        return record

    def _damaged(self, name: str, reason: str) -> OutputError:
        return OutputError(f"{self.chunks.path / name}: damaged ({reason}); delete it and resume again to run that "
                           "chunk anew")  # fmt: skip

    def _checked_table(self, name: str, expected: FileRecord) -> pa.Table:
        """A chunk file, its bytes checked against its record before it is read."""
        try:
            with self.chunks.open_binary(name) as handle:
                digest, size = hashlib.sha256(), 0
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
                    size += len(block)
                if (digest.hexdigest(), size) != (expected.sha256, expected.bytes):
                    raise self._damaged(name, "its bytes differ from its record")
                handle.seek(0)
                return pq.read_table(handle)
        except FileError as exc:
            raise self._damaged(name, exc.reason) from None
        except (OSError, pa.ArrowException) as exc:
            raise self._damaged(name, f"not a readable table: {exc.__class__.__name__}") from None

    def _chunk_tables(self, keys: list[Key], kind: str) -> Iterator[pa.Table]:
        """The chunks' rows (or traces) in order, each checked against its record and, for rows, holding
        exactly the runs (and point) its span names."""
        for key in keys:
            record, span = self._record(key), self.expected[key]
            rows_name, trace_name, _ = self._names(key)
            if kind == "trace":
                if record.trace is not None:
                    yield self._checked_table(trace_name, record.trace)
                continue
            table = self._checked_table(rows_name, record.runs)
            runs = table.column("run").to_numpy()
            points = table.column("point").to_numpy() if "point" in table.column_names else None
            if not np.array_equal(runs, np.arange(span.first, span.stop)) or (
                span.point is not None and (points is None or not (points == span.point).all())
            ):
                raise self._damaged(rows_name, f"it does not hold runs {span.first} to {span.stop - 1}")
            yield table

    def merge_chunks(self, keys: list[Key], target: str, kind: str = "runs",
                     visit: Callable[[pd.DataFrame], None] | None = None) -> int:  # fmt: skip
        """Merge the chunks ``keys`` in order into ``target``; ``visit`` sees each chunk's rows on the
        way. Returns the rows written (0, and no file, when no chunk has a trace)."""
        tables = self._chunk_tables(keys, kind)
        if visit is not None:
            tables = (_visited(table, visit) for table in tables)
        first = next(tables, None)
        if first is None:
            return 0
        rows = 0

        def write(handle) -> None:
            nonlocal rows
            rows = _write_row_groups(handle, _chain(first, tables))

        self._create(self.dir, target, write)
        return rows

    def finalise(self, spec: Scenario, chunks: list[tuple[int, int]]) -> dict[str, Any]:
        """Merge the chunks in run order into runs.parquet (and trace.parquet), summarise them on the
        way, check that every run is there exactly once and write summary.json (``seal`` then drops the
        chunk files)."""
        summary = Summary(spec)
        keys = [start for start, _ in chunks]
        missing = [key for key in keys if not self.has_chunk(key)]
        if missing:
            raise OutputError(f"{self.path}: chunks starting at runs {missing[:5]} are missing; resume the run")
        expected = sum(stop - start for start, stop in chunks)
        rows = self.merge_chunks(keys, "runs.parquet", visit=summary.add)
        if rows != expected:
            raise OutputError(f"{self.path}: {rows} rows for {expected} runs; the chunk files are inconsistent")
        self.merge_chunks(keys, "trace.parquet", kind="trace")
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
        anything runs: refuse a folder another process has finished meanwhile, remove half-written
        files (temporaries, chunks without a record, merged files not yet sealed) and refuse a chunk
        whose record or files do not match the plan. On any failure or interruption before ``seal``,
        the folder is marked ``incomplete`` and stays resumable."""
        self.expected = expected
        with FolderLock(self.dir):
            self._check_unfinished()
            self.discard_partials()
            for key in expected:
                if self.has_chunk(key):
                    record = self._record(key)
                    self._checked_table(self._names(key)[0], record.runs)
                    if record.trace is not None:
                        self._checked_table(self._names(key)[1], record.trace)
            try:
                yield self
            except BaseException:
                if not self.sealed:
                    self.mark("incomplete")
                raise

    def discard_partials(self) -> list[str]:
        """Remove what a killed process left half-done: temporary files, chunk files without a record
        (written, but not recorded as finished) and merged files of a folder not yet sealed."""
        gone = [name for name in self.dir.names() if name.startswith(".") and name.endswith(".partial")]
        gone += [name for name in RESULT_FILES if self.dir.kind(name) is not None]
        for name in gone:
            self.dir.remove(name)
        recorded = {self._names(key) for key in self.expected if self.has_chunk(key)}
        keep = {name for names in recorded for name in names}
        stale = [name for name in self.chunks.names() if name not in keep and self.chunks.kind(name) != "folder"]
        for name in stale:
            self.chunks.remove(name)
        return gone + stale

    def check_resumable(self) -> None:
        """Refuse a folder whose chunk files are gone, or whose ``.chunks`` is not a folder of its own."""
        kind = self.dir.kind(".chunks")
        if kind == "link":
            raise OutputError(f"{self.path / '.chunks'}: is a symbolic link; results folders never follow links, "
                              "so the run cannot be resumed")  # fmt: skip
        if kind != "folder":
            raise OutputError(f"{self.path}: its chunk files are gone; the run cannot be resumed")

    def _check_unfinished(self) -> None:
        if self.manifest().status == "complete":
            raise OutputError(f"{self.path}: this folder was completed by another process; nothing to resume")
        self.check_resumable()


def _visited(table: pa.Table, visit: Callable[[pd.DataFrame], None]) -> pa.Table:
    visit(table.to_pandas())
    return table


def _chain(first: pa.Table, rest: Iterable[pa.Table]) -> Iterator[pa.Table]:
    yield first
    yield from rest


def _write_row_groups(handle, tables: Iterable[pa.Table]) -> int:
    """Concatenate tables into one Parquet file in row groups of ROW_GROUP rows; returns the rows."""
    writer, buffered, rows = None, [], 0
    for table in tables:
        rows += table.num_rows
        writer = writer or pq.ParquetWriter(handle, table.schema, compression="zstd")
        buffered.append(table)
        pending = pa.concat_tables(buffered)
        while pending.num_rows >= ROW_GROUP:
            writer.write_table(pending.slice(0, ROW_GROUP).combine_chunks(), row_group_size=ROW_GROUP)
            pending = pending.slice(ROW_GROUP)
        buffered = [pending]
    rest = pa.concat_tables(buffered)
    if rest.num_rows:
        writer.write_table(rest.combine_chunks(), row_group_size=ROW_GROUP)
    writer.close()
    return rows
