"""The dependency rules of the package, checked on its source: one direction between layers, no import
cycle (at run time or for type hints) apart from the Mesa model-agent pair, no private names taken from
another module, and the protocols the engine's collaborators declare met by the model."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"

# CLI -> API -> experiments -> engine and outputs -> scenario and influence -> numerics, arrays, files ->
# errors. A module may import its own package and any package of a lower layer; never upwards or sideways.
LAYERS = {
    "sim.__main__": 8, "sim.cli": 7,
    "sim": 6,  # the package re-exports the API
    "sim.api": 5,
    "sim.experiments": 4, "sim.reference": 4,
    "sim.engine": 3, "sim.outputs": 3,
    "sim.scenario": 2, "sim.influence": 2,
    "sim.numerics": 1, "sim.arrays": 1, "sim.files": 1,
    "sim.errors": 0,
}  # fmt: skip
ALLOWED_CYCLES = [{"sim.engine.agents", "sim.engine.model"}]  # Mesa's model and its agents know each other


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = ROOT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def private_name(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def scan() -> tuple[dict[str, set[str]], list[str]]:
    """Every import between the package's modules (top level, in functions and under TYPE_CHECKING)
    and every private name one module takes from another."""
    edges: dict[str, set[str]] = {}
    private: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        edges[name] = set()
        aliases: dict[str, str] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "sim":
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if is_module(full):  # ``from sim.x import module``
                        edges[name].add(full)
                        aliases[alias.asname or alias.name] = full
                    else:
                        edges[name].add(node.module)
                        if private_name(alias.name):
                            private.append(f"{name} imports {alias.name} from {node.module}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "sim":
                        edges[name].add(alias.name)
                        aliases[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.Attribute) and private_name(node.attr):
                owner = node.value.id if isinstance(node.value, ast.Name) else None
                if owner in aliases:
                    private.append(f"{name} uses {aliases[owner]}.{node.attr}")
        edges[name].discard(name)
    return edges, private


EDGES, PRIVATE = scan()


def layer_of(module: str) -> tuple[str, int]:
    for cut in range(module.count(".") + 1, 0, -1):
        prefix = ".".join(module.split(".")[:cut])
        if prefix in LAYERS:
            return prefix, LAYERS[prefix]
    raise AssertionError(f"{module}: no layer is declared for it in LAYERS")


def test_every_module_has_a_layer_and_imports_only_downwards():
    wrong = []
    for module, targets in EDGES.items():
        package, rank = layer_of(module)
        for target in targets:
            other, other_rank = layer_of(target)
            if other != package and other_rank >= rank:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_but_the_mesa_model_and_its_agents():
    assert [c for c in cycles(EDGES) if c not in ALLOWED_CYCLES] == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_module_takes_another_modules_private_name():
    assert PRIVATE == []


def test_influence_and_numerics_import_nothing_from_the_engine():
    below = ("sim.influence", "sim.numerics", "sim.arrays")
    upward = [f"{m} -> {t}" for m, targets in EDGES.items() for t in targets
              if m.startswith(below) and t.startswith("sim.engine")]  # fmt: skip
    assert upward == []


def test_the_command_line_is_a_client_of_the_api():
    """The CLI parses, calls the API, renders and sets the exit code: it reaches the experiments, the
    engine, the reference models and the scenario loader only through ``sim.api``."""
    behind_the_api = ("sim.experiments", "sim.engine", "sim.reference", "sim.influence", "sim.scenario.load")
    reached = sorted(t for t in EDGES["sim.cli"] if t.startswith(behind_the_api))
    assert reached == []


def test_the_model_meets_every_protocol_its_collaborators_declare():
    from sim.engine.batch import Batch
    from sim.engine.model import NegotiationModel
    from sim.engine.results import Finished
    from sim.engine.strategies import Bargaining
    from sim.engine.trace import Traced
    from sim.scenario.load import load_scenario

    spec = load_scenario(ROOT / "scenarios" / "russia_syria_baseline.yaml").spec
    model = NegotiationModel(spec, np.arange(4), seed=1)
    for protocol in (Batch, Traced, Bargaining, Finished):
        assert isinstance(model, protocol), protocol.__name__


@pytest.mark.parametrize("protocol_path", ["sim.engine.trace.Traced", "sim.engine.strategies.Bargaining"])
def test_a_protocol_check_fails_on_an_object_without_the_attributes(protocol_path):
    import importlib

    module, name = protocol_path.rsplit(".", 1)
    assert not isinstance(object(), getattr(importlib.import_module(module), name))
