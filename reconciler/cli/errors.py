"""The one error handler of the ``reconciler`` command.

Every failure leaves the command as one clean message and an exit code, never a traceback:

- :class:`~reconciler.errors.ConfigError`: every located problem, then a summary (exit 1);
- any other :class:`~reconciler.errors.ReconcilerError`: ``error: ...`` and its hint (its own
  exit code: 1, or 128 + N for an interrupted apply);
- a signal (SIGINT, SIGTERM) outside an apply: ``interrupted by SIGINT`` (exit 128 + N);
- anything else (a bug): a masked one-line message and a hint to rerun with ``--debug``, which
  re-raises it with its traceback (exit 3).

With ``--format markdown`` or ``--format json`` the error is also written to stdout in that
format, so a pull-request comment or a tool reading stdout sees it.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

import click

from reconciler.config.secrets import hide_secrets
from reconciler.config.secrets import redact as redact_keys
from reconciler.emails import mask_emails_in
from reconciler.engine.stopping import Interrupted, signal_name
from reconciler.errors import ConfigError, Problem, ReconcilerError
from reconciler.jsonable import fields_json

UNEXPECTED_EXIT = 3
FORMAT_KEY = "reconciler.format"
DEBUG_KEY = "reconciler.debug"


@dataclass(frozen=True)
class Failure:
    """What is shown for one error, in every format."""

    kind: str
    message: str
    hint: str
    exit_code: int
    problems: tuple[Problem, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"error": fields_json(self)}


def clean(text: str) -> str:
    """``text`` with API keys and passwords masked (the library writes its messages without
    keys or member addresses; an actor's own identity may appear). The last line of defence."""
    return hide_secrets(text)


def clean_foreign(text: str) -> str:
    """An unexpected error's text, which nobody wrote for users: every ``x@y`` is masked."""
    return mask_emails_in(redact_keys(text))


def failure_of(exc: BaseException) -> Failure:
    """The message, hint and exit code shown for ``exc``."""
    if isinstance(exc, ConfigError):
        return Failure("ConfigError", clean(str(exc)), "", exc.exit_code, exc.problems)
    if isinstance(exc, ReconcilerError):
        return Failure(type(exc).__name__, clean(str(exc)), clean(exc.hint), exc.exit_code)
    if isinstance(exc, Interrupted):
        name = signal_name(exc.signum)
        return Failure("Interrupted", f"interrupted by {name}", "", 128 + exc.signum)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else "(no message)"
    return Failure(
        type(exc).__name__,
        f"unexpected {type(exc).__name__}: {clean_foreign(first)}",
        "this is a bug in reconciler: rerun with --debug to see the traceback, and report it",
        UNEXPECTED_EXIT,
    )


def render_markdown(failure: Failure) -> str:
    lines = [f"### reconciler: {failure.kind}", "", f"**error:** {failure.message}"]
    for problem in failure.problems:
        lines.append(
            f"- `{problem.file}:{problem.line}:{problem.column}` "
            f"{problem.severity}[{problem.code}]: {problem.message}"
        )
        if problem.hint:
            lines.append(f"  - hint: {problem.hint}")
    if failure.hint:
        lines += ["", f"hint: {failure.hint}"]
    return "\n".join(lines)


def report(failure: Failure, fmt: str | None) -> None:
    """Write ``failure`` to stderr (always) and to stdout in ``fmt`` (markdown, json)."""
    for problem in failure.problems:
        click.echo(problem.render(), err=True)
    prefix = "" if failure.problems or failure.kind == "Interrupted" else "error: "
    click.secho(f"{prefix}{failure.message}", fg="red", err=True)
    if failure.hint:
        click.echo(f"  hint: {failure.hint}", err=True)
    if fmt == "markdown":
        click.echo(render_markdown(failure))
    elif fmt == "json":
        click.echo(json.dumps(failure.as_dict(), indent=2))


@contextmanager
def handled(ctx: click.Context) -> Iterator[None]:
    """Turn every exception raised inside into a message and an exit code (see the module)."""
    try:
        yield
    except click.Abort as exc:  # a prompt got Ctrl-C (or end of input)
        if isinstance(exc.__context__, KeyboardInterrupt):
            fail(exc.__context__, ctx.meta.get(FORMAT_KEY))
        raise
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except (KeyboardInterrupt, Exception) as exc:
        if ctx.meta.get(DEBUG_KEY) and not isinstance(exc, KeyboardInterrupt | ReconcilerError):
            raise
        fail(exc, ctx.meta.get(FORMAT_KEY))


def fail(exc: BaseException, fmt: str | None = None) -> NoReturn:
    """Report ``exc`` (see :func:`failure_of`) and exit with its code."""
    if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, Interrupted):
        exc = Interrupted(signal.SIGINT)
    if isinstance(exc, KeyboardInterrupt) and threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):  # ending: say why, whole, and exit
            signal.signal(signum, signal.SIG_IGN)
    failure = failure_of(exc)
    report(failure, fmt)
    sys.exit(failure.exit_code)


def remember_format(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback of a ``--format`` option: the error handler renders in that format too."""
    ctx.meta[FORMAT_KEY] = value
    return value
