"""The manifest of a results folder, read through a schema: what was run, how, by which version, and
the checksum of every file. Nothing in a folder is trusted before it has been read this way.

JSON is read with bounds (size, nesting depth, no NaN or infinities, integers of sane length, text
that is valid Unicode), then validated by ``RunManifest`` or ``SweepManifest``. A problem is told as
``DIR/manifest.json: field: what is wrong``.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError, model_validator

from sim.errors import FileError, OutputError
from sim.files import Folder
from sim.scenario.limits import MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_RUNS, MAX_SEED, MAX_SWEEP_POINTS, MAX_SWEEP_RUNS
from sim.scenario.paths import dotted

RUN_FILES = ("runs.parquet", "inputs.parquet", "trace.parquet", "summary.json", "report.html")
SWEEP_FILES = (
    "runs.parquet",
    "inputs.parquet",
    "points.parquet",
    "summary.parquet",
    "sensitivity.parquet",
    "sweep.html",
)
RESULT_FILES = tuple(dict.fromkeys(RUN_FILES + SWEEP_FILES))


class Record(BaseModel):
    """Strict: unknown fields are refused, numbers are numbers and text is text."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class FileRecord(Record):
    """A results file as it was written: its SHA-256, size and, for a table, rows."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file's bytes, in hex.")
    bytes: int = Field(ge=0, description="Size in bytes.")
    rows: int | None = Field(None, ge=0, description="Rows of a Parquet table.")


class GitRecord(Record):
    commit: str = Field(description="The commit of the code that wrote the folder.")
    dirty: bool = Field(description="Whether the checkout had uncommitted changes.")


class ScenarioFile(Record):
    path: str = Field(description="A file the scenario was read from.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Its SHA-256 then.")


class Manifest(Record):
    """Fields every results folder's manifest has."""

    created: str = Field(description="When the folder was made (UTC, ISO 8601).")
    command: list[str] = Field(description="The command line that made it.")
    status: Literal["running", "incomplete", "complete"] = Field(description="Whether the folder is finished.")
    overrides: list[str] = Field(description="--set overrides applied to the scenario.")
    seed: int = Field(ge=0, le=MAX_SEED, description="The seed; run k depends only on (seed, k).")
    runs: int = Field(ge=1, le=MAX_RUNS, description="Runs (per point, for a sweep).")
    versions: dict[str, str] = Field(description="Python and package versions, basing's included.")
    git: GitRecord | None = Field(description="The git commit of the code, if it ran from a checkout.")
    files: dict[str, FileRecord] | None = Field(None, description="Every results file, once complete.")
    rows: int | None = Field(None, ge=0, description="Rows of runs.parquet, once complete.")

    @model_validator(mode="after")
    def _complete(self) -> Manifest:
        if "basing" not in self.versions:
            raise ValueError("versions has no entry for basing")
        if self.status == "complete" and (self.files is None or self.rows is None or "runs.parquet" not in self.files):
            raise ValueError("a complete folder records its files (runs.parquet among them) and rows")
        unknown = sorted(set(self.files or {}) - set(self.file_names()))
        if unknown:
            raise ValueError(f"files: not results files of this kind of folder: {', '.join(unknown)}")
        if self.rows is not None and self.rows != self.expected_rows():
            raise ValueError(f"rows ({self.rows}) differs from the runs it claims ({self.expected_rows()})")
        return self

    @property
    def made_with(self) -> str:
        return self.versions["basing"]

    def file_names(self) -> tuple[str, ...]:
        return RESULT_FILES

    def expected_rows(self) -> int:
        return self.runs

    #: The fields that decide a folder's results: chunks made under other values cannot be merged.
    PLAN_FIELDS: ClassVar[tuple[str, ...]] = ()

    def plan_id(self) -> str:
        """A hash of the fields that decide the results (the scenario, the seed, the chunking...)."""
        data = self.model_dump(mode="json", include=set(self.PLAN_FIELDS))
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class RunManifest(Manifest):
    """The manifest of ``basing run``."""

    kind: Literal["run"] = Field("run", description="A run of one scenario.")
    scenario: dict[str, Any] = Field(description="The scenario as resolved (extends and overrides applied).")
    scenario_files: list[ScenarioFile] = Field(description="The files it was read from, with their hashes.")
    chunk_size: int = Field(ge=1, le=MAX_RUNS, description="Runs per chunk (bounds memory, not results).")
    trace_runs: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list, description="Traced runs: half-open ranges [first, stop) (read sorted and merged)."
    )

    @model_validator(mode="after")
    def _ranges(self) -> RunManifest:
        for first, last in self.trace_runs:
            if not 0 <= first < last <= self.runs:
                raise ValueError(f"trace_runs: [{first}, {last}] is not a range of runs within 0:{self.runs}")
        merged: list[list[int]] = []  # basing 0.1 kept overlapping ranges as given
        for first, last in sorted(self.trace_runs):
            if merged and first <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self.trace_runs = merged
        return self

    PLAN_FIELDS = ("scenario", "seed", "runs", "chunk_size", "trace_runs")

    def file_names(self) -> tuple[str, ...]:
        return RUN_FILES


class FactorRecord(Record):
    """A varied parameter as a sweep's manifest keeps it: a range (with a count for a grid) or values."""

    path: str = Field(min_length=1, description="The dotted scenario path.")
    low: float | None = Field(None, description="The range's low end.")
    high: float | None = Field(None, description="The range's high end.")
    count: int | None = Field(None, ge=2, le=MAX_SWEEP_POINTS, description="Grid values across the range.")
    values: list[Any] | None = Field(None, min_length=1, description="Explicit values.")

    @model_validator(mode="after")
    def _one(self) -> FactorRecord:
        ranged = self.low is not None and self.high is not None
        if ranged == (self.values is not None) or (ranged and not self.low < self.high):
            raise ValueError("a factor is a range with low < high, or a list of values")
        return self


class SweepManifest(Manifest):
    """The manifest of ``basing sweep``."""

    kind: Literal["sweep"] = Field(description="A sweep over a design's points.")
    scenario: str = Field(description="The scenario file swept.")
    scenario_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Its SHA-256 when the sweep began.")
    factors: list[FactorRecord] = Field(min_length=1, description="The varied parameters.")
    design: Literal["grid", "lhs", "sobol", "morris"] = Field(description="The experimental design.")
    samples: int | None = Field(None, ge=1, le=MAX_SWEEP_POINTS, description="Base samples of a sampled design.")
    block: int = Field(ge=1, le=MAX_RUNS, description="Runs per task.")
    points: int = Field(ge=1, le=MAX_SWEEP_POINTS, description="Points of the design.")
    outcomes: list[str] = Field(description="Summary columns the sensitivity indices rank by.")

    @model_validator(mode="after")
    def _size(self) -> SweepManifest:
        if self.points * self.runs > MAX_SWEEP_RUNS:
            raise ValueError(f"points x runs exceeds the limit of {MAX_SWEEP_RUNS:,}")
        return self

    PLAN_FIELDS = ("scenario_sha256", "overrides", "factors", "design", "samples", "runs", "seed", "block")

    def file_names(self) -> tuple[str, ...]:
        return SWEEP_FILES

    def expected_rows(self) -> int:
        return self.runs * self.points


def _kind(data: Any) -> str:
    return data.get("kind", "run") if isinstance(data, dict) else "run"


AnyManifest = Annotated[
    Union[Annotated[RunManifest, Tag("run")], Annotated[SweepManifest, Tag("sweep")]], Discriminator(_kind)
]


class ChunkRecord(Record):
    """A finished chunk (or sweep task), written after its files: which runs it holds and their hashes."""

    first: int = Field(ge=0, le=MAX_RUNS, description="Its first run.")
    stop: int = Field(ge=1, le=MAX_RUNS, description="One past its last run.")
    point: int | None = Field(None, ge=0, le=MAX_SWEEP_POINTS, description="The sweep point, for a sweep task.")
    runs: FileRecord = Field(description="Its rows file.")
    trace: FileRecord | None = Field(None, description="Its trace file, if it traced runs.")
    inputs: FileRecord | None = Field(None, description="Its runs' drawn inputs (a record without them is refused).")
    plan: str = Field(pattern=r"^[0-9a-f]{64}$", description="The plan it was made under (Manifest.plan_id).")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON may hold here")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large to be a number here")
    return value


def parse_json(raw: bytes, where: object) -> Any:
    """JSON bytes as data, refusing what would crash or mislead later: non-UTF-8 or non-Unicode text,
    NaN and infinities, integers too long to read, and nesting deeper than MAX_JSON_DEPTH."""
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise OutputError(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels; not a file of basing") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise OutputError(f"{where}: not valid JSON ({exc})") from None
    _check_plain(data, where)
    return data


def _check_plain(data: Any, where: object) -> None:
    """Nesting within MAX_JSON_DEPTH and only text UTF-8 can encode (no lone surrogates)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise OutputError(f"{where}: holds text that is not valid Unicode (a lone surrogate)") from None
            continue
        children = [*node, *node.values()] if isinstance(node, dict) else node if isinstance(node, list) else []
        if children and depth >= MAX_JSON_DEPTH:
            raise OutputError(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels; not a file of basing")
        stack.extend((child, depth + 1) for child in children)


def read_json(folder: Folder, name: str, limit: int = MAX_JSON_BYTES) -> Any:
    """A JSON file of a results folder, read with every bound (never through a link)."""
    try:
        raw = folder.read_bytes(name, limit)
    except FileError as exc:
        raise OutputError(str(exc)) from None
    return parse_json(raw, folder.path / name)


def validation_problems(exc: ValidationError, limit: int = 5) -> list[str]:
    """A pydantic error as 'field: message' lines (the union's branch names dropped)."""
    lines = []
    for error in exc.errors()[:limit]:
        loc = tuple(part for part in error["loc"] if part not in ("run", "sweep"))
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{dotted(loc)}: {message}" if loc else message)
    if len(exc.errors()) > limit:
        lines.append(f"and {len(exc.errors()) - limit} more")
    return lines


_MANIFEST: TypeAdapter[RunManifest | SweepManifest] = TypeAdapter(AnyManifest)


def parse_manifest(data: Any, where: object) -> RunManifest | SweepManifest:
    """A manifest's data through its schema; OutputError naming every problem (the first five)."""
    if not isinstance(data, dict):
        raise OutputError(f"{where}: not a manifest (a JSON object is expected)")
    try:
        return _MANIFEST.validate_python(data)
    except ValidationError as exc:
        raise OutputError(f"{where}: not a valid manifest: " + "; ".join(validation_problems(exc))) from None


def read_manifest(folder: Folder, kind: str | None = None) -> RunManifest | SweepManifest:
    """The folder's manifest, read and validated; with ``kind`` ('run' or 'sweep'), a manifest that says
    it is of another kind is refused as such before its fields are judged."""
    if folder.kind("manifest.json") is None:
        raise OutputError(f"{folder.path}: not a results folder (no manifest.json)")
    data = read_json(folder, "manifest.json")
    if kind is not None and isinstance(data, dict) and _kind(data) != kind:
        command = "basing run" if kind == "run" else "basing sweep"
        raise OutputError(f"{folder.path}: a folder of basing {_kind(data)}, not one of {command}")
    return parse_manifest(data, folder.path / "manifest.json")


def read_chunk_record(folder: Folder, name: str) -> ChunkRecord:
    """A chunk's record, read and validated."""
    data = read_json(folder, name, 2**20)
    try:
        return ChunkRecord.model_validate(data)
    except ValidationError as exc:
        raise OutputError(f"{folder.path / name}: not a chunk record: " + "; ".join(validation_problems(exc))) from None
