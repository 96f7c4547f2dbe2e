"""The finished chunks of a run (or tasks of a sweep) while it is under way: ``.chunks/`` in its folder.

A chunk is kept as its rows file, its trace file (if it traced runs), its inputs file (its runs' drawn
inputs, which its worker reads from the same set-up as their rows) and, written last, its record: the
runs it holds and the SHA-256 and size of each file. The record marks the chunk as finished; a chunk
file without one is a half-done chunk to run again. Before a resume runs anything, and again as the
chunks are merged, every recorded chunk is read once: its bytes must match its record, its record the
plan, and its rows exactly the runs (and sweep point) it is meant to hold, so a chunk copied over
another, or edited, is refused by name.

A chunk's rows and inputs are Arrow IPC files in the column types a Parquet file gives back, so the merged
Parquet files are the same bytes as when chunks were Parquet. They are written and read at the speed of a
copy, where Parquet took 10 ms to write and 5 ms to read 5,000 rows, twice a chunk, in the main process.
Its trace stays compressed Parquet: a chunk may trace up to MAX_TRACE_ROWS rows, about 16 bytes a row in
Parquet against 54 uncompressed, and a chunk file is read whole, up to MAX_CHUNK_BYTES.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from sim.errors import FileError, OutputError
from sim.files import Folder, native
from sim.outputs.manifest import ChunkRecord, FileRecord, read_chunk_record
from sim.outputs.store import json_writer, table_bytes

ROW_GROUP = 65_536  # rows per Parquet row group in the merged files, whatever the chunk size
MAX_CHUNK_BYTES = 2**32  # one chunk file (a chunk holds at most about 5 million numbers per run set)
Key = int | str  # a chunk's key: its first run (an ensemble) or a name (a sweep's point and block)


@dataclass(frozen=True)
class Span:
    """The runs a chunk holds: [first, stop), of sweep point ``point`` if any."""

    first: int
    stop: int
    point: int | None = None


#: What a chunk may hold besides its record: a kind of table and whether its rows are one per run.
TABLE_KINDS = {"runs": True, "trace": False, "inputs": True}
#: How each kind of table is kept in a chunk (see the module's docstring).
CHUNK_FORMATS = {"runs": "arrow", "trace": "parquet", "inputs": "arrow"}


def names(key: Key) -> tuple[str, str, str, str]:
    """A chunk's rows, trace, inputs and record file names."""
    stem = f"{key:012d}" if isinstance(key, int) else str(key)
    return f"runs-{stem}.arrow", f"trace-{stem}.parquet", f"inputs-{stem}.arrow", f"runs-{stem}.json"


#: A chunk table file an earlier build wrote (Parquet), which this one does not read.
EARLIER_CHUNK = re.compile(r"(runs|inputs)-.+\.parquet")


def chunk_bytes(table: pd.DataFrame) -> bytes:
    """``table`` (without its pandas index) as the bytes of an Arrow IPC file, in the column types a
    Parquet file of it gives back."""
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.cast(parquet_schema(arrow.schema))
    sink = pa.BufferOutputStream()  # native: no Python file object for pyarrow to hold
    with ipc.new_file(sink, arrow.schema) as writer:
        writer.write_table(arrow)
    return sink.getvalue().to_pybytes()


def encoded(kind: str, table: pd.DataFrame) -> bytes:
    """A chunk's table of ``kind`` (TABLE_KINDS) as the bytes of its file, in its CHUNK_FORMATS form."""
    return chunk_bytes(table) if CHUNK_FORMATS[kind] == "arrow" else table_bytes(table)


def decoded(kind: str, data: bytes) -> pa.Table:
    """The table of a chunk file of ``kind``; raises pyarrow's errors on other bytes."""
    return chunk_table(data) if CHUNK_FORMATS[kind] == "arrow" else pq.read_table(pa.BufferReader(data))


def chunk_table(data: bytes) -> pa.Table:
    """The table of a chunk file's bytes (``chunk_bytes``); raises pyarrow's errors on other bytes."""
    return ipc.open_file(pa.BufferReader(data)).read_all()


_PARQUET_SCHEMAS: dict[bytes, pa.Schema] = {}


def parquet_schema(schema: pa.Schema) -> pa.Schema:
    """The schema (metadata included) that a table of ``schema`` has once written to Parquet and read back
    (text in dictionaries comes back as ``string``, not ``large_string``): read off an empty table."""
    key = schema.serialize().to_pybytes()
    if key not in _PARQUET_SCHEMAS:
        sink = pa.BufferOutputStream()
        pq.write_table(schema.empty_table(), sink)
        _PARQUET_SCHEMAS[key] = pq.read_schema(pa.BufferReader(sink.getvalue()))
    return _PARQUET_SCHEMAS[key]


def file_of(key: Key, kind: str) -> str:
    """The file name of a chunk's table of ``kind`` (one of TABLE_KINDS)."""
    return names(key)[list(TABLE_KINDS).index(kind)]


def _created(folder: Folder, name: str, data: bytes) -> dict[str, Any]:
    """Write the new file ``name`` holding ``data``; its record (SHA-256, bytes)."""
    try:
        folder.create(name, lambda handle: handle.write(data))
    except FileError as exc:
        raise OutputError(str(exc)) from None
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _temporary(name: str) -> bool:
    """A file a writer was still writing (``Folder.create``'s temporary name)."""
    return name.startswith(".") and name.endswith(".partial")


class ChunkStore:
    """The ``.chunks`` folder of a results folder, for the chunks of one plan (key -> Span) whose
    fingerprint is ``plan`` (``Manifest.plan_id``): a chunk made under another plan is refused."""

    def __init__(self, folder: Folder, expected: dict[Key, Span], plan: str):
        self.folder, self.expected, self.plan = folder, expected, plan

    def has(self, key: Key) -> bool:
        return self.folder.kind(names(key)[-1]) == "file"

    def done_runs(self) -> int:
        """Runs held in finished chunks, by their records (a damaged one is refused by ``check``)."""
        total = 0
        for name in self.folder.names():
            if name.startswith("runs-") and name.endswith(".json") and self.folder.kind(name) == "file":
                try:
                    record = read_chunk_record(self.folder, name)
                except OutputError:
                    continue
                total += record.stop - record.first
        return total

    def save(self, key: Key, rows: pd.DataFrame, trace: pd.DataFrame | None,
             inputs: pd.DataFrame | None = None) -> None:  # fmt: skip
        """Keep a finished chunk: its files, then its record (which marks the chunk as done)."""
        span = self.expected[key]
        record: dict[str, Any] = {"first": span.first, "stop": span.stop, "point": span.point, "plan": self.plan}
        for kind, table in zip(TABLE_KINDS, (rows, trace, inputs), strict=True):
            if table is not None and TABLE_KINDS[kind] and not _holds(table, span):
                raise OutputError(f"{self.folder.path}: chunk {key}'s {kind} do not hold runs {span.first} to "
                                  f"{span.stop - 1}")  # fmt: skip
            name = file_of(key, kind)
            record[kind] = None if table is None else {**_created(self.folder, name, encoded(kind, table)),
                                                       "rows": len(table)}  # fmt: skip
        try:
            self.folder.create(names(key)[-1], json_writer(record))
        except FileError as exc:
            raise OutputError(str(exc)) from None

    def unfinished(self) -> list[str]:
        """What a killed process left half-done here: temporary files, and the files of a planned chunk
        killed before its record was written. A file that belongs to no chunk of the plan is refused
        (the manifest must have changed since it was written): nothing is removed on a guess."""
        planned = {key: names(key) for key in self.expected}
        known = {name for files in planned.values() for name in files}
        foreign = [n for n in self.folder.names() if n not in known and not _temporary(n)]
        if foreign and all(EARLIER_CHUNK.fullmatch(n) for n in foreign):
            raise OutputError(f"{self.folder.path}: holds chunks in the Parquet form of an earlier build of basing, "
                              "which this one does not read; finish it with that build, or run it again")  # fmt: skip
        if foreign:
            shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise OutputError(f"{self.folder.path}: holds files of no chunk of this run's plan ({shown}); was the "
                              "manifest edited? Nothing was removed")  # fmt: skip
        stale = [n for n in self.folder.names() if _temporary(n)]
        for key, files in planned.items():
            if not self.has(key):
                stale += [name for name in files[:-1] if self.folder.kind(name) is not None]
        return stale

    def remove(self, names_: list[str]) -> None:
        for name in names_:
            self.folder.remove(name)

    def check(self) -> None:
        """Every recorded chunk of the plan is what its record says (see ``table``)."""
        for key in self.expected:
            if self.has(key):
                for kind in TABLE_KINDS:
                    self.table(key, kind)

    def _damaged(self, name: str, reason: str) -> OutputError:
        return OutputError(f"{self.folder.path / name}: damaged ({reason}); delete it and resume again to run that "
                           "chunk anew")  # fmt: skip

    def record(self, key: Key) -> ChunkRecord:
        """A chunk's record, which must name the runs the plan gives that chunk."""
        name = names(key)[-1]
        try:
            record = read_chunk_record(self.folder, name)
        except OutputError as exc:
            raise self._damaged(name, str(exc).split(": ", 1)[-1]) from None
        span = self.expected[key]
        if (record.first, record.stop, record.point) != (span.first, span.stop, span.point):
            raise self._damaged(name, f"it records runs {record.first} to {record.stop - 1}, not those of this chunk")
        if record.plan != self.plan:
            raise self._damaged(name, "it was made under another plan than the manifest's (scenario, seed or chunking)")
        if record.inputs is None:  # every worker writes its runs' inputs beside their rows
            raise self._damaged(name, "it records no inputs file for its runs")
        return record

    def table(self, key: Key, kind: str) -> pa.Table | None:
        """A chunk's table of ``kind`` (TABLE_KINDS: its rows, trace or inputs; None if it has none), read
        once: its bytes checked against its record, and a table of one row per run against the runs (and
        point) of its span."""
        record, span = self.record(key), self.expected[key]
        name, expected = file_of(key, kind), getattr(record, kind)
        if expected is None:
            return None
        table = self._read(name, expected, kind)
        if TABLE_KINDS[kind] and not _holds(table, span):
            raise self._damaged(name, f"it does not hold runs {span.first} to {span.stop - 1}")
        return table

    def _read(self, name: str, expected: FileRecord, kind: str) -> pa.Table:
        try:
            data = self.folder.read_bytes(name, MAX_CHUNK_BYTES)
        except FileError as exc:
            raise self._damaged(name, exc.reason) from None
        if (hashlib.sha256(data).hexdigest(), len(data)) != (expected.sha256, expected.bytes):
            raise self._damaged(name, "its bytes differ from its record")
        try:
            return decoded(kind, data)
        except (OSError, pa.ArrowException) as exc:
            raise self._damaged(name, f"not a readable table: {exc.__class__.__name__}") from None

    def merged(self, keys: list[Key], kind: str, visit: Callable[[pd.DataFrame], None] | None,
               stop: threading.Event | None = None) -> Iterator[pa.Table]:  # fmt: skip
        """The chunks' tables in order, each checked, all of the first one's columns and types, each
        shown to ``visit`` (as a data frame) on the way; raises MergeStoppedError before the next chunk once
        ``stop`` is set."""
        schema = None
        for key in keys:
            if stop is not None and stop.is_set():
                raise MergeStoppedError(f"{self.folder.path}: the merge of the chunks' {kind} was stopped")
            table = self.table(key, kind)
            if table is None:
                continue
            schema = schema or table.schema
            if not table.schema.equals(schema):
                raise self._damaged(file_of(key, kind), "its columns differ from the first chunk's")
            if visit is not None:
                try:
                    visit(table.to_pandas())
                except (KeyError, TypeError, ValueError) as exc:
                    raise self._damaged(file_of(key, kind), f"not the columns of this run ({exc})") from None
            yield table


class MergeStoppedError(OutputError):
    """A merge stopped from another thread (the one beside it failed)."""


def _holds(table: pd.DataFrame | pa.Table, span: Span) -> bool:
    """Whether ``table`` has one row per run of ``span``, in order (and all of its point, if any)."""
    columns = list(table.columns) if isinstance(table, pd.DataFrame) else table.column_names
    if "run" not in columns or not np.array_equal(np.asarray(table["run"]), np.arange(span.first, span.stop)):
        return False
    return span.point is None or ("point" in columns and bool((np.asarray(table["point"]) == span.point).all()))


def write_row_groups(handle: io.BufferedIOBase, first: pa.Table, rest: Iterable[pa.Table]) -> int:
    """Concatenate tables into one Parquet file in row groups of ROW_GROUP rows; returns the rows. A
    thread encodes each row group (pyarrow lets go of the GIL to compress) while this one reads the next
    tables, so reading, checking and summarising chunks overlaps the encoding."""
    writer = pq.ParquetWriter(native(handle), first.schema, compression="zstd")
    encoding = futures.ThreadPoolExecutor(1, thread_name_prefix="row-groups")
    pending_group: futures.Future | None = None  # at most one row group in the encoder, and one waiting

    def encode(group: pa.Table) -> None:
        nonlocal pending_group
        if pending_group is not None:
            pending_group.result()  # in order, and an encoder's error raised here
        pending_group = encoding.submit(lambda: writer.write_table(group.combine_chunks(), row_group_size=ROW_GROUP))

    buffered, rows = [], 0
    try:
        for table in _chain(first, rest):
            rows += table.num_rows
            buffered.append(table)
            pending = pa.concat_tables(buffered)
            while pending.num_rows >= ROW_GROUP:
                encode(pending.slice(0, ROW_GROUP))
                pending = pending.slice(ROW_GROUP)
            buffered = [pending]
        remainder = pa.concat_tables(buffered)
        if remainder.num_rows:
            encode(remainder)
        if pending_group is not None:
            pending_group.result()
    finally:
        encoding.shutdown(wait=True)  # the encoder is done with the writer before it is closed
        writer.close()
    return rows


def _chain(first: pa.Table, rest: Iterable[pa.Table]) -> Iterator[pa.Table]:
    yield first
    yield from rest
