"""The firewall package stays pure and layered: no Django, and no import cycle between its modules."""

from __future__ import annotations

import ast
import graphlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "collections_app" / "messaging" / "firewall"
PREFIX = "collections_app.messaging.firewall."


def test_firewall_runs_without_django() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    script = (
        "import sys\n"
        "from collections_app.messaging.firewall.lint import lint_message\n"
        "assert [f.category for f in lint_message('逾期45天')] == ['debt_disclosure', 'overdue_detail']\n"
        "assert not any(name == 'django' or name.startswith('django.') for name in sys.modules), 'django imported'\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_firewall_modules_import_each_other_without_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        imported: set[str] = set()
        # Every import counts, including one inside a function.
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
                imported.add(node.module.removeprefix(PREFIX))
            if isinstance(node, ast.Import):
                imported.update(a.name.removeprefix(PREFIX) for a in node.names if a.name.startswith(PREFIX))
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path.name}: relative import"
        graph[path.stem] = imported
    assert all(not deps for name, deps in graph.items() if name == "__init__")
    # Raises CycleError naming the cycle.
    order = list(graphlib.TopologicalSorter(graph).static_order())
    assert set(order) >= set(graph)
