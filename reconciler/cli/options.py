"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.cli.errors import remember_format

F = TypeVar("F", bound=Callable[..., Any])

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
    help="State backend: a postgresql:// URL or an SQLite path (default: .reconciler/state.db "
    "at the root of the config's git repository, else in the config directory; env "
    "RECONCILER_STATE).",
)

# also used alone by the commands that talk to Klaviyo without planning (lists, import, report)
base_url_option = click.option(
    "--base-url",
    envvar="RECONCILER_KLAVIYO_URL",
    default=None,
    help="Send every connection's API calls here instead (e.g. a local sandbox: "
    "http://127.0.0.1:8765). Env RECONCILER_KLAVIYO_URL.",
)
time_scale_option = click.option(
    "--time-scale",
    type=click.FloatRange(min=1.0),
    default=1.0,
    envvar="RECONCILER_TIME_SCALE",
    show_default=True,
    help="Pace for a sandbox started with the same --time-scale.",
)


def format_option(
    choices: Sequence[str], help: str = "Output format.", dest: str = "fmt"
) -> Callable[[F], F]:
    """``--format`` (default: the first of ``choices``); the error handler renders in it too."""
    return click.option(
        "--format",
        dest,
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
        callback=remember_format,
    )


run_options = [
    click.option(
        "--export",
        "exports",
        multiple=True,
        metavar="NAME",
        help="Only this export (repeatable). Default: every enabled export.",
    ),
    click.option(
        "--force",
        is_flag=True,
        help="Override tripped safety guards (apply: also the refusal of an older checkout); "
        "recorded.",
    ),
    click.option(
        "--refresh", is_flag=True, help="Ignore the membership cache: read every list in full."
    ),
    base_url_option,
    time_scale_option,
    click.option(
        "--actor",
        default=None,
        help="Who runs this (default: GITHUB_ACTOR, else git user.email).",
    ),
    click.option(
        "--job-timeout",
        type=click.FloatRange(min=1.0),
        default=1800.0,
        show_default=True,
        metavar="SECONDS",
        help="How long a plan waits for import jobs already running on a list (another "
        "integration's, or an interrupted run's); past it that export fails, naming the jobs.",
    ),
    click.option(
        "--max-wait",
        type=click.FloatRange(min=1.0),
        default=120.0,
        show_default=True,
        metavar="SECONDS",
        help="The longest single wait before retrying a throttled request, whatever its "
        "Retry-After; a request that stays throttled fails after a few such waits.",
    ),
]


def apply_options(func: F) -> F:
    """Decorate a command with every option of ``run_options``."""
    for option in reversed(run_options):
        func = option(func)
    return func
