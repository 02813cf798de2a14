"""The httpx client: base URL rules, headers (auth, revision, JSON:API media type)."""

from __future__ import annotations

import urllib.request

import httpx

from reconciler.klaviyo.errors import KlaviyoConfigError
from reconciler.klaviyo.secret import ApiKey
from reconciler.klaviyo.transport.lanes import LaneTransport
from reconciler.loopback import is_loopback

REVISION = "2026-07-15"
MEDIA_TYPE = "application/vnd.api+json"
DEFAULT_BASE_URL = "https://a.klaviyo.com"
TIMEOUT = httpx.Timeout(60.0, connect=15.0)
# Plain-http requests never go through a proxy (HTTP_PROXY, ALL_PROXY): the proxy would see the
# API key in clear. https keeps honouring HTTPS_PROXY / NO_PROXY: a proxy only relays the TLS
# tunnel. (httpx uses the client's own transport for a pattern mounted to None.)
NO_PROXY_FOR_PLAIN_HTTP: dict[str, httpx.AsyncBaseTransport | None] = {"http://": None}


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; https anywhere, plain http only to loopback."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise KlaviyoConfigError(f"base URL {base_url!r} is not a valid URL: {exc}") from None
    if url.scheme not in ("https", "http") or not url.host:
        raise KlaviyoConfigError(
            f"base URL {base_url!r} must look like https://host[:port]",
            hint=f"leave base_url unset to use {DEFAULT_BASE_URL}",
        )
    if url.query or url.fragment or url.userinfo:
        raise KlaviyoConfigError(f"base URL {base_url!r} must not carry credentials or a query")
    if url.scheme == "http" and not is_loopback(url.host):
        raise KlaviyoConfigError(
            f"base URL {base_url!r} uses plain http to a non-loopback host; the API key would "
            "travel unencrypted",
            hint="use https, or http://127.0.0.1:<port> for the local sandbox",
        )
    return str(url).rstrip("/")


def build_http_client(
    base_url: str,
    key: ApiKey,
    transport: httpx.AsyncBaseTransport | None,
    max_connections: int,
) -> httpx.AsyncClient:
    headers = {
        "Authorization": key.header_value(),
        "revision": REVISION,
        "Accept": MEDIA_TYPE,
        "Content-Type": MEDIA_TYPE,
        "User-Agent": "klaviyo-segment-reconciler",
    }
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        transport=transport if transport is not None else _lanes(base_url, max_connections),
        timeout=TIMEOUT,
        limits=limits,
        mounts=NO_PROXY_FOR_PLAIN_HTTP,
        follow_redirects=False,
    )


def _lanes(base_url: str, max_connections: int) -> LaneTransport | None:
    """Connections in lanes, unless an HTTPS proxy may apply: httpx honours the proxy
    variables only with its own transport (then one pool, as httpx builds it)."""
    if (
        httpx.URL(base_url).scheme == "https"
        and {"https", "all"} & urllib.request.getproxies().keys()
    ):
        return None
    return LaneTransport(max_connections)
