"""``--log-format json``: everything written to stderr becomes one JSON object per event.

Human output stays the default. In JSON mode, stderr carries only JSON lines (masked, no ANSI
colours): each message a command prints (warnings, notes, progress lines, errors with their
hints as ``details``), each record of the ``reconciler`` loggers, and, after ``apply``, one
``export.outcome`` event per export and a ``run.finished`` event. Results on stdout (a plan, a
report path) keep their own ``--format``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import IO, TYPE_CHECKING, Any, TextIO, cast

if TYPE_CHECKING:
    from reconciler.engine.applying import ApplyReport
    from reconciler.plan.model import Plan

from reconciler.emails import mask_emails_in

FORMATS = ("human", "json")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LEVELS = (("error:", "error"), ("warning:", "warning"), ("note:", "info"))
_PROBLEM = re.compile(r": (error|warning)\[[A-Z]\d+\]: ")  # validate's file:line:col: error[R021]
_ERROR_WORDS = re.compile(r"^(interrupted|aborted|apply interrupted)|\d+ configuration error")


def _level_of(message: str) -> str:
    lowered = message.lower()
    for prefix, level in _LEVELS:
        if lowered.startswith(prefix):
            return level
    problem = _PROBLEM.search(message)
    if problem:
        return problem.group(1)
    return "error" if _ERROR_WORDS.search(lowered) else "info"


class JsonEvents:
    """Writes events as JSON lines to ``stream``; every string is masked."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def emit(self, event: str, level: str = "info", **fields: Any) -> None:
        body = {
            "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
            **fields,
        }
        line = mask_emails_in(json.dumps(body, ensure_ascii=False, default=str))
        self.stream.write(line + "\n")
        self.stream.flush()


class JsonStderr:
    """A text stream standing in for stderr: each printed line becomes a ``message`` event;
    indented lines that follow (a hint, a failed profile) join it as ``details``."""

    def __init__(self, events: JsonEvents) -> None:
        self._events = events
        self._partial = ""
        self._pending: dict[str, Any] | None = None

    def write(self, text: str) -> int:
        self._partial += _ANSI.sub("", text)
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        if line[:1].isspace() and self._pending is not None:
            self._pending.setdefault("details", []).append(line.strip())
            return
        self._send()
        message = line.strip()
        self._pending = {"message": message, "level": _level_of(message)}

    def _send(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            level = pending.pop("level")
            self._events.emit("message", level, **pending)

    def flush(self) -> None:
        if self._partial:
            self._line(self._partial)
            self._partial = ""
        self._send()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return "utf-8"


class JsonLogHandler(logging.Handler):
    """Records of the ``reconciler`` loggers as ``log`` events."""

    def __init__(self, events: JsonEvents) -> None:
        super().__init__(logging.INFO)
        self._events = events

    def emit(self, record: logging.LogRecord) -> None:
        self._events.emit(
            "log", record.levelname.lower(), logger=record.name, message=record.getMessage()
        )


_active: JsonEvents | None = None


def use_json_logs() -> tuple[TextIO, logging.Handler]:
    """Switch stderr and the ``reconciler`` loggers to JSON; returns what to restore."""
    global _active
    original = sys.stderr
    _active = JsonEvents(original)
    handler = JsonLogHandler(_active)
    logging.getLogger("reconciler").addHandler(handler)
    logging.getLogger("reconciler").setLevel(logging.INFO)
    sys.stderr = cast(TextIO, JsonStderr(_active))
    return original, handler


def restore(original: TextIO, handler: logging.Handler) -> None:
    global _active
    current = sys.stderr
    if isinstance(current, JsonStderr):
        current.flush()
    sys.stderr = original
    logging.getLogger("reconciler").removeHandler(handler)
    _active = None


def emit(event: str, level: str = "info", **fields: Any) -> None:
    """A structured event in JSON mode; nothing in human mode (the command prints lines)."""
    if _active is not None:
        _active.emit(event, level, **fields)


FAILED = frozenset({"failed", "partial", "blocked", "interrupted"})


def emit_plan(plan: Plan) -> None:
    """One ``export.planned`` event per export (counts and reasons, never addresses)."""
    for e in plan.exports:
        emit(
            "export.planned",
            "warning" if e.blocked else "info",
            export=e.name,
            list_id=e.list_id,
            add=len(e.add),
            remove=len(e.remove),
            unchanged=e.unchanged,
            blocked=e.blocked,
            reasons=e.reasons,
            notes=list(e.notes),
        )


def emit_apply(report: ApplyReport) -> None:
    """One ``export.outcome`` event per export, then ``run.finished``."""
    for o in sorted(report.outcomes, key=lambda o: o.name):
        emit(
            "export.outcome",
            "error" if o.outcome in FAILED else "info",
            run_id=report.run_id,
            export=o.name,
            list_id=o.list_id,
            outcome=o.outcome,
            added=o.added,
            removed=o.removed,
            failed=o.failed,
            seconds=round(o.seconds, 3),
            error=o.error,
        )
    emit(
        "run.finished",
        "error" if report.failed else "info",
        run_id=report.run_id,
        failed=report.failed,
        cancelled=report.cancelled,
        exports=len(report.outcomes),
    )
