"""From located YAML documents to validated declarations: kind, schema, then pydantic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError

from reconciler.config import codes
from reconciler.config.schemacheck import did_you_mean, schema_problems, where
from reconciler.config.secrets import redact
from reconciler.config.yamlsafe import YamlDocument
from reconciler.errors import Problem
from reconciler.models import (
    KINDS,
    Access,
    Config,
    ConnectionBase,
    Declaration,
    Export,
    Notification,
    Segment,
    Source,
)

KIND_LIST = ", ".join(KINDS)
T = TypeVar("T", bound=Declaration)


@dataclass(frozen=True)
class Declared:
    """One document with a known kind; ``model`` is None when it failed validation."""

    kind: str
    name: str | None
    document: YamlDocument
    model: Declaration | None

    @property
    def origin(self) -> str:
        return f"{self.document.file}:{self.document.start.line}"

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name or 'access'}"


def declare(document: YamlDocument) -> tuple[Declared | None, list[Problem]]:
    """Check the kind, the schema and the model of one document."""
    kind, problem = _kind_of(document)
    if kind is None:
        return None, [problem] if problem else []
    data = document.data
    assert isinstance(data, dict)
    name = data.get("name") if isinstance(data.get("name"), str) else None
    problems = schema_problems(document, kind)
    if problems:
        return Declared(kind, name, document, None), problems
    try:
        model = KINDS[kind].validate_python(data)
    except ValidationError as exc:
        return Declared(kind, name, document, None), _pydantic_problems(document, exc)
    return Declared(kind, name, document, model), []


def _kind_of(document: YamlDocument) -> tuple[str | None, Problem | None]:
    data = document.data
    if not isinstance(data, dict):
        return None, _at(document, (), "a document must be a mapping with a `kind`")
    kind = data.get("kind")
    if kind is None:
        return None, _at(document, (), "the document has no `kind`", f"add `kind:` ({KIND_LIST})")
    if isinstance(kind, str) and kind in KINDS:
        return kind, None
    shown = redact(kind[:40]) if isinstance(kind, str) else "a non-text value"
    hint = did_you_mean(kind, KINDS) if isinstance(kind, str) else ""
    return None, _at(
        document, ("kind",), f"unknown kind `{shown}`", hint or f"kind is one of {KIND_LIST}"
    )


def _at(document: YamlDocument, path: tuple[str, ...], message: str, hint: str = "") -> Problem:
    mark = document.at(path)
    return Problem(document.file, mark.line, mark.column, codes.BAD_KIND, message, hint)


def _pydantic_problems(document: YamlDocument, exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        path = tuple(p for p in error["loc"] if isinstance(p, str | int))
        mark = document.at(path)
        message = redact(f"{where(path)}: {error['msg']}")
        problems.append(
            Problem(document.file, mark.line, mark.column, codes.INVALID_VALUE, message)
        )
    return problems


def unique_names(declared: list[Declared]) -> list[Problem]:
    """A name is declared once per kind; more than one Access document is refused."""
    problems = []
    first: dict[tuple[str, str], Declared] = {}
    first_access: Declared | None = None
    for item in declared:
        if item.kind == "Access":
            if first_access is not None:
                problems.append(
                    _duplicate(
                        item, codes.MULTIPLE_ACCESS, "a second Access document", first_access
                    )
                )
            first_access = first_access or item
        elif item.name is not None:
            key = (item.kind, item.name)
            if key in first:
                message = f"duplicate {item.kind} name `{item.name}`"
                problems.append(_duplicate(item, codes.DUPLICATE_NAME, message, first[key]))
            first.setdefault(key, item)
    return problems


def _duplicate(item: Declared, code: str, message: str, first: Declared) -> Problem:
    mark = item.document.at(("name",)) if item.name else item.document.start
    hint = (
        "rename or remove one of them"
        if code == codes.DUPLICATE_NAME
        else ("merge the admins and contributors into one Access document")
    )
    return Problem(
        item.document.file,
        mark.line,
        mark.column,
        code,
        f"{message}; the first one is at {first.origin}",
        hint,
    )


def assemble(declared: list[Declared]) -> Config:
    """The Config of every valid declaration (the first of duplicates wins)."""
    groups: dict[str, dict[str, Declaration]] = {kind: {} for kind in KINDS}
    origins: dict[str, str] = {}
    access: Access | None = None
    for item in declared:
        if item.model is None:
            continue
        if isinstance(item.model, Access):
            access = access or item.model
            origins.setdefault(item.label, item.origin)
        elif item.name is not None and item.name not in groups[item.kind]:
            groups[item.kind][item.name] = item.model
            origins[item.label] = item.origin
    return Config(
        connections=_typed(groups["Connection"], ConnectionBase),
        sources=_typed(groups["Source"], Source),
        segments=_typed(groups["Segment"], Segment),
        exports=_typed(groups["Export"], Export),
        access=access,
        notifications=_typed(groups["Notification"], Notification),
        origins=origins,
    )


def _typed(group: dict[str, Declaration], model: type[T]) -> dict[str, T]:
    return {name: item for name, item in group.items() if isinstance(item, model)}
