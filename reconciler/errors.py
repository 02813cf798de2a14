"""Typed errors of the reconciler.

Every error the library raises derives from :class:`ReconcilerError`; the CLI turns the tree
into one clean message and an exit code (``reconciler.cli.errors``). No error message ever
contains an API key or a full email address.

    ReconcilerError
    ├── ConfigError                one or more located problems in the declarations
    ├── SourceError                a segment could not be read from its source
    │   ├── SourceDeclarationError   ... because of its Source (files, dialect, encoding)
    │   └── UnknownSegmentError      (sources.segment) no such segment
    ├── DestinationError           a destination failed or refused a request
    │   ├── DestinationNotFound      no such list (or job, or account)
    │   ├── ConnectionUnusable       a key variable unset, or no adapter for the type
    │   └── KlaviyoError             (tree in ``reconciler.klaviyo.errors``; its
    │                                NotFoundError is also a DestinationNotFound)
    ├── StateError                 the state backend failed
    │   ├── LockTimeout              a list lock is held by someone else
    │   └── StateNotFound (state.opening)  a read-only command named no existing state file
    ├── PlanError                  a plan cannot be built, read or executed
    │   ├── PlanFileError            a plan file is malformed or tampered with
    │   └── StalePlanError           the world changed since the plan was made
    ├── AccessError                the author may not make this change
    ├── HintedError                raised with a message and a hint: AdoptionError, ScaffoldError
    └── one per command concern, beside the code that raises it:
        UnknownExport (engine.selection), ApplyInterrupted (engine.stopping),
        AdoptionError (engine.adopting), BaseRefError (engine.gitbase),
        BehindError (engine.ordering), GitError > NotAGitRepository (audit.git),
        UnknownAuditExport (audit.report), ScheduleError (audit.schedule),
        ScaffoldError (config.scaffold), ConfirmationNeeded (cli.cmd_apply),
        DemoError (cli.cmd_demo), SandboxError (sandbox.config), SpillError (spill: a
        large column could not be kept in a temporary file)

The engine catches only the neutral types above; a destination adapter raises its own
subclasses of them (``reconciler.klaviyo.errors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from reconciler.jsonable import fields_json

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One located finding about the declarations: ``path:line:col: error[CODE]: message``."""

    file: str
    line: int
    column: int
    code: str
    message: str
    hint: str = ""
    severity: Severity = "error"

    def render(self) -> str:
        text = (
            f"{self.file}:{self.line}:{self.column}: {self.severity}[{self.code}]: {self.message}"
        )
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        return fields_json(self, ("file", "line", "column", "code", "severity", "message", "hint"))


class ReconcilerError(Exception):
    """Root of every error the reconciler raises on purpose."""

    exit_code = 1
    hint: str = ""


class HintedError(ReconcilerError):
    """An error raised with its message and, optionally, a hint on what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(ReconcilerError):
    """The declarations have problems; ``problems`` holds every one found, errors first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.severity != "error", p)))
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(f"{len(errors)} configuration error(s)")


class SourceError(ReconcilerError):
    """A segment could not be read; names the segment and the source."""

    def __init__(self, segment: str, source: str, message: str, hint: str = "") -> None:
        self.segment = segment
        self.source = source
        self.hint = hint
        super().__init__(f"segment '{segment}' (source '{source}'): {message}")


class SourceDeclarationError(SourceError):
    """A segment could not be read because of its Source: its files, their dialect or encoding
    (reported at the Source's declaration rather than at an export)."""


class DestinationError(ReconcilerError):
    """A destination (its adapter, e.g. the Klaviyo client) failed or refused a request."""


class DestinationNotFound(DestinationError):
    """The destination has no such list (or job, or account) for these credentials."""


class ConnectionUnusable(DestinationError):
    """A connection cannot be used: a missing key variable, or a setting the adapter refuses."""


class StateError(ReconcilerError):
    """The state backend (SQLite or PostgreSQL) failed."""


class LockTimeout(StateError):
    """A list is locked by another apply."""

    def __init__(self, resource: str, holder: str, waited: float) -> None:
        self.resource = resource
        self.holder = holder
        super().__init__(
            f"list {resource} is locked by {holder}; gave up after {waited:.0f}s "
            f"(use 'reconciler force-unlock {resource}' if that run is dead)"
        )


class PlanError(ReconcilerError):
    """A plan cannot be built, read or executed."""


class PlanFileError(PlanError):
    """A plan file is unreadable, malformed or its checksum does not match."""


class StalePlanError(PlanError):
    """The config, a segment or a list changed since the plan was made."""

    hint = "run 'reconciler plan --out FILE' again and review the new plan"


class AccessError(ReconcilerError):
    """The author of a change may not make it (Access rules)."""


@dataclass
class ErrorList:
    """Collects problems while validating; raises them all at once (octoDNS style)."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise ConfigError(self.problems)
