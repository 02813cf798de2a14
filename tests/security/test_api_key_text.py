"""An API key with a character that cannot travel in an HTTP header (a typographic quote pasted
from a document) is a clean error naming the variable, in plan and apply; the key never shows."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.klaviyo import KlaviyoClient
from reconciler.klaviyo.errors import KlaviyoConfigError
from tests.e2e.conftest import TIME_SCALE, Harness
from tests.e2e.workspace import KEY_ENV, TEST_KEY

PASTED = {
    "closing smart quote": TEST_KEY + "\u201d",
    "both smart quotes": "\u201c" + TEST_KEY + "\u201d",
    "en dash inside": TEST_KEY[:10] + "\u2013" + TEST_KEY[11:],
    "non-breaking space": TEST_KEY + "\u00a0x",
}


@pytest.mark.parametrize("key", PASTED.values(), ids=PASTED.keys())
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_non_ascii_key_names_its_variable_without_a_traceback(
    harness: Harness, command: str, key: str
) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", [])
    ws.write_members("vip", ["a.person@example.com"])
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    args = [command, "--config-dir", str(ws.config_dir), "--base-url", harness.server.base_url]
    args += ["--time-scale", str(TIME_SCALE), "--state", str(harness.state)]
    if command == "apply":
        args.append("--yes")
    result = CliRunner().invoke(cli, args, env={KEY_ENV: key})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"environment variable {KEY_ENV} holds no usable API key" in result.output
    assert "not ASCII" in result.output
    assert TEST_KEY not in result.output and TEST_KEY[3:15] not in result.output
    assert harness.members("Y6nRLr") == set()


def test_the_client_refuses_such_a_key_with_a_typed_error() -> None:
    with pytest.raises(KlaviyoConfigError) as caught:
        KlaviyoClient(TEST_KEY + "\u201d")
    assert "U+201D RIGHT DOUBLE QUOTATION MARK" in str(caught.value)
    assert TEST_KEY not in str(caught.value) + caught.value.hint
