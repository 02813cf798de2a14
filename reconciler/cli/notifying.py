"""How ``apply`` shows each notification's delivery: one line on stderr."""

from __future__ import annotations

import click

from reconciler.notify import Delivery


def echo_delivery(delivery: Delivery) -> None:
    """A warning when it was not sent (never an error), else a confirmation."""
    if delivery.warning:
        click.secho(f"warning: {delivery.warning}", fg="yellow", err=True)
    else:
        click.echo(
            f"Notification {delivery.notification} sent ({', '.join(delivery.events)}).", err=True
        )
