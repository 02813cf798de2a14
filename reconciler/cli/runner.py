"""Builds engine options from command-line values and opens the state backend.

The default state (``.reconciler/state.db``) lives at the root of the git repository that holds
``--config-dir`` (else in the config directory itself), never in the current directory: a
command run from a subdirectory, or with ``--config-dir ..``, uses the same journal and cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from reconciler.api import state_root_for
from reconciler.engine.options import RunOptions
from reconciler.state import SqlStateBackend, open_state
from reconciler.state.opening import created_by_opening, remove_created, sqlite_path


def given_state(state_url: str | None) -> str | None:
    """``--state`` (or $RECONCILER_STATE, which click passes the same way) with a relative
    SQLite path made absolute: a path typed on the command line is taken from the current
    directory, like every other path; only the default state is anchored at the config."""
    if not state_url:
        return None
    path = sqlite_path(state_url, Path.cwd())
    return str(path) if path is not None else state_url


def run_options_from(config_dir: Path, state_url: str | None, **values: Any) -> RunOptions:
    """RunOptions from the shared options of ``plan`` and ``apply`` (an option not given keeps
    RunOptions' own default)."""
    state_url = given_state(state_url)
    return RunOptions(
        config_dir=config_dir,
        exports=tuple(values.get("exports") or ()),
        force=bool(values.get("force")),
        refresh=bool(values.get("refresh")),
        readd_departed=bool(values.get("readd_departed")),
        base_url=values.get("base_url"),
        state_url=state_url,
        state_root=state_root_for(config_dir),
        actor=values.get("actor"),
        base_ref=values.get("base_ref"),
        due_only=bool(values.get("due")),
        time_scale=_number(values, "time_scale", RunOptions.time_scale),
        lock_timeout=_number(values, "lock_timeout", RunOptions.lock_timeout),
        job_timeout=_number(values, "job_timeout", RunOptions.job_timeout),
        max_wait=_number(values, "max_wait", RunOptions.max_wait),
    )


def _number(values: dict[str, Any], name: str, default: float) -> float:
    """The option ``name`` as a float (not given, or 0: ``default``, RunOptions' own)."""
    return float(values.get(name) or default)


@contextmanager
def command_state(
    state_url: str | None,
    config_dir: Path,
    *,
    create: bool = True,
    keep_on_failure: bool = True,
    announce: bool = False,
) -> Iterator[SqlStateBackend]:
    """The state backend of one command.

    ``create=False`` (read-only commands): a missing SQLite file raises StateNotFound and
    nothing is created. ``keep_on_failure=False``: a state created by this command is removed
    again if the command fails. ``announce``: say on stderr which state is used."""
    state_url = given_state(state_url)
    root = state_root_for(config_dir)
    path = sqlite_path(state_url, root)
    fresh = created_by_opening(path) if path is not None and not path.exists() else []
    try:
        with open_state(state_url, root=root, create=create) as state:
            if announce:
                click.echo(f"state: {_shown(state.description)}", err=True)
            yield state
    except BaseException:
        if not keep_on_failure:
            remove_created(fresh)
        raise


def _shown(description: str) -> str:
    path = Path(description)
    return str(path.absolute()) if "://" not in description else description
