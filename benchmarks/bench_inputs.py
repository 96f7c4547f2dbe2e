"""What inputs.parquet costs: the time to set up the models, note their draws and write the table for
100,000 baseline runs, against `basing run -n 100000` end to end (which includes it). Prints figures;
asserts nothing.

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

import pyarrow as pa  # noqa: E402

from sim.experiments.inputs import input_blocks  # noqa: E402
from sim.outputs.chunks import write_row_groups  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "russia_syria_baseline.yaml"
AIM = 0.15


def inputs_seconds(runs: int) -> tuple[float, int]:
    """Seconds to make and write the inputs table of ``runs`` baseline runs (to a temporary file), and
    its bytes."""
    spec = load_scenario(BASELINE).spec
    start = time.perf_counter()
    tables = (pa.Table.from_pandas(t, preserve_index=False) for t in input_blocks(spec, 1, runs))
    with tempfile.TemporaryFile() as sink:
        write_row_groups(sink, next(tables), tables)
        return time.perf_counter() - start, os.fstat(sink.fileno()).st_size


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
