"""``reconciler runs`` (the journal of applies) and ``reconciler force-unlock LIST``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from reconciler.cli.options import config_dir_option, format_option, state_option
from reconciler.cli.runner import command_state
from reconciler.engine.liveness import gone
from reconciler.errors import StateError
from reconciler.outcomes import Outcome
from reconciler.state import ExportRecord, RunRecord, StateBackend
from reconciler.state.opening import StateNotFound


@click.group(invoke_without_command=True)
@click.option("--export", "export", metavar="NAME", help="Only runs that applied this export.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show at most this many runs, newest first.",
)
@format_option(
    ["table", "json"], "A table for people, or a JSON list of runs with their export records."
)
@click.option(
    "--wide", is_flag=True, help="Every detail in the table (commit, command, jobs, errors)."
)
@config_dir_option
@state_option
@click.pass_context
def runs(
    ctx: click.Context,
    export: str | None,
    limit: int,
    fmt: str,
    wide: bool,
    config_dir: Path,
    state_url: str | None,
) -> None:
    """List past applies from the journal.

    One line per run, newest first, that fits 80 columns: when it started, its id, outcome,
    the profiles added (+), removed (-) and failed (!), and who ran it. 'runs show RUN' tells
    everything about one run (commit, command, each export, job ids, forced guards, errors);
    --wide shows all of it in one table.

    \b
    Examples:
      reconciler runs
      reconciler runs --export vip-to-klaviyo --limit 5
      reconciler runs show 3f2a9c1e
      reconciler runs --format json --state postgresql://ci@db/reconciler
    """
    ctx.obj = (config_dir, state_url)
    if ctx.invoked_subcommand is not None:
        return
    try:
        with command_state(state_url, config_dir, create=False) as state:
            found = state.journal.list_runs(export=export, limit=limit)
            where = state.description
            dead = _gone(state, found)
    except StateNotFound as exc:
        found, where, dead = [], f"{exc.path} (no state file yet)", frozenset()
    if fmt == "json":
        click.echo(json.dumps([run.as_dict() for run in found], indent=2))
    elif not found:
        scope = f" for export '{export}'" if export else ""
        click.echo(f"No runs recorded{scope} in {where}.")
    elif wide:
        console = Console(highlight=False)
        if not console.is_terminal:
            console.width = 160
        console.print(_table(found, dead))
    else:
        width = max(shutil.get_terminal_size((COMPACT_WIDTH, 24)).columns, COMPACT_WIDTH)
        for line in compact_lines(found, width, dead):
            click.echo(line)


GONE = "no process"  # a run journalled in flight whose process was killed (engine.liveness)
GONE_NOTE = (
    f"{GONE}: journalled as running, but its process ended without finishing it (killed); "
    "the next apply journals it interrupted."
)


def _gone(state: StateBackend, found: list[RunRecord]) -> frozenset[str]:
    """The runs journalled in flight whose process is gone."""
    return frozenset(
        r.run_id for r in found if r.outcome == Outcome.RUNNING and gone(state, r.run_id)
    )


def _outcome(run: RunRecord, dead: frozenset[str]) -> str:
    return GONE if run.run_id in dead else str(run.outcome)


@runs.command("show")
@click.argument("run_id", metavar="RUN")
@click.pass_obj
def show(obj: tuple[Path, str | None], run_id: str) -> None:
    """Everything the journal holds about one run.

    RUN is the run id printed by apply, or its first characters (as 'runs' shows them).

    \b
    Examples:
      reconciler runs show 3f2a9c1e
      reconciler runs --state postgresql://ci@db/reconciler show 3f2a9c1e
    """
    config_dir, state_url = obj
    with command_state(state_url, config_dir, create=False) as state:
        found = [r for r in state.journal.list_runs(limit=SHOW_SCAN) if r.run_id.startswith(run_id)]
        submitters = state.jobs.submitters(
            [j for r in found[:1] for e in r.exports for j in e.job_ids]
        )
        dead = _gone(state, found[:1])
    if len(found) != 1:
        what = "no run" if not found else f"{len(found)} runs"
        error = StateError(f"{what} in the last {SHOW_SCAN} runs has an id starting with {run_id}")
        error.hint = "copy the id from 'reconciler runs' (8 characters are enough)"
        raise error
    click.echo("\n".join(detail_lines(found[0], submitters, dead)))


COMPACT_WIDTH = 80
SHOW_SCAN = 500


def compact_lines(
    found: list[RunRecord], width: int = COMPACT_WIDTH, dead: frozenset[str] = frozenset()
) -> list[str]:
    """One line per run, at most ``width`` characters: the actor is shortened to fit."""
    head = f"{'STARTED (UTC)':<16}  {'RUN':<8}  {'OUTCOME':<12}  {'CHANGES':<15}  ACTOR"
    lines = [head]
    for run in found:
        added = sum(e.added for e in run.exports)
        removed = sum(e.removed for e in run.exports)
        failed = sum(e.failed for e in run.exports)
        changes = f"+{added:,} -{removed:,}" + (f" !{failed:,}" if failed else "")
        outcome = _outcome(run, dead) + ("*" if run.forced else "")
        line = (
            f"{run.started_at:%Y-%m-%d %H:%M}  {run.run_id[:8]:<8}  {outcome:<12}  {changes:<15}  "
        )
        lines.append(line + _shorten(run.actor, width - len(line)))
    if any(run.forced for run in found):
        lines.append("* forced: safety guards overridden with --force")
    if dead:
        lines.append(GONE_NOTE)
    lines.append("Details: reconciler runs show RUN (or runs --wide).")
    return lines


def _shorten(text: str, room: int) -> str:
    room = max(room, 4)
    return text if len(text) <= room else text[: room - 1] + "…"


def detail_lines(
    run: RunRecord,
    submitters: Mapping[str, str] | None = None,
    dead: frozenset[str] = frozenset(),
) -> list[str]:
    """Every field of ``run``; ``submitters`` (job id -> run id) names the jobs an earlier run
    left pending whose imports this run credited (seen finished)."""
    finished = f"{run.finished_at:%Y-%m-%d %H:%M:%S}" if run.finished_at else "not finished"
    lines = [
        f"run       {run.run_id}",
        f"outcome   {_outcome(run, dead)}" + (" (forced)" if run.forced else ""),
        f"command   {run.command}",
        f"actor     {run.actor}",
        f"commit    {run.commit or '-'}",
        f"started   {run.started_at:%Y-%m-%d %H:%M:%S} UTC; finished {finished}",
    ]
    if run.run_id in dead:
        lines.append(f"          {GONE_NOTE}")
    if run.plan_checksum:
        lines.append(f"plan      {run.plan_checksum}")
    lines.append("exports" if run.exports else "exports   none recorded")
    for record in run.exports:
        lines.append(
            f"  {record.export} -> {record.list_id} ({record.connection}): {record.outcome}; "
            f"added {record.added:,}, removed {record.removed:,}, failed {record.failed:,}"
        )
        if record.guards_forced:
            lines.append(f"    forced guards: {', '.join(record.guards_forced)}")
        if record.job_ids:
            lines.append(f"    import jobs: {', '.join(record.job_ids)}")
        lines.extend(_credited_lines(run.run_id, record, submitters or {}))
        if record.error:
            lines.append(f"    error: {record.error}")
    return lines


def _credited_lines(run_id: str, record: ExportRecord, submitters: Mapping[str, str]) -> list[str]:
    earlier: dict[str, list[str]] = {}
    for job in record.job_ids:
        submitter = submitters.get(job, run_id)
        if submitter != run_id:
            earlier.setdefault(submitter, []).append(job)
    return [
        f"    credited: {len(jobs)} import job(s) left pending by run {other[:8]} "
        f"seen finished by this run: {', '.join(jobs)}"
        for other, jobs in earlier.items()
    ]


def _table(found: list[RunRecord], dead: frozenset[str] = frozenset()) -> Table:
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
            _outcome(run, dead),
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
