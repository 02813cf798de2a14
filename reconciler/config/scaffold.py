"""``reconciler init``: the files of a new config repository, written only where none exist."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reconciler.config.schema import all_schemas, render
from reconciler.errors import HintedError

# target path in the new repository -> template under reconciler/templates/
TEMPLATES: dict[str, str] = {
    "exports/connection.yaml": "init/connection.yaml",
    "exports/source.yaml": "init/source.yaml",
    "exports/segment.yaml": "init/segment.yaml",
    "exports/export.yaml": "init/export.yaml",
    "exports/notification.yaml": "init/notification.yaml",
    "exports/data/customers.csv": "init/customers.csv",
    ".github/workflows/reconcile.yml": "github-workflow.yml",
    ".gitignore": "init/gitignore",
    "README.md": "init/README.md",
}


class ScaffoldError(HintedError):
    """``init`` would overwrite files, or cannot write them."""


@dataclass(frozen=True)
class Scaffold:
    root: Path
    files: tuple[str, ...]


def scaffold_files() -> dict[str, str]:
    """Relative path -> content of every file ``init`` writes."""
    templates = resources.files("reconciler") / "templates"
    files = {target: (templates / name).read_text("utf-8") for target, name in TEMPLATES.items()}
    files.update({f"schemas/{name}": render(schema) for name, schema in all_schemas().items()})
    return files


def scaffold(root: Path) -> Scaffold:
    """Write the files of a config repository under ``root``; refuse if any already exists."""
    files = scaffold_files()
    existing = sorted(path for path in files if (root / path).exists())
    if existing:
        shown = ", ".join(existing[:5]) + (
            f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        )
        raise ScaffoldError(
            f"{root} already has {shown}; init never overwrites files",
            "run init in an empty directory, or move those files away first",
        )
    for path, content in files.items():
        _write_new(root / path, content)
    return Scaffold(root=root, files=tuple(files))


def _write_new(path: Path, content: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise ScaffoldError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
