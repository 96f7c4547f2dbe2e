"""The HTML pages in a real browser: headless Chromium (the system's, not a downloaded one) opens
``report.html``, ``compare.html``, ``sweep.html``, ``backtest.html`` from disk, with the network closed,
sees no JavaScript error, finds every figure drawn, and no markup from a scenario runs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import BASELINE, ROOT, SEED_TEXT, two_party

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine (Debian: apt-get install chromium)"
)

MARKUP = "<img src=x onerror='window.__injected = 1'><script>window.__injected = 2</script>"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def basing(*args: str, cwd) -> None:
    done = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    (folder / "seed.txt").write_text(SEED_TEXT)
    (folder / "a.yaml").write_text(yaml.safe_dump(two_party()))
    variant = two_party(name="variant", question=MARKUP)
    variant["actors"]["beta"]["label"] = MARKUP
    variant["issues"]["money"]["label"] = MARKUP
    variant["issues"]["money"]["unit"] = MARKUP
    (folder / "b.yaml").write_text(yaml.safe_dump(variant))
    basing("run", "b.yaml", "-n", "300", "-q", "--out", "b-run", "--workers", "1", cwd=folder)
    basing("compare", "a.yaml", "b-run", "-n", "300", "--out", "compare.html", "--workers", "1", cwd=folder)
    basing("sweep", "a.yaml", "--vary", "actors.alpha.patience=0.9:0.99:3", "--vary",
           "protocol.breakdown_risk=0,0.05", "-n", "50", "-q", "--out", "sweep",
           "--workers", "1", cwd=folder)  # fmt: skip
    (folder / "outcomes").mkdir()
    (folder / "outcomes" / "a.yaml").write_text(yaml.safe_dump({
        "case": "toy", "observed": "agreement", "date": "2025-04-01", "summary": "They agreed.",
        "sources": [{"quote": "they agreed on the port", "cite": "https://example.org/news"}]}))  # fmt: skip
    basing("backtest", "a.yaml", "-n", "100", "--out", "backtest", "--workers", "1", cwd=folder)
    basing("run", str(BASELINE), "-n", "1200", "-q", "--out", "base", cwd=folder)
    basing("discover", "base", "--outcome", "russia_keeps_tartus", cwd=folder)
    return {"discovery": folder / "base" / "discovery-prim-russia_keeps_tartus.html",
            "report": folder / "b-run" / "report.html", "compare": folder / "compare.html",
            "sweep": folder / "sweep" / "sweep.html", "backtest": folder / "backtest" / "backtest.html"}  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("name", ["report", "compare", "sweep", "backtest", "discovery"])
def test_every_figure_renders_without_errors(pages, browser, name):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(pages[name].as_uri())
    expected = page.locator("div.plotly-graph-div").count()
    assert expected >= (3 if name in ("sweep", "backtest") else 4 if name == "discovery" else 6)
    page.wait_for_function(
        "n => document.querySelectorAll('div.plotly-graph-div .main-svg').length >= n && "
        "[...document.querySelectorAll('div.plotly-graph-div')].every(d => d._fullLayout)",
        arg=expected,
        timeout=60_000,
    )
    drawn = page.evaluate(
        "[...document.querySelectorAll('div.plotly-graph-div')].map(d => d.data.length > 0 && "
        "d.querySelectorAll('.main-svg').length > 0)"
    )
    assert drawn == [True] * expected
    if name == "report":  # a single run: no panel comparing it with itself
        texts = page.evaluate("[...document.querySelectorAll('.annotation-text')].map(a => a.textContent)")
        assert texts and not [t for t in texts if "difference from" in t]
    assert page.evaluate("window.__injected") is None
    assert errors == []
    page.close()


def test_markup_in_labels_shows_as_text(pages, browser):
    page = browser.new_page()
    page.goto(pages["report"].as_uri())
    page.wait_for_function("document.querySelectorAll('div.plotly-graph-div .main-svg').length > 0", timeout=60_000)
    assert page.locator("img[src=x]").count() == 0
    assert MARKUP in page.inner_text("body")  # the question, as text
    assert page.evaluate("window.__injected") is None
    page.close()


def test_explore_redraws_on_a_change_rejects_a_bad_value_and_saves_a_variant(browser, tmp_path):
    """basing explore on the baseline, served by the command line: a changed control redraws the figures
    beside the scenario as written with the differences, an invalid value gets the schema's message
    beside its control, a saved variant validates, and Ctrl-C stops the server cleanly."""
    import signal
    import socket

    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    (tmp_path / "scenarios").mkdir()
    scenario = tmp_path / "scenarios" / BASELINE.name
    shutil.copy(BASELINE, scenario)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "sim", "explore", str(scenario), "--runs", "1000", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = server.stdout.readline().split()[1]
        assert url == f"http://127.0.0.1:{port}/"
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector("#figure-0 .main-svg", timeout=60_000)
        names = "() => document.querySelector('#figure-0 .js-plotly-plot').data.map(t => t.name)"
        assert page.evaluate(names) == ["as written"]
        before = page.inner_text("#status")
        page.locator("summary", has_text="Syria's new government (actor)").click()
        field = page.locator("[data-path='actors.syria.outside_option.value.mode'] input")
        field.fill("0.58")
        field.press("Enter")
        page.wait_for_function("b => document.querySelector('#status').innerText !== b", arg=before, timeout=60_000)
        page.wait_for_function(f"() => ({names})().includes('changed')", timeout=30_000)  # the figure changed
        assert "actors.syria.outside_option.value.mode=0.58" in page.inner_text("#status")
        differences = page.locator("#indicators tbody tr td:nth-child(4)").all_inner_texts()
        assert any(d.endswith(")") and "pts" in d and not d.startswith("+0.0") for d in differences)
        page.locator("summary", has_text="Russia (actor)").click()
        low = page.locator("[data-path='actors.russia.patience.low'] input")
        low.fill("1.7")
        low.press("Enter")
        problem = page.locator("[data-problem='actors.russia.patience.low']")
        problem.wait_for(state="visible", timeout=30_000)
        page.wait_for_function("() => document.querySelector(\"[data-problem='actors.russia.patience.low']\")"
                               ".textContent.includes('must be below high')", timeout=30_000)  # fmt: skip
        assert "not run" in page.inner_text("#status")
        low.fill("0.975")  # as written again
        low.press("Enter")
        page.wait_for_function("() => !document.querySelector('#status').innerText.startsWith('not run')",
                               timeout=30_000)  # fmt: skip
        assert problem.inner_text() == ""
        page.fill("#variant-name", "syria_better_outside_option")
        page.fill("#variant-question", "What if Syria's outside option is a little better?")
        page.click("#save")
        page.wait_for_selector("#saved-path", timeout=30_000)
        saved = scenario.parent / "syria_better_outside_option.yaml"
        assert saved.exists() and str(saved) in page.inner_text("#saved-path")
        assert errors == []
        page.close()
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0 and "explore: stopped" in out and "Traceback" not in err
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(saved)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
