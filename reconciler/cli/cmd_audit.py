"""``reconciler audit``: who created, enabled, consented to and changed each declaration."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from reconciler.audit import audit as build_audit
from reconciler.audit import render_report
from reconciler.audit.render import FORMATS
from reconciler.cli.options import config_dir_option, format_option, state_option
from reconciler.cli.runner import command_state
from reconciler.state.opening import StateNotFound
from reconciler.state.protocol import RunJournal


@click.command()
@config_dir_option
@click.option(
    "--export",
    "export_name",
    default=None,
    metavar="NAME",
    help="Audit only this export (and the connection it uses).",
)
@format_option(FORMATS)
@click.option(
    "--runs",
    "max_runs",
    type=click.IntRange(0, 100),
    default=5,
    show_default=True,
    help="How many of the last runs (from the journal) to show per entry; 0 shows none and "
    "does not open the journal.",
)
@state_option
def audit(
    config_dir: Path, export_name: str | None, fmt: str, max_runs: int, state_url: str | None
) -> None:
    """Audit trail of every connection and export, from git history and the run journal.

    For each declaration: who created it and when, who enabled it, who accepted the
    data-privacy consent (cross-checked with the commit's author), every later change with a
    field-level diff, and the last runs. Needs the full git history (not a shallow clone).

    \b
    Examples:
      reconciler audit
      reconciler audit --export vip-to-klaviyo --format markdown --runs 10
    """
    with ExitStack() as stack:
        journal: RunJournal | None = None
        missing = ""
        try:
            if max_runs > 0:
                state = stack.enter_context(command_state(state_url, config_dir, create=False))
                journal = state.journal
        except StateNotFound as exc:
            missing = str(exc.path)
        report = build_audit(config_dir, export=export_name, journal=journal, max_runs=max_runs)
    if journal is None and max_runs > 0:
        report.notes.append(f"no run journal ({missing} does not exist): last runs are not shown")
    click.echo(render_report(report, fmt))
