"""Typed errors, the masked API key and the base URL rules."""

from __future__ import annotations

import pytest

from reconciler.errors import ReconcilerError
from reconciler.klaviyo import KlaviyoClient
from reconciler.klaviyo.errors import (
    AuthError,
    ErrorDetail,
    KlaviyoConfigError,
    KlaviyoError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
    error_for_status,
)
from reconciler.klaviyo.secret import ApiKey

SECRET = "pk_live_4f8a9c0e1d2b3a4c5d6e7f8a9b0c1d2e3f"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ValidationError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (409, ValidationError),
        (415, ValidationError),
        (422, ValidationError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
    ],
)
def test_status_maps_to_typed_error(status: int, cls: type[KlaviyoError]) -> None:
    error = error_for_status("GET", "/api/lists/Y6nRLr", status, [])
    assert type(error) is cls
    assert isinstance(error, ReconcilerError)
    assert error.status == status
    assert str(error).startswith(f"GET /api/lists/Y6nRLr: {status} ")


def test_validation_error_carries_pointer_and_masks_emails() -> None:
    detail = ErrorDetail(
        status=400,
        code="invalid",
        title="Invalid input.",
        detail="'jane.doe@contoso.com' is not a valid email address.",
        pointer="/data/attributes/profiles/data/3/attributes/email",
    )
    error = error_for_status("POST", "/api/profile-bulk-import-jobs", 400, [detail])
    assert isinstance(error, ValidationError)
    assert error.errors[0].pointer == "/data/attributes/profiles/data/3/attributes/email"
    text = str(error)
    assert "jane.doe@contoso.com" not in text
    assert "j***e@contoso.com" in text
    assert "/data/attributes/profiles/data/3/attributes/email" in text


def test_auth_errors_have_hints() -> None:
    assert "scope" in error_for_status("GET", "/api/accounts", 403, []).hint
    assert "API key" in error_for_status("GET", "/api/accounts", 401, []).hint


def test_api_key_is_never_shown() -> None:
    key = ApiKey(SECRET)
    assert SECRET not in repr(key)
    assert SECRET not in str(key)
    assert SECRET not in f"{key}"
    assert key.header_value() == f"Klaviyo-API-Key {SECRET}"
    client = KlaviyoClient(SECRET, base_url="https://a.klaviyo.com")
    assert SECRET not in repr(client)
    assert SECRET not in str(client)
    assert SECRET not in repr(vars(client))
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)


@pytest.mark.parametrize("bad", ["", "   ", "pk_abc def", "pk_abc\n"])
def test_malformed_key_is_refused_without_echo(bad: str) -> None:
    with pytest.raises(KlaviyoConfigError) as caught:
        KlaviyoClient(bad + "x" if bad.endswith("\n") else bad)
    if bad.strip():
        assert "pk_abc" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["http://a.klaviyo.com", "http://10.0.0.5:8080", "ftp://127.0.0.1", "not a url", "http://"],
)
def test_plain_http_only_to_loopback(url: str) -> None:
    with pytest.raises(KlaviyoConfigError) as caught:
        KlaviyoClient(SECRET, base_url=url)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://a.klaviyo.com",
        "https://a.klaviyo.com/",
        "http://127.0.0.1:8080",
        "http://localhost:9000",
        "http://[::1]:9000",
    ],
)
def test_accepted_base_urls(url: str) -> None:
    client = KlaviyoClient(SECRET, base_url=url)
    assert not client.base_url.endswith("/")


def test_bad_tuning_values() -> None:
    with pytest.raises(KlaviyoConfigError):
        KlaviyoClient(SECRET, time_scale=0)
    with pytest.raises(KlaviyoConfigError):
        KlaviyoClient(SECRET, max_concurrency=0)
