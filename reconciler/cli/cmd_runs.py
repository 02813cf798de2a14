"""``reconciler runs`` (the journal of applies) and ``reconciler force-unlock LIST``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from reconciler.cli.options import config_dir_option, state_option
from reconciler.cli.runner import command_state
from reconciler.errors import StateError
from reconciler.state import ExportRecord, RunRecord, StateBackend
from reconciler.state.opening import StateNotFound


@click.command()
@click.option("--export", "export", metavar="NAME", help="Only runs that applied this export.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show at most this many runs, newest first.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people, or a JSON list of runs with their export records.",
)
@config_dir_option
@state_option
def runs(export: str | None, limit: int, fmt: str, config_dir: Path, state_url: str | None) -> None:
    """List past applies from the journal.

    Who ran each apply, when, at which commit, and per export the added, removed and failed
    counts, bulk job ids, guards forced and the outcome (newest first).

    \b
    Examples:
      reconciler runs
      reconciler runs --export vip-to-klaviyo --limit 5
      reconciler runs --format json --state postgresql://ci@db/reconciler
    """
    try:
        with command_state(state_url, config_dir, create=False) as state:
            found = state.journal.list_runs(export=export, limit=limit)
            where = state.description
    except StateNotFound as exc:
        found, where = [], f"{exc.path} (no state file yet)"
    if fmt == "json":
        click.echo(json.dumps([run.as_dict() for run in found], indent=2))
    elif not found:
        scope = f" for export '{export}'" if export else ""
        click.echo(f"No runs recorded{scope} in {where}.")
    else:
        console = Console(highlight=False)
        if not console.is_terminal:
            console.width = 160
        console.print(_table(found))


def _table(found: list[RunRecord]) -> Table:
    table = Table(title="Runs (newest first, times in UTC)", title_justify="left")
    for column in ("Started", "Run", "Actor", "Commit", "Command", "Outcome", "Exports"):
        table.add_column(column, overflow="fold", no_wrap=column in ("Started", "Run"))
    for run in found:
        table.add_row(
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.run_id[:8],
            run.actor,
            (run.commit or "-")[:10],
            run.command + (" (forced)" if run.forced else ""),
            run.outcome,
            "\n".join(_export_line(e) for e in run.exports) or "-",
        )
    return table


def _export_line(record: ExportRecord) -> str:
    line = (
        f"{record.export} -> {record.list_id}: +{record.added} -{record.removed} "
        f"!{record.failed} {record.outcome}"
    )
    if record.guards_forced:
        line += f" [forced: {', '.join(record.guards_forced)}]"
    if record.job_ids:
        line += f" jobs: {', '.join(record.job_ids)}"
    if record.error:
        line += f"\n  {record.error}"
    return line


@click.command("force-unlock")
@click.argument("list_key", metavar="LIST")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@config_dir_option
@state_option
def force_unlock(list_key: str, yes: bool, config_dir: Path, state_url: str | None) -> None:
    """Remove a stale lock on a list.

    LIST is "<account>/<list_id>" as printed in the lock error; a bare list id works when
    only one account holds a lock on it.

    Only do this when the apply holding it is dead or hung: with PostgreSQL its database
    session is ended; with SQLite its lock file is removed.

    \b
    Examples:
      reconciler force-unlock acme/Y6nRLr
      reconciler force-unlock Y6nRLr --yes --state postgresql://ci@db/reconciler
    """
    with command_state(state_url, config_dir, create=False) as state:
        key = _resolve_key(state, list_key)
        holder = state.locks.lock_holder(key)
        if holder is None:
            click.echo(f"No live lock on {key}; removing any leftover holder record.")
        elif not yes and not click.confirm(f"Remove the lock on {key} held by {holder}?"):
            click.echo("Left the lock in place.")
            raise SystemExit(1)
        removed = state.locks.force_unlock(key)
    click.echo(f"Unlocked {key}." if removed else f"Nothing to unlock for {key}.")


def _resolve_key(state: StateBackend, given: str) -> str:
    if "/" in given:
        return given
    matches = sorted(key for key in state.locks.held_locks() if key.rsplit("/", 1)[-1] == given)
    if len(matches) > 1:
        error = StateError(f"list id {given} is locked in several accounts: {', '.join(matches)}")
        error.hint = "name the lock in full as <account>/<list_id>"
        raise error
    if not matches:
        error = StateError(f"no lock is held on a list with id {given}")
        error.hint = "give the full key <account>/<list_id> printed by the lock error"
        raise error
    return matches[0]
