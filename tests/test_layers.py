"""The engine reaches Klaviyo through one registration; the plan and the core not at all."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _klaviyo_imports(*parts: str) -> list[str]:
    files = [p for part in parts for p in sorted((PACKAGE / part).glob("**/*.py"))]
    files += [PACKAGE / part for part in parts if part.endswith(".py")]
    return [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in files
        if path.is_file()
        for line, module in _imports(path)
        if module == "reconciler.klaviyo" or module.startswith("reconciler.klaviyo.")
    ]


def test_the_engine_imports_klaviyo_only_in_its_destination_registry() -> None:
    (only,) = _klaviyo_imports("engine")
    assert only.startswith("engine/destination.py:")


def test_the_plan_and_the_core_do_not_import_klaviyo() -> None:
    core = ("plan", "models.py", "values.py", "outcomes.py", "errors.py", "state", "sources")
    assert _klaviyo_imports(*core) == []


def test_the_adapters_and_the_state_import_nothing_above_them() -> None:
    """klaviyo/, sources/ and state/ sit below the plan and the engine (ARCHITECTURE.md)."""
    above = ("reconciler.plan", "reconciler.engine", "reconciler.cli", "reconciler.api")
    found = [
        f"{path.relative_to(PACKAGE)}:{line} {module}"
        for part in ("klaviyo", "sources", "state")
        for path in sorted((PACKAGE / part).glob("**/*.py"))
        for line, module in _imports(path)
        if module.startswith(above)
    ]
    assert found == []
