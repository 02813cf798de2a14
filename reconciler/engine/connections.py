"""Opens one verified destination per connection; failures stay per connection."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass

from reconciler.engine.destination import DESTINATIONS, Destination
from reconciler.engine.options import RunOptions
from reconciler.errors import ConnectionUnusable, DestinationError
from reconciler.models import Connection
from reconciler.values import DestinationSettings


@dataclass
class OpenConnection:
    connection: Connection
    destination: Destination | None
    account: str
    error: str | None = None


async def open_connections(
    connections: Mapping[str, Connection], options: RunOptions, stack: AsyncExitStack
) -> dict[str, OpenConnection]:
    """Open and verify a destination per connection; a failing one carries its error."""
    # one settings object per run: the adapters of this run share what it holds (pacers)
    settings = DestinationSettings(
        env=options.env,
        base_url=options.base_url,
        time_scale=options.time_scale,
        job_timeout=options.job_timeout,
        max_wait=options.max_wait,
    )
    opened: dict[str, OpenConnection] = {}
    for name, connection in sorted(connections.items()):
        opened[name] = await _open_one(connection, settings, stack)
    return opened


async def _open_one(
    connection: Connection, settings: DestinationSettings, stack: AsyncExitStack
) -> OpenConnection:
    try:
        factory = DESTINATIONS.get(connection.type)
        if factory is None:
            raise ConnectionUnusable(f"no destination adapter for type '{connection.type}'")
        destination = await stack.enter_async_context(aclosing(factory(connection, settings)))
        account = await destination.verify()
    except DestinationError as exc:
        message = f"connection '{connection.name}': {exc}"
        return OpenConnection(connection=connection, destination=None, account="", error=message)
    return OpenConnection(connection=connection, destination=destination, account=account)
