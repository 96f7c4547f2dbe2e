"""How long `basing explore` takes from a changed control to the redrawn figures, at 2,000 baseline runs.
Prints figures; asserts nothing.

    python benchmarks/bench_explore.py            # 2,000 runs, 8 changes
    python benchmarks/bench_explore.py --runs 5000 --changes 10

Two measurements:

* the server's share, in this process: validating and running a change (two worker processes) and
  drawing its figures and indicator table, stage by stage;
* end to end, in the system Chromium (headless, through playwright): `basing explore` is started on a
  free port, a control is given a new value and Enter pressed, and the time runs until the page has
  applied the new results (the status line changes after the figures are drawn in the same update).
  The clock is the page's own (performance.now), from the keypress to the change of the status line.

Aim (the explore issue): under 1.5 s from a change to the redrawn figures at 2,000 runs on this
two-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE = ROOT / "scenarios" / "russia_syria_baseline.yaml"
CONTROL = "actors.syria.outside_option.value.mode"  # written as 0.5, a triangular's mode in [0.35, 0.6]
VALUES = ["0.55", "0.45", "0.52", "0.4", "0.58", "0.48", "0.5", "0.42", "0.57", "0.47"]
AIM = 1.5


def server_stages(runs: int, changes: int) -> None:
    from sim.experiments.explore import Explorer
    from sim.outputs.explore_page import indicator_rows, page_figures

    started = time.perf_counter()
    explorer = Explorer(BASELINE, runs)
    print(f"open the scenario and run it as written: {time.perf_counter() - started:.2f} s (workers started)")
    stages: dict[str, list[float]] = {"validate and run": [], "figures": [], "indicator table": []}
    try:
        for value in VALUES[:changes]:
            t0 = time.perf_counter()
            found = explorer.evaluate({CONTROL: value})
            t1 = time.perf_counter()
            page_figures(explorer, found.results)
            t2 = time.perf_counter()
            indicator_rows(explorer.base, found.results)
            t3 = time.perf_counter()
            for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                stages[name].append(seconds)
    finally:
        explorer.close()
    for name, times in stages.items():
        print(f"  {name:<18} median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f})")
    total = [sum(t) for t in zip(*stages.values(), strict=True)]
    print(f"  server total       median {statistics.median(total):.3f} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


WATCH = """() => {
  window.__changes = [];
  const status = document.querySelector('#status');
  new MutationObserver(() => window.__changes.push(performance.now())).observe(status, {childList: true,
    characterData: true, subtree: true});
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__pressed = performance.now(); }, true);
}"""


def browser_round_trips(runs: int, changes: int) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("end to end: skipped (needs playwright and the system Chromium)")
        return
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "sim", "explore", str(BASELINE), "--runs", str(runs), "--port",
                               str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        line = server.stdout.readline()  # "explore: http://127.0.0.1:PORT/ (Ctrl-C stops)"
        url = line.split()[1]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
            page = browser.new_page()
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("#figure-0 .main-svg", timeout=120_000)
            print(f"end to end: page loaded and drawn in {time.perf_counter() - started:.2f} s")
            page.evaluate(WATCH)
            page.locator("summary", has_text="Syria's new government (actor)").click()
            field = page.locator(f"[data-path='{CONTROL}'] input")
            times = []
            for value in VALUES[:changes]:
                before = page.inner_text("#status")
                page.evaluate("() => { window.__changes = []; }")
                field.fill(value)
                field.press("Enter")
                page.wait_for_function("(b) => document.querySelector('#status').innerText !== b", arg=before,
                                       timeout=60_000)  # fmt: skip
                page.wait_for_timeout(300)  # let the update finish drawing
                pressed, changed = page.evaluate("() => [window.__pressed, window.__changes[0]]")
                times.append((changed - pressed) / 1000)
                print(f"    {value}: {times[-1]:.2f} s")
            browser.close()
        print(f"  change -> redrawn: median {statistics.median(times):.2f} s (min {min(times):.2f}, max "
              f"{max(times):.2f}) over {len(times)} changes; aim < {AIM} s")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=8)
    args = parser.parse_args()
    print(f"basing explore on the baseline, {args.runs:,} runs per change, {os.cpu_count()} cores")
    server_stages(args.runs, args.changes)
    browser_round_trips(args.runs, args.changes)


if __name__ == "__main__":
    main()
