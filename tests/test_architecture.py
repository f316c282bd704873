"""The layout holds: apps import one way, no two files import each other in a circle, modules stay small.

Imports are read from the source (every `import` and `from ... import`, including those inside functions), so
an import hidden in a function to dodge a cycle still counts.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("access", "audit", "collections_app", "config", "demo", "review")
# Which top-level packages each may import. `config` wires the project together (urls, settings, celery).
ALLOWED = {
    "audit": {"audit"},
    "access": {"access", "audit"},
    "collections_app": {"collections_app", "access", "audit"},
    "review": {"review", "collections_app", "access", "audit"},
    "demo": {"demo", "review", "collections_app", "access", "audit"},
    "config": {"config", "access", "audit", "collections_app", "review"},
}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in _source_files()}


def _imported_modules(source: str, module: str, *, is_package: bool, known: dict[str, object]) -> set[str]:
    """The project modules a file imports, resolved to files (a `from package import module` counts as module)."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name.split(".")[0] in PACKAGES:
                found.add(name)
    return found


def _graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module -> the project modules it imports, from each module's source and whether it is a package."""
    return {
        module: _imported_modules(source, module, is_package=is_package, known=sources) - {module}
        for module, (source, is_package) in sources.items()
    }


GRAPH = _graph({module: (path.read_text(), path.name == "__init__.py") for module, path in MODULES.items()})


def test_apps_import_only_the_apps_they_may() -> None:
    """audit leans on nothing of the domain; collections_app never on review; nothing but config on demo."""
    forbidden = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if target.split(".")[0] not in ALLOWED[module.split(".")[0]]
    ]
    assert forbidden == []


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, trail = stack.pop()
        for target in graph.get(module, ()):
            if target == start:
                return [*trail, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*trail, target]))
    return None


def test_no_import_cycle_between_files() -> None:
    """No file reaches itself through imports, even through imports inside functions."""
    cycles = {" -> ".join(cycle) for module in GRAPH if (cycle := _cycle_from(module, GRAPH))}
    assert sorted(cycles) == []


@pytest.mark.parametrize("path", list(_source_files()), ids=lambda path: str(path.relative_to(ROOT)))
def test_module_and_functions_stay_small(path: Path) -> None:
    """Past 600 lines a module becomes a package; past about 80 lines a function is split into steps."""
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_MODULE_LINES
    tree = ast.parse("\n".join(lines))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_the_checker_finds_a_cycle_hidden_in_a_function() -> None:
    """An import inside a function and a relative import still make a cycle the checker reports."""
    graph = _graph(
        {
            "collections_app.a": ("def f():\n    from collections_app.b import g\n", False),
            "collections_app.b": ("from . import a\n", False),
            "collections_app.c": ("import collections_app.a\n", False),
        }
    )
    assert graph["collections_app.b"] == {"collections_app.a"}
    assert _cycle_from("collections_app.a", graph) == ["collections_app.a", "collections_app.b", "collections_app.a"]
    assert _cycle_from("collections_app.c", graph) is None
