"""``reconciler apply``: execute a saved plan, or plan and apply in one go."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from reconciler import api
from reconciler.cli import logformat
from reconciler.cli.cmd_plan import render
from reconciler.cli.notifying import echo_delivery
from reconciler.cli.options import apply_options, config_dir_option, state_option
from reconciler.cli.progress import BarProgress, LineProgress, make_progress
from reconciler.cli.runner import command_state, run_options_from
from reconciler.engine.applying import ApplyReport
from reconciler.engine.stopping import Interrupted, StopSignal
from reconciler.errors import ReconcilerError
from reconciler.plan.model import Plan
from reconciler.plan.planfile import read_plan


class ConfirmationNeeded(ReconcilerError):
    """apply without --yes outside a terminal."""

    hint = "pass --yes to apply without a prompt (CI), or run it in a terminal"


def _confirm_with(yes: bool, stop: StopSignal, progress: BarProgress | LineProgress) -> Any:
    def confirm(plan: Plan) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise ConfirmationNeeded("apply needs confirmation and no terminal is attached")
        progress.suspend()  # the bars of the reads would redraw over the prompt
        with stop.blocking():  # Ctrl-C at the prompt interrupts it at once
            click.echo(render(plan, "text"))
            try:
                return click.confirm("Apply these changes?", default=False)
            except click.Abort:
                if stop.signum is not None:
                    raise Interrupted(stop.signum) from None
                return False  # end of input (Ctrl-D): nothing is applied

    return confirm


def summary_lines(report: ApplyReport) -> list[str]:
    lines = []
    for o in sorted(report.outcomes, key=lambda o: o.name):
        line = (
            f"{o.name} -> {o.list_id}: {o.outcome}; added {o.added:,}, removed {o.removed:,}, "
            f"failed {o.failed:,} in {o.seconds:.1f}s"
        )
        if o.updated or o.subscribed:
            line += f"; updated {o.updated:,}, subscribed {o.subscribed:,}"
        lines.append(line)
        lines.extend(f"    failed: {f}" for f in o.failures)
        if o.error:
            lines.append(f"    error: {o.error}")
    return lines


def not_due_lines(report: ApplyReport) -> list[str]:
    """apply --due: one line per export it skipped, with when it is next due."""
    lines = []
    for name, next_due in sorted(report.not_due.items()):
        when = f"{next_due:%Y-%m-%d %H:%M} UTC" if next_due else "unknown"
        lines.append(f"{name}: skipped, not due (next due {when})")
    return lines


@click.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False, path_type=Path))
@config_dir_option
@apply_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (CI).")
@click.option("--due", is_flag=True, help="Only exports whose schedule is due (for a CI cron).")
@click.option(
    "--lock-timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for a list locked by another apply.",
)
@state_option
def apply(
    planfile: Path | None, config_dir: Path, state_url: str | None, yes: bool, **values: Any
) -> None:
    """Apply a saved plan, or plan and apply in one go.

    Locks each list (waiting up to --lock-timeout, and saying so), plans again, refuses a
    saved plan that is no longer current, asks for confirmation (unless --yes), then sends
    only the difference and journals the run. Ctrl-C stops between batches (exit 130), a
    second Ctrl-C at once; the next apply finishes what is left. With --due only the exports
    whose schedule is due run, and the others are listed with when they are next due.

    \b
    Examples:
      reconciler apply
      reconciler apply plan.json --yes
      reconciler apply --due --yes --state postgresql://ci@db/reconciler
    """
    options = run_options_from(config_dir, state_url, **values)
    if not yes and not sys.stdin.isatty():
        raise ConfirmationNeeded("apply needs confirmation and no terminal is attached")
    saved = read_plan(planfile) if planfile else None
    with (
        command_state(state_url, config_dir, announce=True) as state,
        make_progress() as progress,
    ):
        stop = StopSignal()
        report = api.apply_run(
            options,
            saved=saved,
            confirm=_confirm_with(yes, stop, progress),
            progress=progress,
            on_delivery=echo_delivery,
            state=state,
            stop=stop,
        )
    if report.cancelled:
        click.echo("Cancelled: nothing was applied.")
        sys.exit(1)
    if (
        report.plan is not None
        and options.force
        and any(e.forced_guards for e in report.plan.exports)
    ):
        click.secho(
            "WARNING: safety guards were overridden with --force (recorded in the journal).",
            fg="yellow",
            bold=True,
            err=True,
        )
    if not report.outcomes:
        click.echo(
            "Nothing to apply: no export is due."
            if report.not_due
            else "Nothing to apply: no export selected."
        )
    for line in summary_lines(report):
        click.echo(line)
    for line in not_due_lines(report):
        click.echo(line)
    for run_id in report.abandoned:
        click.echo(
            f"Run {run_id[:8]} had no process left (killed before it could finish): "
            "journalled as interrupted."
        )
    logformat.emit_apply(report)
    click.echo(f"Run {report.run_id} recorded.")
    sys.exit(1 if report.failed else 0)
