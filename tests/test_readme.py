"""The README's quickstart stays true: CI runs its test command verbatim, and its paths exist."""

from __future__ import annotations

import re

from conftest import ROOT


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quickstart_is_two_commands_and_ci_runs_the_second():
    install_and_run, install_and_test = quickstart_commands()
    assert "pip install ." in install_and_run and "basing run scenarios/russia_syria_baseline.yaml" in install_and_run
    assert '".[dev]"' in install_and_test and "pytest" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert install_and_test in ci.splitlines()
    assert (ROOT / "scenarios" / "russia_syria_baseline.yaml").exists()
