"""Proxy variables: a plain-http request (the loopback sandbox) never goes through a proxy, where
the API key would travel in clear; https keeps honouring HTTPS_PROXY and NO_PROXY, the key then
inside the TLS tunnel. The proxy is a real loopback listener that records who contacted it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from reconciler.klaviyo import KlaviyoClient, Pacer
from reconciler.klaviyo.errors import KlaviyoError
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.klaviyo.support import KEY

SCALE = 60.0
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class ProxyListener:
    """Accepts connections on loopback, records what arrives, answers 502 and closes."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProxyListener]:
    listener = ProxyListener()
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    yield listener
    listener.close()


def _set(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
        monkeypatch.setenv(name.lower(), value)


async def test_plain_http_never_goes_through_a_proxy(
    proxy: ProxyListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set(monkeypatch, HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url, ALL_PROXY=proxy.url)
    with SandboxServer(SandboxConfig(api_keys=(KEY,), time_scale=SCALE)) as server:
        async with KlaviyoClient(
            KEY, base_url=server.base_url, time_scale=SCALE, pacer=Pacer(SCALE), max_retries=0
        ) as api:
            created = await api.create_list("no proxy")
            assert (await api.get_list(created.id)).id == created.id
    assert proxy.received == []


async def test_https_honours_https_proxy_and_the_key_stays_inside_the_tunnel(
    proxy: ProxyListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set(monkeypatch, HTTPS_PROXY=proxy.url)
    secret = "pk_" + "5" * 34
    async with KlaviyoClient(
        secret, base_url="https://a.klaviyo.com", pacer=Pacer(SCALE), max_retries=0
    ) as api:
        with pytest.raises(KlaviyoError):
            await api.get_list("Y6nRLr")  # the listener refuses the tunnel
    assert proxy.received, "HTTPS_PROXY was not honoured"
    assert proxy.received[0].startswith(b"CONNECT a.klaviyo.com:443 ")
    assert all(secret.encode() not in data for data in proxy.received)


async def test_https_honours_no_proxy(
    proxy: ProxyListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    _set(monkeypatch, HTTPS_PROXY=proxy.url, NO_PROXY="127.0.0.1")
    async with KlaviyoClient(
        KEY, base_url=f"https://127.0.0.1:{port}", pacer=Pacer(SCALE), max_retries=0
    ) as api:
        with pytest.raises(KlaviyoError):
            await api.get_list("Y6nRLr")  # nothing listens there: refused, not proxied
    assert proxy.received == []
