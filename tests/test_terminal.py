"""Strings reaching the terminal (and pages) are shown as the text they are, whatever they hold: rich
markup, emoji codes, escape sequences, bidirectional overrides, lone surrogates. Property tests over any
text, at the console, through the command line's real output and in the pages it writes."""

from __future__ import annotations

import io
import shutil
import string

import yaml
from catalogue_support import VALID, invoke
from conftest import SEED_TEXT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.table import Table
from rich.text import Text

from sim.outputs.console import Terminal
from sim.outputs.escape import UNSAFE, esc, visible
from sim.scenario.load import load_scenario

MARKUP = "<img src=x onerror=alert(1)>"
# Any code point at all, surrogates and controls included, with the characters that matter most often.
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
HOSTILE = st.sampled_from(["[/]", "[bold red]", "[/bold red]", ":smile:", "\x1b[2J", "\x1b]0;title\x07", "\x07",
                           "\u202e", "\ud800", "\x9b31m", "<b>", "</script>", "&amp;", "\r", "\x00",
                           MARKUP])  # fmt: skip
TEXT = st.lists(st.one_of(st.text(ANY_CHARACTER, max_size=6), HOSTILE), max_size=6).map("".join)
CLI = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def rendered(*objects) -> str:
    buffer = io.StringIO()
    console = Terminal(file=buffer, width=10_000, force_terminal=True, color_system="truecolor")
    for item in objects:
        console.print(item, soft_wrap=True)
    return buffer.getvalue()


def without_styles(output: str) -> str:
    """The output with the styles the console itself writes (SGR sequences) taken out."""
    import re

    return re.sub("\x1b\\[[0-9;]*m", "", output)


@settings(max_examples=400, deadline=None)
@given(text=TEXT)
def test_any_text_reaches_the_terminal_as_text(text):
    table = Table("column")
    table.add_row(text)
    for shown in (rendered(text), rendered(Text(text)), rendered(Text.assemble(("x", "bold"), text)), rendered(table)):
        plain = without_styles(shown)
        assert not UNSAFE.search(plain.replace("\n", "")), repr(plain)
        assert "\x1b" not in plain
    squeezed = "".join(without_styles(rendered(text)).split())  # rich expands tabs and wraps nothing here
    assert "".join(visible(text).split()) in squeezed


@settings(max_examples=400, deadline=None)
@given(text=TEXT)
def test_any_text_is_inert_in_a_page(text):
    escaped = esc(text)
    assert not UNSAFE.search(escaped)
    assert "<" not in escaped and ">" not in escaped and '"' not in escaped


def scenario_text(question: str, label: str, unit: str) -> str:
    data = {**VALID, "question": question}
    data["issues"] = {**VALID["issues"], "port": {**VALID["issues"]["port"], "unit": unit}}
    data["outcomes"] = {"deal": {"label": label, "status": ["agreement"]}}
    return yaml.safe_dump(data, allow_unicode=True)


YAML_TEXT = st.lists(st.one_of(st.text(st.characters(codec="utf-8"), max_size=6), HOSTILE.filter(
    lambda s: s != "\ud800")), max_size=5).map("".join)  # fmt: skip
NAME = st.text(string.ascii_letters + string.digits + "[]/:_-!#@ \x1b\x07\u202e", min_size=1, max_size=12).filter(
    lambda s: s.strip("/ ") and "/" not in s and s not in (".", ".."))  # fmt: skip


@CLI
@given(question=YAML_TEXT, label=YAML_TEXT, unit=YAML_TEXT, out=NAME)
def test_the_command_line_shows_any_scenario_text_as_text(tmp_path_factory, question, label, unit, out):
    """Whatever the question, a label, a unit or the --out name hold, ``basing run`` ends with exit code 0
    (or 2, refusing it with a message), no traceback, and nothing that acts on the terminal."""
    folder = tmp_path_factory.mktemp("terminal")
    (folder / "seed.txt").write_text(SEED_TEXT)
    (folder / "s.yaml").write_text(scenario_text(question, label, unit), encoding="utf-8")
    code, stdout, stderr = invoke(["run", "s.yaml", "-n", "4", "--workers", "1", "--out", out], folder)
    assert code in (0, 2), stderr
    assert "Traceback" not in stdout + stderr and "internal error" not in stdout + stderr
    assert not UNSAFE.search((stdout + stderr).replace("\n", "")), repr(stdout + stderr)
    if code == 0:
        spec = load_scenario(folder / "s.yaml").spec  # YAML folds some line breaks (\x85): the text as read
        label, question = spec.outcomes["deal"].label, spec.question
        page = (folder / out / "report.html").read_text(encoding="utf-8")
        assert esc(label) in page and esc(question) in page
        assert MARKUP not in label + question or MARKUP not in page
    shutil.rmtree(folder)


def _basing(args: list[str], cwd, env: dict[str, str]):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, cwd=cwd, timeout=300,
                          env={**os.environ, **env})  # fmt: skip


def test_a_terminal_that_cannot_show_the_text_gets_escapes(tmp_path):
    # an ASCII-only terminal (LC_ALL=C): non-ASCII text is written as \xfc, never a crash
    (tmp_path / "seed.txt").write_text(SEED_TEXT)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({**VALID, "question": "T\u00fcrkiye?"}, allow_unicode=True))
    done = _basing(["run", "s.yaml", "-n", "5", "--workers", "1", "--out", "o"], tmp_path,
                   {"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"T\\xfcrkiye?" in done.stdout


def test_columns_of_zero_hide_no_message(tmp_path):
    done = _basing(["validate", "nope.yaml"], tmp_path, {"COLUMNS": "0"})
    assert done.returncode == 2 and b"error: nope.yaml: file not found" in done.stderr
    usage = _basing(["run", "--no-such-option"], tmp_path, {"COLUMNS": "0"})
    assert usage.returncode == 2 and b"No such option: --no-such-option" in usage.stderr
