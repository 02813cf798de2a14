"""``reconciler segments``: look at segments before exporting them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.cli.options import config_dir_option, format_option
from reconciler.sources import SegmentPreview, preview_segment


@click.group()
def segments() -> None:
    """Inspect segments: row counts, columns and masked samples.

    Reads a segment from its source exactly as plan does, and sends nothing anywhere.

    \b
    Examples:
      reconciler segments preview vip-customers
      reconciler segments preview newsletter --format json --limit 10
    """


@segments.command("preview")
@click.argument("name")
@config_dir_option
@click.option(
    "--limit",
    type=click.IntRange(0, 100),
    default=5,
    show_default=True,
    help="How many masked sample emails to show.",
)
@format_option(["text", "json"])
@click.option(
    "--email-column",
    default=None,
    help="Column holding the email (default: fields.email of the first export using the "
    "segment, else a column named like 'email').",
)
def preview(name: str, config_dir: Path, limit: int, fmt: str, email_column: str | None) -> None:
    """Read segment NAME and show its row, valid, invalid and duplicate counts.

    Emails are normalised (trimmed, lower-cased, syntax-checked) exactly as plan and apply
    do; samples are masked (j***@example.com). Nothing is sent anywhere.

    \b
    Examples:
      reconciler segments preview vip-customers
      reconciler segments preview newsletter --email-column mail --format json
    """
    from reconciler.config import load_config

    config = load_config(config_dir)
    result = preview_segment(config, name, config_dir, email_column=email_column, limit=limit)
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        click.echo(render_text(result))


def render_text(result: SegmentPreview) -> str:
    lines = [
        f"segment {result.segment} (source {result.source}, email column {result.email_column})",
        f"  rows        {result.rows}",
        f"  valid       {result.valid}",
        f"  invalid     {result.invalid}{_samples(result.invalid_samples)}",
        f"  duplicates  {result.duplicates}{_samples(result.duplicate_samples)}",
        f"  columns     {', '.join(result.columns)}",
    ]
    if result.samples:
        lines.append("  samples")
        lines.extend(f"    {sample}" for sample in result.samples)
    return "\n".join(lines)


def _samples(samples: tuple[str, ...]) -> str:
    return f"  (e.g. {', '.join(samples)})" if samples else ""
