"""A results folder while a run is under way: finished chunks kept one file each under ``.chunks/``, a
manifest that says whether the run is complete, and the final merge into ``runs.parquet`` (and
``trace.parquet``) in fixed-size row groups, so the files are byte-identical whatever the chunking."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.outputs.integrity import FolderLock, file_records
from sim.outputs.store import OutputError, _atomic, create_results_dir, write_json, write_table
from sim.outputs.summary import Summary
from sim.scenario.schema import Scenario

ROW_GROUP = 65_536  # rows per Parquet row group in the merged files, whatever the chunk size


class ResultsFolder:
    """One run's folder: chunk files while it runs, merged files once it is complete."""

    def __init__(self, path: Path):
        self.path = path
        self.chunks = path / ".chunks"
        self.sealed = False

    @classmethod
    def create(cls, out: Path | None, name: str) -> ResultsFolder:
        folder = cls(create_results_dir(out, name))
        folder.chunks.mkdir()
        return folder

    @classmethod
    def open(cls, path: Path) -> ResultsFolder:
        """An existing folder, to resume or replay; its manifest must be readable."""
        folder = cls(path)
        if not path.is_dir():
            raise OutputError(f"{path}: no such results folder")
        if not (path / "manifest.json").is_file():
            raise OutputError(f"{path}: not a results folder (no manifest.json)")
        return folder

    def discard_partials(self) -> list[Path]:
        """Remove the half-written temporary files a killed process left (never a finished file)."""
        partials = [*self.path.glob(".*.partial"), *self.chunks.glob(".*.partial")]
        for partial in partials:
            partial.unlink(missing_ok=True)
        return partials

    def manifest(self) -> dict[str, Any]:
        try:
            record = json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OutputError(f"{self.path / 'manifest.json'}: unreadable: {exc}") from None
        if not isinstance(record, dict):
            raise OutputError(f"{self.path / 'manifest.json'}: not a manifest (a JSON object is expected)")
        return record

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json(manifest, self.path / "manifest.json")

    def mark(self, status: str, **extra: Any) -> None:
        """Set the manifest's status ('running', 'incomplete', 'complete') and any extra fields."""
        self.write_manifest({**self.manifest(), "status": status, **extra})

    def _chunk_file(self, kind: str, key: int | str) -> Path:
        """A chunk's file: keyed by its first run (an ensemble) or by a name (a sweep's point and block)."""
        return self.chunks / (f"{kind}-{key:012d}.parquet" if isinstance(key, int) else f"{kind}-{key}.parquet")

    def has_chunk(self, key: int | str) -> bool:
        return self._chunk_file("runs", key).exists()

    def done_runs(self) -> int:
        """Runs held in readable finished chunk files (a damaged one is refused by ``finishing``)."""
        total = 0
        for path in self.chunks.glob("runs-*.parquet"):
            try:
                total += pq.ParquetFile(path).metadata.num_rows
            except Exception:  # noqa: S112 - damaged: counted as not done, named before anything runs
                continue
        return total

    def save_chunk(self, key: int | str, rows: pd.DataFrame, trace: pd.DataFrame | None) -> None:
        """Keep a finished chunk; its rows file is written last, so it marks the chunk as done."""
        if trace is not None:
            write_table(trace, self._chunk_file("trace", key))
        write_table(rows, self._chunk_file("runs", key))

    def finalise(self, spec: Scenario, chunks: list[tuple[int, int]]) -> dict[str, Any]:
        """Merge the chunks in run order into runs.parquet (and trace.parquet), summarise them on the
        way, check that every run is there exactly once and write summary.json (``seal`` then drops the
        chunk files)."""
        summary = Summary(spec)
        expected = sum(stop - start for start, stop in chunks)
        missing = [start for start, _ in chunks if not self.has_chunk(start)]
        if missing:
            raise OutputError(f"{self.path}: chunks starting at runs {missing[:5]} are missing; resume the run")
        rows = _merge([self._chunk_file("runs", s) for s, _ in chunks], self.path / "runs.parquet", summary.add)
        if rows != expected:
            raise OutputError(f"{self.path}: {rows} rows for {expected} runs; the chunk files are inconsistent")
        traces = [self._chunk_file("trace", s) for s, _ in chunks if self._chunk_file("trace", s).exists()]
        if traces:
            _merge(traces, self.path / "trace.parquet")
        result = summary.result()
        write_json(result, self.path / "summary.json")
        return result

    def seal(self, **extra: Any) -> None:
        """Record every results file's checksum in the manifest and mark the folder complete, in one
        atomic write; only then drop the chunk files (until this point a resume can redo the merge)."""
        self.write_manifest({**self.manifest(), "status": "complete", **extra, "files": file_records(self.path)})
        self.sealed = True
        shutil.rmtree(self.chunks, ignore_errors=True)

    @contextmanager
    def finishing(self, expected: dict[int | str, int]) -> Iterator[ResultsFolder]:
        """Hold the folder's lock while this process runs, merges and seals it. Under the lock, before
        anything runs: refuse a folder another process has finished meanwhile, remove half-written
        temporary files and refuse damaged chunk files (``expected``: chunk key -> rows). On any failure
        or interruption before ``seal``, the folder is marked ``incomplete`` and stays resumable."""
        with FolderLock(self.path):
            self._check_unfinished()
            self.discard_partials()
            self._check_chunks(expected)
            try:
                yield self
            except BaseException:
                if not self.sealed:
                    self.mark("incomplete")
                raise

    def _check_unfinished(self) -> None:
        if self.manifest().get("status") == "complete":
            raise OutputError(f"{self.path}: this folder was completed by another process; nothing to resume")
        if not self.chunks.is_dir():
            raise OutputError(f"{self.path}: its chunk files are gone; it cannot be resumed")

    def _check_chunks(self, expected: dict[int | str, int]) -> None:
        """Every finished chunk file is a readable table of the rows it was written with."""
        for key, rows in expected.items():
            path = self._chunk_file("runs", key)
            if not path.exists():
                continue
            try:
                found = pq.ParquetFile(path).metadata.num_rows
            except Exception:  # a damaged file of any kind
                found = None
            if found != rows:
                raise OutputError(f"{path}: damaged ({found} rows where {rows} were written); delete it and resume "
                                  "again to run that chunk anew")  # fmt: skip


def _merge(sources: list[Path], target: Path, visit=None) -> int:
    """Concatenate Parquet files into ``target`` in row groups of ROW_GROUP rows; returns the row count."""
    buffered: list[pa.Table] = []
    rows = 0

    def write(writer: pq.ParquetWriter, table: pa.Table) -> None:
        writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP)

    def run(temporary: Path) -> None:
        nonlocal rows, buffered
        writer = None
        for source in sources:
            table = pq.read_table(source)
            if visit is not None:
                visit(table.to_pandas())
            rows += table.num_rows
            writer = writer or pq.ParquetWriter(temporary, table.schema, compression="zstd")
            buffered.append(table)
            pending = pa.concat_tables(buffered)
            while pending.num_rows >= ROW_GROUP:
                write(writer, pending.slice(0, ROW_GROUP))
                pending = pending.slice(ROW_GROUP)
            buffered = [pending]
        if writer is not None:
            rest = pa.concat_tables(buffered)
            if rest.num_rows:
                write(writer, rest)
            writer.close()

    _atomic(target, run)
    return rows
