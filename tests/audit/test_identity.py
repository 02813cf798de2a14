"""Identity matching: case-insensitive, by email or GitHub handle."""

from __future__ import annotations

from reconciler.audit.identity import identity_keys, listed, same_person


def test_email_matches_case_insensitively() -> None:
    assert same_person("Jane@Contoso.com", "jane@contoso.com")
    assert not same_person("jane@contoso.com", "jane@fabrikam.com")


def test_handle_matches_with_or_without_at_sign() -> None:
    assert same_person("@Octocat", "octocat")
    assert not same_person("octocat", "octodog")


def test_noreply_address_is_the_handle() -> None:
    noreply = "12345+OctoCat@users.noreply.github.com"
    assert same_person(noreply, "octocat")
    assert same_person("@octocat", noreply)
    assert same_person("octocat@users.noreply.github.com", "octocat")


def test_handle_never_matches_an_ordinary_email() -> None:
    assert not same_person("jane", "jane@contoso.com")
    assert identity_keys("  ") == frozenset()


def test_listed() -> None:
    assert listed("MARK@contoso.com", ["jane@contoso.com", "mark@contoso.com"])
    assert not listed("eve@contoso.com", ["jane@contoso.com"])
    assert not listed("eve@contoso.com", [])
