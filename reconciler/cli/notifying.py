"""After ``apply``: send the declared notifications; a failure is a warning, never an error."""

from __future__ import annotations

import datetime as dt
import os

import click

from reconciler.config import load_config
from reconciler.engine.options import RunOptions
from reconciler.errors import ReconcilerError
from reconciler.notify import notify
from reconciler.notify.journal import find_run, summary_from
from reconciler.plan.model import Plan
from reconciler.state import StateBackend


def notify_after_apply(
    options: RunOptions,
    state: StateBackend,
    run_id: str | None,
    plan: Plan | None,
    since: dt.datetime,
) -> None:
    """Send each Notification the run triggers; print one line per delivery on stderr."""
    try:
        config = load_config(options.config_dir)
        if not config.notifications:
            return
        run = find_run(state.list_runs(limit=20), run_id, since)
    except ReconcilerError as exc:
        click.secho(f"warning: notifications not sent: {exc}", fg="yellow", err=True)
        return
    if run is None:
        return
    for delivery in notify(config, summary_from(run, plan), {**os.environ, **options.env}):
        if delivery.warning:
            click.secho(f"warning: {delivery.warning}", fg="yellow", err=True)
        else:
            events = ", ".join(delivery.events)
            click.echo(f"Notification {delivery.notification} sent ({events}).", err=True)
