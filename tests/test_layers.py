"""The layers of the code base: imports point down (entry points -> options/models/data/metrics -> util), no cycles."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from tests.conftest import ROOT

ENTRY, MIDDLE, BOTTOM = 2, 1, 0
LAYERS = {"train": ENTRY, "train_evaluation": ENTRY, "test": ENTRY, "scripts": ENTRY, "datasets": ENTRY,
          "options": MIDDLE, "models": MIDDLE, "data": MIDDLE, "metrics": MIDDLE, "util": BOTTOM}


def project_modules() -> dict[str, Path]:
    """Every module of the product (tests excluded), by dotted name."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[0] in LAYERS:
            modules[".".join(parts).removesuffix(".__init__")] = path
    return modules


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that module `name` imports, anywhere in its body (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: one level is the package itself, each further one its parent
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            # `from models import networks` imports the module models.networks; `from models import create_model`
            # a name of models/__init__.py
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # a name inside a module, or a module outside the project
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@functools.cache
def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a list of nodes, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert "models.base_model" in graph["models.pix2pix_model"]
    assert "util.checkpoint" in graph["models.base_model"]
    assert {"data", "models", "options.train_options", "util.checkpoint"} <= graph["train"]


def test_imports_point_down_only():
    upward = [f"{module} imports {target}" for module, targets in import_graph().items() for target in targets
              if layer(target) > layer(module)]
    assert not upward, upward


def test_util_is_a_leaf():
    outside = [f"{module} imports {target}" for module, targets in import_graph().items() if layer(module) == BOTTOM
               for target in targets if layer(target) != BOTTOM]
    assert not outside, outside


def test_no_cycles_between_modules_or_packages():
    graph = import_graph()
    assert find_cycle(graph) is None, find_cycle(graph)
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        packages.setdefault(module.split(".")[0], set()).update(t.split(".")[0] for t in targets)
    for package, targets in packages.items():
        targets.discard(package)
    assert find_cycle(packages) is None, find_cycle(packages)


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
