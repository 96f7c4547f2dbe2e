"""basing explore without the browser: the controls are the scenario's numbers with their fields'
documentation, a change is judged by the same schema as a file and runs the same runs as the scenario
as written, a newer change stops an older one, and a saved variant is a file basing validates."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import yaml
from conftest import BASELINE, ROOT

import sim
from sim.errors import OutputError, SupersededError
from sim.experiments.explore import Explorer

RUNS = 300


@pytest.fixture(scope="module")
def explorer():
    opened = Explorer(BASELINE, RUNS, seed=3, workers=1)
    yield opened
    opened.close()


def numbers(node) -> int:
    if isinstance(node, bool):
        return 0
    if isinstance(node, (int, float)):
        return 1
    if isinstance(node, dict):
        return sum(numbers(v) for v in node.values())
    if isinstance(node, list):
        return sum(numbers(v) for v in node)
    return 0


def test_every_number_of_the_scenario_is_a_control_with_its_fields_documentation(explorer):
    resolved = explorer.loaded.resolved
    assert len(explorer.controls) == numbers(resolved) > 150
    patience = explorer.by_path["actors.russia.patience.low"]
    assert patience.group == "Russia (actor)" and patience.value == resolved["actors"]["russia"]["patience"]["low"]
    assert "discount factor" in patience.help and "Lower bound" in patience.help
    horizon = explorer.by_path["protocol.horizon"]
    assert (horizon.low, horizon.high, horizon.whole) == (1.0, 10000.0, True) and "rounds" in horizon.help
    deadline = explorer.by_path["actors.syria.strategy.tactics[0].deadline.mode"]  # a value inside a list
    assert deadline.group == "Syria's new government (actor)"
    groups = {c.group for c in explorer.controls}
    assert {"Protocol", "Status quo"} <= groups and any(g.endswith("(event)") for g in groups)
    assert any(g.endswith("(issue)") for g in groups)


def test_no_change_is_the_scenario_as_written(explorer):
    written = explorer.by_path["actors.russia.patience.low"].value
    found = explorer.evaluate({"actors.russia.patience.low": repr(written)})
    assert found.results is explorer.base and found.overrides == [] and not found.problems


def test_a_change_runs_what_basing_run_with_the_same_override_runs(explorer):
    found = explorer.evaluate({"actors.syria.outside_option.value.mode": "0.55"})
    assert not found.problems and found.overrides == ["actors.syria.outside_option.value.mode=0.55"]
    again = sim.run(sim.load(BASELINE, found.overrides), runs=RUNS, seed=3, workers=1)
    assert found.results.runs.equals(again.runs)  # the same schema, the same runs: only the change differs
    assert np.array_equal(found.results.runs["run"], explorer.base.runs["run"])
    assert not found.results.runs["utility_syria"].equals(explorer.base.runs["utility_syria"])


def test_a_value_under_a_list_overrides_the_whole_list_with_the_rest_as_written(explorer):
    found = explorer.evaluate({"actors.syria.strategy.tactics[0].deadline.mode": "30"})
    assert not found.problems
    (override,) = found.overrides
    assert override.startswith("actors.syria.strategy.tactics=[")
    tactics = yaml.safe_load(override.split("=", 1)[1])
    written = explorer.loaded.resolved["actors"]["syria"]["strategy"]["tactics"]
    assert tactics[0]["deadline"]["mode"] == 30 and tactics[1] == written[1]
    assert found.results.spec.actors["syria"].strategy.tactics[0].deadline.mode == 30


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1" * 300, "at most 200"),  # too long to be one number: refused, not cut
        ("1.7", "must be below high"),  # the schema's own message, as for a file
        ("{dist: normal}", "give one number"),  # a mapping: nothing but one number is read
        ("[1, 2]", "give one number"),
        ("", "give one number"),
        ("__import__('os')", "valid number"),  # text is text, never evaluated
        (".nan", "finite"),
    ],
)
def test_an_invalid_value_gets_the_schemas_message_beside_its_control(explorer, text, words):
    found = explorer.evaluate({"actors.russia.patience.low": text})
    assert found.results is None and words in found.problems["actors.russia.patience.low"]


def test_the_message_is_the_one_basing_validate_gives(explorer, tmp_path):
    found = explorer.evaluate({"protocol.horizon": "0"})
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(BASELINE), "--set", "protocol.horizon=0"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 2 and found.problems["protocol.horizon"] in done.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_a_newer_change_stops_the_one_running(workers):
    """In this process (one worker) and in worker processes that read the counter the explorer shares."""
    opened = Explorer(BASELINE, 6000, seed=1, workers=workers)
    failures: list[BaseException] = []

    def first() -> None:
        try:
            opened.evaluate({"actors.syria.outside_option.value.mode": "0.55"})
        except BaseException as exc:  # the test wants whatever it raised
            failures.append(exc)

    worker = threading.Thread(target=first)
    try:
        worker.start()
        waited = time.monotonic()
        while not opened.running and worker.is_alive() and time.monotonic() - waited < 60:
            time.sleep(0.001)  # until the first change is being simulated, however fast the engine is
        newer = opened.evaluate({"actors.syria.outside_option.value.mode": "0.45"})
        worker.join(timeout=60)
    finally:
        opened.close()
    assert len(failures) == 1 and isinstance(failures[0], SupersededError)
    assert newer.results is opened.latest and len(newer.results.runs) == 6000
    assert newer.results.spec.actors["syria"].outside_option.value.mode == 0.45
    with pytest.raises(SupersededError):  # a closed explorer runs nothing more
        opened.evaluate({"actors.syria.outside_option.value.mode": "0.52"})


def test_runs_are_capped():
    with pytest.raises(OutputError, match="1 to 20,000"):
        Explorer(BASELINE, 50_000)


def copy_project(tmp_path):
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    (tmp_path / "scenarios").mkdir()
    shutil.copy(BASELINE, tmp_path / "scenarios" / BASELINE.name)
    return tmp_path / "scenarios" / BASELINE.name


def test_a_saved_variant_extends_the_scenario_validates_and_never_replaces_a_file(tmp_path):
    scenario = copy_project(tmp_path)
    opened = Explorer(scenario, 100, workers=1)
    texts = {"actors.syria.strategy.tactics[0].deadline.mode": "30", "protocol.horizon": "40"}
    path = opened.save_variant(texts, "early_deadline", "What if Syria must settle sooner?")
    assert path == scenario.parent / "early_deadline.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["extends"] == scenario.name and data["question"] == "What if Syria must settle sooner?"
    assert data["protocol"] == {"horizon": 40}
    variant = sim.load(path)
    assert variant.spec.protocol.horizon == 40 and variant.spec.actors["syria"].strategy.tactics[0].deadline.mode == 30
    assert variant.spec.actors["russia"] == opened.loaded.spec.actors["russia"]  # the rest as written
    before = path.read_bytes()
    with pytest.raises(OutputError, match="exists"):
        opened.save_variant({"protocol.horizon": "41"}, "early_deadline", "Again?")
    assert path.read_bytes() == before
    for texts, name, question, words in [({}, "x", "q?", "nothing is changed"),
                                         ({"protocol.horizon": "40"}, "Bad Name", "q?", "lower_snake_case"),
                                         ({"protocol.horizon": "40"}, "early\n", "q?", "lower_snake_case"),
                                         ({"protocol.horizon": "40"}, 5, "q?", "lower_snake_case"),
                                         ({"protocol.horizon": "40"}, "ok", "  ", "question"),
                                         ({"protocol.horizon": "0"}, "zero", "q?", "protocol.horizon")]:  # fmt: skip
        with pytest.raises(OutputError, match=words):
            opened.save_variant(texts, name, question)
    assert not (scenario.parent / "zero.yaml").exists()


def test_a_busy_port_is_refused_before_anything_runs():
    """(Options out of range are rows of the bad-input catalogue.)"""
    import socket

    started: list[bool] = []
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OutputError, match=r"cannot listen there.*choose another --port"):
            sim.explore(BASELINE, port=busy.getsockname()[1], on_start=lambda: started.append(True))
    assert started == []


def test_another_host_is_served_only_with_a_warning():
    import signal
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "sim", "explore", str(BASELINE), "--runs", "50", "--host", "0.0.0.0", "--port",
               str(port)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout.readline().startswith(f"explore: http://0.0.0.0:{port}/")
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0
    assert "warning: serving on 0.0.0.0, not only this machine" in " ".join(err.split())


def test_what_the_browser_sends_is_checked_and_a_callback_never_fails_with_a_traceback(explorer):
    from sim.outputs.explore_page import changed_texts, guarded

    path = "protocol.horizon"
    assert changed_texts(explorer, ["40"], [{"type": "control", "path": path}]) == {path: "40"}
    assert changed_texts(explorer, ["52"], [{"type": "control", "path": path}]) == {}  # as written
    for values, ids in [(["40"], [{"path": "nonesuch"}]), (["40", "1"], [{"path": path}]), ([["x"]], [{"path": path}]),
                        ("40", {"path": path}), (["40"], [{"path": ["a"]}])]:  # fmt: skip
        with pytest.raises(OutputError, match="reload the page"):
            changed_texts(explorer, values, ids)
    said = guarded(lambda message: message)
    assert said(lambda: 1 / 0)() == "internal error: ZeroDivisionError: division by zero"
    assert said(lambda: (_ for _ in ()).throw(OutputError("refused")))() == "refused"


def test_the_page_answers_only_to_this_machines_address(explorer):
    from sim.outputs.explore_page import make_app

    client = make_app(explorer, "test", port=8050).server.test_client()
    assert client.get("/", headers={"Host": "127.0.0.1:8050"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost:8050"}).status_code == 200
    assert client.get("/", headers={"Host": "attacker.example:8050"}).status_code == 403  # DNS rebinding
    assert client.get("/", headers={"Host": "127.0.0.1:9999"}).status_code == 403


def test_an_influence_only_scenario_gets_its_own_figures(tmp_path):
    from sim.outputs.explore_page import outcome_line, page_figures

    source = sorted((ROOT / "sim" / "reference" / "data" / "bdm").glob("*.csv"))[0]
    scenario = tmp_path / "influence.yaml"
    done = subprocess.run([sys.executable, "-m", "sim", "import", "bdm", str(source), "-o", str(scenario)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    opened = Explorer(scenario, 50, workers=1)
    path = next(c.path for c in opened.controls if c.path.endswith(".salience"))
    found = opened.evaluate({path: "0.5"})
    titles = [f.layout.title.text for f in page_figures(opened, found.results)]
    assert len(set(titles)) == 4 and titles[0] == "How the runs stopped"
    assert outcome_line(found.results).startswith("converged in ")


def test_a_change_is_validated_from_memory_as_a_file_is():
    from sim.scenario.load import load_scenario, with_overrides

    base = load_scenario(BASELINE)
    overrides = ["protocol.horizon=40", "actors.russia.patience.low=0.97"]
    assert with_overrides(base, overrides).spec == load_scenario(BASELINE, overrides).spec
    assert with_overrides(base, overrides).overrides == overrides
