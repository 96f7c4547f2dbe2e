"""What inputs.parquet costs: for 100,000 baseline runs, the time the workers spend reading each chunk's
inputs from the set-up they simulate from (its draws noted, the derived inputs computed, the table saved
beside the chunk's rows) and the time to merge the chunks' tables into one file, against
`basing run -n 100000` end to end (which includes them). The set-up itself is not counted: the runs need
it anyway. Prints figures; asserts nothing.

    python benchmarks/bench_inputs.py           # 100,000 runs
    python benchmarks/bench_inputs.py --runs 20000

Aim (the discovery issue): under 15% of `basing run`'s end-to-end time at 100,000 runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from sim.engine.model import NegotiationModel  # noqa: E402
from sim.engine.state import noting_draws  # noqa: E402
from sim.experiments.ensemble import DEFAULT_CHUNK  # noqa: E402
from sim.experiments.inputs import inputs_of_model  # noqa: E402
from sim.outputs.chunks import write_row_groups  # noqa: E402
from sim.outputs.store import table_bytes  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "russia_syria_baseline.yaml"
AIM = 0.15


def inputs_seconds(runs: int, chunk: int = DEFAULT_CHUNK) -> tuple[float, int]:
    """Seconds to read, save and merge the inputs of ``runs`` baseline runs in chunks of ``chunk`` (to a
    temporary file), and the merged file's bytes."""
    spec = load_scenario(BASELINE).spec
    spent, saved = 0.0, []
    for first in range(0, runs, chunk):
        with noting_draws() as drawn:
            model = NegotiationModel(spec, np.arange(first, min(first + chunk, runs)), 1)
        start = time.perf_counter()
        saved.append(table_bytes(inputs_of_model(model, drawn)))
        spent += time.perf_counter() - start
    start = time.perf_counter()
    tables = (pq.read_table(pa.BufferReader(data)) for data in saved)
    with tempfile.TemporaryFile() as sink:
        write_row_groups(sink, next(tables), tables)
        return spent + time.perf_counter() - start, os.fstat(sink.fileno()).st_size


def run_seconds(runs: int) -> float:
    """Wall seconds of `basing run -n runs` on all cores, start-up included."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "-n", str(runs), "-q", "--out",
                        str(Path(folder) / "run")], check=True, cwd=ROOT, capture_output=True)  # fmt: skip
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    runs = parser.parse_args().runs
    made, size = inputs_seconds(runs)
    whole = run_seconds(runs)
    share = made / whole
    print(f"inputs.parquet for {runs:,} runs: {made:.2f} s ({size / 1e6:.1f} MB)")
    print(f"basing run -n {runs:,} end to end: {whole:.2f} s")
    print(f"share: {share:.1%} (aim < {AIM:.0%}): {'met' if share < AIM else 'NOT met'}")


if __name__ == "__main__":
    main()
