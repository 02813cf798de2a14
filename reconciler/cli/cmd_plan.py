"""``reconciler plan``: show what apply would change, without changing anything."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from reconciler import api
from reconciler.cli import logformat
from reconciler.cli.options import apply_options, config_dir_option, format_option, state_option
from reconciler.cli.progress import make_progress
from reconciler.cli.runner import command_state, run_options_from
from reconciler.engine.access import enforce_access
from reconciler.plan.model import Plan
from reconciler.plan.planfile import write_plan
from reconciler.plan.render import render_json, render_markdown, render_text


def render(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    style = click.style if sys.stdout.isatty() else (lambda text, **_: text)
    return render_text(plan, style)


def exit_code_for(plan: Plan, detailed: bool) -> int:
    """1 when an export is blocked or failed; 2 for changes with --detailed-exitcode; else 0."""
    if plan.has_blocked:
        return 1
    return 2 if detailed and plan.has_changes else 0


@click.command()
@config_dir_option
@apply_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the complete plan (contains email addresses: personal data).",
)
@format_option(["text", "markdown", "json"])
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none."
)
@click.option(
    "--readd-departed",
    is_flag=True,
    help="Show what external_removals: readd would do: members who left a list outside the "
    "reconciler are planned as adds again (once).",
)
@click.option(
    "--base",
    "base_ref",
    default=None,
    metavar="REF",
    help="Git ref to compare the configuration with (default: merge base with the default branch).",
)
@state_option
def plan(
    config_dir: Path,
    state_url: str | None,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    **values: Any,
) -> None:
    """Plan the difference between each segment and its Klaviyo list.

    Reads each enabled export's segment and its Klaviyo list (incrementally from the state's
    cache when it can), and shows who would be added and removed, the guards that block an
    export, and the configuration changes since the git base. Nothing is changed anywhere.
    Exits 0 (1 when an export is blocked; 2 for changes with --detailed-exitcode). Prints the
    state it uses on stderr.

    \b
    Examples:
      reconciler plan
      reconciler plan --export vip-to-klaviyo --out plan.json
      reconciler plan --format markdown --base origin/main > comment.md
    """
    options = run_options_from(config_dir, state_url, **values)
    for warning in enforce_access(options):
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    with (
        command_state(state_url, config_dir, keep_on_failure=False, announce=True) as state,
        make_progress() as progress,
    ):
        result = api.plan_run(options, state=state, progress=progress)
    if options.force and any(e.forced_guards for e in result.exports):
        click.secho(
            "WARNING: --force overrides tripped safety guards; this is recorded.",
            fg="yellow",
            bold=True,
            err=True,
        )
    if out is not None:
        write_plan(result, out)
        click.echo(
            f"Plan saved to {out} (it contains email addresses: treat it as personal data).",
            err=True,
        )
    click.echo(render(result, fmt))
    logformat.emit_plan(result)
    sys.exit(exit_code_for(result, detailed_exitcode))
