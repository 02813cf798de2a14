"""One loopback check: the config rule (R029) and the HTTP client accept plain http for the
same hosts, and only for names that certainly mean this machine."""

from __future__ import annotations

import pytest

from reconciler.klaviyo.errors import KlaviyoConfigError
from reconciler.klaviyo.transport.http import check_base_url
from tests.config.helpers import VALID, problems_of

HOSTS = {
    "127.0.0.1": True,
    "127.1.2.3": True,
    "localhost": True,
    "LOCALHOST": True,
    "[::1]": True,
    "localhost.localdomain": False,  # a name like any other: it may resolve elsewhere
    "localhost.example.com": False,
    "127.0.0.1.nip.io": False,
    "0.0.0.0": False,
    "10.0.0.5": False,
    "[::ffff:10.0.0.5]": False,
    "example.com": False,
}


def _config_accepts(base_url: str) -> bool:
    text = VALID.replace("kind: Connection\n", f"kind: Connection\nbase_url: '{base_url}'\n")
    return "R029" not in {p.code for p in problems_of(text)}


def _client_accepts(base_url: str) -> bool:
    try:
        check_base_url(base_url)
    except KlaviyoConfigError:
        return False
    return True


@pytest.mark.parametrize(("host", "loopback"), HOSTS.items(), ids=HOSTS.keys())
def test_config_rule_and_client_agree_on_plain_http(host: str, loopback: bool) -> None:
    url = f"http://{host}:8765"
    assert _config_accepts(url) is loopback
    assert _client_accepts(url) is loopback
    assert _config_accepts(f"https://{host}:8765") and _client_accepts(f"https://{host}:8765")
