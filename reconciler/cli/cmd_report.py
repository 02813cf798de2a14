"""``reconciler report``: one self-contained HTML page of every export, its runs and the audit."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.cli.options import (
    base_url_option,
    config_dir_option,
    state_option,
    time_scale_option,
)
from reconciler.cli.runner import run_options_from
from reconciler.report import build_dashboard, render_html
from reconciler.state import open_state


@click.command("report")
@config_dir_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write (replaced if it exists).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Do not ask Klaviyo for each list's size (no API key needed).",
)
@base_url_option
@time_scale_option
@state_option
def report(
    config_dir: Path,
    out: Path,
    offline: bool,
    base_url: str | None,
    time_scale: float,
    state_url: str | None,
) -> None:
    """Write one self-contained HTML page: every export and the audit trail.

    Per export: status, list size (one Klaviyo call each, unless --offline), last run, next
    due, consent and who enabled it, and charts of its list size and adds/removes over its
    runs (from the journal). Then the audit trail from git. The page loads nothing (no
    script, no CDN, no font) and holds counts and masked values only.

    \b
    Examples:
      reconciler report --out report.html
      reconciler report --offline --state postgresql://ci@db/reconciler --out site/index.html
    """
    options = run_options_from(config_dir, state_url, base_url=base_url, time_scale=time_scale)
    with open_state(options.state_url, root=options.state_root) as state:
        dashboard = build_dashboard(options, state, live=not offline)
    html = render_html(dashboard)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(html)
    temporary.replace(out)
    for note in dashboard.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    click.echo(f"Report of {len(dashboard.exports)} export(s) written to {out}.")
