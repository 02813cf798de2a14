"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

config_dir_option = click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("exports"),
    show_default=True,
    help="Directory holding the YAML declarations.",
)

state_option = click.option(
    "--state",
    "state_url",
    envvar="RECONCILER_STATE",
    default=None,
    help="State backend: a postgresql:// URL or an SQLite path "
    "(default .reconciler/state.db; env RECONCILER_STATE).",
)
