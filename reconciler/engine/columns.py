"""``validate --sources``: each enabled export's mapped columns exist among its segment's."""

from __future__ import annotations

from pathlib import Path

from reconciler.config.codes import MISSING_COLUMNS, SOURCE_UNREADABLE
from reconciler.errors import Problem, SourceDeclarationError, SourceError
from reconciler.models import Config, Export
from reconciler.sources import open_reader
from reconciler.sources.segment import export_fields


def column_problems(config: Config, config_dir: Path) -> list[Problem]:
    """One problem per enabled export whose segment cannot be opened or lacks a mapped column.

    Only the result's column names are needed: no row is read."""
    problems: list[Problem] = []
    for export in config.enabled_exports():
        problem = _check(config, export, config_dir)
        if problem is not None:
            problems.append(problem)
    return problems


def _check(config: Config, export: Export, config_dir: Path) -> Problem | None:
    segment = config.segments[export.segment]
    source = config.sources[segment.source]
    try:
        with open_reader(source, segment, config_dir) as reader:
            columns = reader.columns
    except SourceDeclarationError as exc:  # the files, dialect or encoding of the Source
        return _located(config, export, SOURCE_UNREADABLE, str(exc), exc.hint, source.name)
    except SourceError as exc:
        return _located(config, export, SOURCE_UNREADABLE, str(exc), exc.hint)
    try:
        export_fields(export, segment.name, source.name, columns)
    except SourceError as exc:
        return _located(config, export, MISSING_COLUMNS, str(exc), exc.hint)
    return None


def _located(
    config: Config, export: Export, code: str, message: str, hint: str, source: str = ""
) -> Problem:
    label = f"Source/{source}" if source else f"Export/{export.name}"
    origin = config.origins.get(label, ":1")
    path, _, line = origin.rpartition(":")
    return Problem(
        file=path or "?",
        line=int(line) if line.isdigit() else 1,
        column=1,
        code=code,
        message=message,
        hint=hint or "fix the export's fields: or the segment's query",
    )
