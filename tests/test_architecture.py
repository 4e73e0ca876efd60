"""The layers hold: no import cycle between modules, and no import against
the order core <- accounts <- chargepoints <- reporting <- notifications /
gateway / webhooks (apps beside each other on one layer import neither way), with ``config``
the composition root that nothing imports.

The imports are read with ``ast`` from every module of the project (outside
migrations, tests and benchmarks), including imports inside functions: a
deferred import is still a dependency, it only hides the cycle from Python.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. An app may import its own layer's modules of its own
# package and any layer below; nothing may import config.
LAYERS: list[set[str]] = [
    {"core"},
    {"accounts"},
    {"chargepoints"},
    {"reporting"},
    {"notifications", "gateway", "webhooks"},
    {"drivers", "privacy", "performance"},
]
COMPOSITION_ROOT = "config"
SKIP_PARTS = {"migrations", "tests", "bench", ".venv", "node_modules", "__pycache__"}


def _rank(package: str) -> int | None:
    for rank, layer in enumerate(LAYERS):
        if package in layer:
            return rank
    return None


def _project_modules() -> dict[str, Path]:
    packages = [name for layer in LAYERS for name in layer] + [COMPOSITION_ROOT]
    modules = {}
    for package in packages:
        base = ROOT / package
        if not base.is_dir():
            continue
        for path in base.rglob("*.py"):
            if SKIP_PARTS & set(path.relative_to(ROOT).parts):
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules that module ``name`` imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found = set()

    def resolve(target: str) -> str | None:
        # The longest project module that the dotted name starts with.
        parts = target.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in modules:
                return candidate
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (hit := resolve(alias.name)) is not None:
                    found.add(hit)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            for alias in node.names:
                hit = resolve(f"{base}.{alias.name}") or resolve(base)
                if hit is not None:
                    found.add(hit)
    found.discard(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _project_modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_module_imports_against_the_layer_order(graph):
    wrong = []
    for module, imported in graph.items():
        package = module.split(".")[0]
        for target in imported:
            target_package = target.split(".")[0]
            if target_package == package:
                continue
            if target_package == COMPOSITION_ROOT:
                wrong.append(f"{module} imports {target}: nothing imports the composition root")
                continue
            if package == COMPOSITION_ROOT:
                continue
            if _rank(target_package) >= _rank(package):
                wrong.append(f"{module} imports {target}: {target_package} is not below {package}")
    assert not wrong, "Imports against the layers:\n" + "\n".join(sorted(wrong))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_import_cycles(graph):
    cycles = _cycles(graph)
    assert not cycles, "Import cycles:\n" + "\n".join(" <-> ".join(cycle) for cycle in cycles)


def test_the_checker_sees_a_cycle_and_an_upward_import():
    # The test above can only fail if the walk finds real edges.
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    modules = _project_modules()
    assert "reporting.services.filing" in modules and "accounts.models" in modules
    assert "accounts.models" in _imports("reporting.services.filing", modules["reporting.services.filing"], modules)
