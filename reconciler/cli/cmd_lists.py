"""``reconciler lists``: the lists of a connection's account, and which export targets each."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.cli.options import (
    base_url_option,
    config_dir_option,
    format_option,
    time_scale_option,
)
from reconciler.cli.runner import run_options_from
from reconciler.engine.adopting import ListsReport, account_lists
from reconciler.engine.stopping import run_stoppable


@click.command("lists")
@config_dir_option
@click.option(
    "--connection",
    "connection",
    default=None,
    metavar="NAME",
    help="Connection whose account to list (default: the only one declared).",
)
@format_option(["table", "json"], "table for people, json for tools.")
@click.option(
    "--no-counts",
    is_flag=True,
    help="Skip member counts (each count is one call in Klaviyo's 1/s, 15/min tier).",
)
@base_url_option
@time_scale_option
def lists(
    config_dir: Path,
    connection: str | None,
    fmt: str,
    no_counts: bool,
    base_url: str | None,
    time_scale: float,
) -> None:
    """List the Klaviyo lists of a connection's account: id, name, members, created.

    Reads every page of GET /api/lists (paced like every read) and shows, per list, the
    exports of --config-dir that target it, so a list_id is found without leaving the
    terminal. Exports whose list does not exist in the account are named at the end.

    \b
    Examples:
      reconciler lists
      reconciler lists --connection marketing --format json
    """
    options = run_options_from(config_dir, None, base_url=base_url, time_scale=time_scale)
    report = run_stoppable(account_lists(options, connection, counts=not no_counts))
    click.echo(json.dumps(report.as_dict(), indent=2) if fmt == "json" else render_table(report))


def render_table(report: ListsReport) -> str:
    """Aligned columns: id, members, created, name, exports."""
    head = ("ID", "MEMBERS", "CREATED", "NAME", "EXPORTS")
    rows = [
        (
            row.id,
            f"{row.members:,}" if row.members is not None else "-",
            row.created.date().isoformat() if row.created else "-",
            row.name,
            ", ".join(row.exports) or "-",
        )
        for row in report.lists
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = [f"Lists of connection {report.connection} (account {report.account}):"]
    for r in [head, *rows]:
        cells = [r[i].rjust(w) if i == 1 else r[i].ljust(w) for i, w in enumerate(widths)]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    lines.append(f"{len(rows)} list(s).")
    lines.extend(
        f"warning: export {export} targets list {list_id}, which is not in this account"
        for export, list_id in report.missing
    )
    return "\n".join(lines)
