"""Dropping a response: close the connection without answering (a lost response).

Over a real socket the server's protocol puts the connection's transport into the scope (see
:class:`DroppableH11Protocol`) and the app closes it. In-process (``httpx.ASGITransport``) there
is no connection to close, so the app raises the same error httpx raises when a server hangs
up without answering.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

TRANSPORT_KEY = "sandbox.transport"


async def drop_connection(scope: Scope) -> None:
    transport = scope.get(TRANSPORT_KEY)
    if not isinstance(transport, asyncio.BaseTransport):
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    transport.close()
    for _ in range(3):  # let the server notice the disconnect before the app returns
        await asyncio.sleep(0)


class DroppableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with each request's scope carrying its connection's transport."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        inner: ASGIApp = self.app

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            scope[TRANSPORT_KEY] = transport
            await inner(scope, receive, send)

        self.app = app
