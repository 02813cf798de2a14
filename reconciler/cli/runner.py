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


def run_options_from(config_dir: Path, state_url: str | None, **values: Any) -> RunOptions:
    """RunOptions from the shared options of ``plan`` and ``apply``."""
    return RunOptions(
        config_dir=config_dir,
        exports=tuple(values.get("exports") or ()),
        force=bool(values.get("force")),
        refresh=bool(values.get("refresh")),
        base_url=values.get("base_url"),
        time_scale=float(values.get("time_scale") or 1.0),
        state_url=state_url,
        state_root=state_root_for(config_dir),
        actor=values.get("actor"),
        lock_timeout=float(values.get("lock_timeout") or 60.0),
        base_ref=values.get("base_ref"),
        due_only=bool(values.get("due")),
    )


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
