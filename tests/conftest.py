"""Shared fixtures: the project's scenarios and a factory for small scenarios written to disk."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "russia_syria_baseline.yaml"

SEED_TEXT = "Alpha wants the port. Beta wants money.\nBoth   want peace.\n"


def two_party(**changes: Any) -> dict[str, Any]:
    """A small valid scenario: two parties, one stakeholder, two issues."""
    data: dict[str, Any] = {
        "name": "toy",
        "question": "Do Alpha and Beta agree?",
        "seed": "seed.txt",
        "start_date": "2025-02-15",
        "issues": {
            "port": {"label": "Port access", "unit": "level", "range": [0, 100], "points": {0: "none", 100: "full"}},
            "money": {"label": "Aid", "unit": "USD bn", "range": [0, 10]},
        },
        "actors": {
            "alpha": {
                "label": "Alpha",
                "role": "party",
                "capability": 0.6,
                "patience": 0.98,
                "risk": 0.5,
                "outside_option": {"value": 0.3, "label": "elsewhere"},
                "preferences": {
                    "port": {"ideal": 100, "salience": 0.7, "source": "Alpha wants the port."},
                    "money": {"ideal": 0, "salience": 0.3},
                },
                "strategy": {"kind": "linear", "deadline": 20},
            },
            "beta": {
                "label": "Beta",
                "role": "party",
                "capability": 0.4,
                "patience": 0.98,
                "risk": 0.5,
                "outside_option": {"value": 0.3, "label": "alone"},
                "preferences": {
                    "port": {"ideal": 0, "salience": 0.3},
                    "money": {"ideal": 10, "salience": 0.7, "source": "Beta wants money."},
                },
                "strategy": {"kind": "boulware", "beta": 0.5, "deadline": 20},
            },
            "gamma": {
                "label": "Gamma",
                "role": "stakeholder",
                "capability": 0.5,
                "outside_option": {"value": 0.5, "label": "status quo"},
                "preferences": {"port": {"ideal": 20, "salience": 1.0}},
            },
        },
        "protocol": {"proposer": "alternating", "horizon": 20, "breakdown_risk": 0.0},
        "influence": {"model": "pull", "rate": 0.05},
        "outcomes": {"deal": {"label": "Deal", "status": ["agreement"]}},
    }
    merged = copy.deepcopy(data)
    merged.update(changes)
    return merged


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write a scenario mapping (or raw text) to tmp_path and return its path; seed.txt beside it."""
    (tmp_path / "seed.txt").write_text(SEED_TEXT, encoding="utf-8")

    def write(data: dict[str, Any] | str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write
