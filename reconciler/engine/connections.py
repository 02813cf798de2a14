"""Opens one verified Klaviyo client per connection; failures stay per connection."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass

from reconciler.engine.options import RunOptions
from reconciler.errors import ReconcilerError
from reconciler.klaviyo import KlaviyoClient, PacerRegistry
from reconciler.klaviyo.errors import KlaviyoError
from reconciler.models import Connection


class ConnectionUnusable(ReconcilerError):
    """A connection cannot be used: missing key variable, or the key was refused."""


@dataclass
class OpenConnection:
    connection: Connection
    client: KlaviyoClient | None
    account: str
    error: str | None = None


def api_key_for(connection: Connection, env: Mapping[str, str]) -> str:
    """The API key from the environment variable the connection names."""
    name = connection.api_key.env
    value = env.get(name) or os.environ.get(name)
    if not value:
        raise ConnectionUnusable(
            f"environment variable {name} is not set (export {name}=<your Klaviyo private API key>)"
        )
    return value


async def open_connections(
    connections: Mapping[str, Connection], options: RunOptions, stack: AsyncExitStack
) -> dict[str, OpenConnection]:
    """Open and verify a client per connection; a failing one carries its error. The clients
    of one run share its pacers (keys of one account share one budget)."""
    pacers = PacerRegistry()
    opened: dict[str, OpenConnection] = {}
    for name, connection in sorted(connections.items()):
        opened[name] = await _open_one(connection, options, stack, pacers)
    return opened


async def _open_one(
    connection: Connection, options: RunOptions, stack: AsyncExitStack, pacers: PacerRegistry
) -> OpenConnection:
    try:
        key = api_key_for(connection, options.env)
        base_url = options.base_url or connection.base_url or "https://a.klaviyo.com"
        client = KlaviyoClient(key, base_url=base_url, time_scale=options.time_scale, pacers=pacers)
        await stack.enter_async_context(client)
        account = await client.verify_key()
    except (KlaviyoError, ConnectionUnusable) as exc:
        message = f"connection '{connection.name}': {exc}"
        return OpenConnection(connection=connection, client=None, account="", error=message)
    return OpenConnection(connection=connection, client=client, account=account.id)
