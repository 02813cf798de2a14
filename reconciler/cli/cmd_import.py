"""``reconciler import``: write an Export document that adopts an existing Klaviyo list."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.cli.cmd_plan import render
from reconciler.cli.options import (
    base_url_option,
    config_dir_option,
    format_option,
    state_option,
    time_scale_option,
)
from reconciler.cli.runner import command_state, run_options_from
from reconciler.engine.adopting import AdoptionError, import_list
from reconciler.engine.stopping import run_stoppable


@click.command("import")
@config_dir_option
@click.option("--connection", default=None, metavar="NAME", help="Connection of the list.")
@click.option("--list-id", required=True, metavar="ID", help="The existing list's id.")
@click.option("--segment", required=True, metavar="SEGMENT", help="Segment to export to it.")
@click.option(
    "--name", default=None, metavar="EXPORT", help="Export name (default: from the list's name)."
)
@click.option(
    "--mode",
    type=click.Choice(["mirror", "add_only"]),
    default="mirror",
    show_default=True,
    help="mirror also removes members not in the segment; add_only never removes.",
)
@click.option("--email-column", default=None, help="Segment column holding the email.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the document to this file (never overwritten) instead of stdout.",
)
@format_option(["text", "markdown", "json"], "Format of the first plan (printed on stderr).")
@base_url_option
@time_scale_option
@state_option
def import_(
    config_dir: Path,
    connection: str | None,
    list_id: str,
    segment: str,
    name: str | None,
    mode: str,
    email_column: str | None,
    out: Path | None,
    fmt: str,
    base_url: str | None,
    time_scale: float,
    state_url: str | None,
) -> None:
    """Adopt an existing Klaviyo list: write its Export document and show its first plan.

    The document (with its yaml-language-server schema line) is validated together with the
    rest of --config-dir by the same loader as 'validate', then planned exactly as 'plan'
    would: adds, removes, the guards it trips, and a note when the list already has members
    that the reconciler never managed. Nothing is changed in Klaviyo. Commit the document in
    a pull request to review that plan. Exits 0 once the document is written, also when its
    first plan is blocked by a guard (the plan says which and why).

    \b
    Examples:
      reconciler import --list-id Y6nRLr --segment vip-customers
      reconciler import --connection marketing --list-id Y6nRLr --segment vip \\
          --name vip-list --out exports/vip-list.yaml
    """
    if out is not None and out.exists():
        raise AdoptionError(f"{out} already exists", "choose another --out file or remove it")
    options = run_options_from(config_dir, state_url, base_url=base_url, time_scale=time_scale)
    with command_state(state_url, config_dir, announce=True) as state:
        result = run_stoppable(
            import_list(
                options,
                state,
                connection_name=connection,
                list_id=list_id,
                segment=segment,
                name=name,
                mode=mode,
                email_column=email_column,
            )
        )
    if out is None:
        click.echo(result.document, nl=False)
    else:
        _write_new(out, result.document)
        click.echo(f"Wrote export {result.export} to {out}.", err=True)
    click.echo(render(result.plan, fmt), err=True)


def _write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
