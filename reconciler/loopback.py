"""The one loopback check: where plain http may go (config rule R029 and the HTTP client).

Only the name ``localhost`` and literal loopback addresses (127.0.0.0/8, ``::1``, with or
without brackets) count: any other name could resolve elsewhere, and then the API key would
travel unencrypted.
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True when ``host`` (a URL's host part) certainly names this machine."""
    name = host.strip().lower()
    if name in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False
