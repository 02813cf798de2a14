"""The Python API others rely on: load_config, validate_config, load_config_from_files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconciler.config import load_config, load_config_from_files, validate_config
from reconciler.models import Config
from tests.config.helpers import CONNECTION, EXPORTS, VALID, copy_exports, problems_of


def test_example_exports_load_into_a_full_config(tmp_path: Path) -> None:
    config = load_config(copy_exports(tmp_path))
    assert set(config.connections) == {"klaviyo-marketing"}
    assert set(config.sources) == {"profiles"}
    assert set(config.segments) == {"vip-customers", "newsletter"}
    assert {e.list_id: e.mode for e in config.exports.values()} == {
        "Y6nRLr": "mirror",
        "Xk3Pq9": "add_only",
    }
    connection = config.connections["klaviyo-marketing"]
    assert connection.api_key.env == "KLAVIYO_MARKETING_API_KEY"
    assert connection.consent is not None and connection.consent.accepted
    assert connection.consent.accepted_at == dt.date(2026, 11, 20)
    vip = config.exports["vip-to-klaviyo"]
    assert vip.fields.attribute_columns() == {"first_name": "first_name", "last_name": "last_name"}
    assert vip.fields.properties == {"lifetime_value": "lifetime_value"}
    assert config.access is not None and config.access.admins == ["jane@contoso.com"]
    assert config.origins["Export/vip-to-klaviyo"].endswith("exports.yaml:3")
    assert config.origins["Segment/newsletter"].endswith("segments.yaml:8")
    assert set(config.origins) == {
        "Access/access",
        "Connection/klaviyo-marketing",
        "Source/profiles",
        "Segment/vip-customers",
        "Segment/newsletter",
        "Export/vip-to-klaviyo",
        "Export/newsletter-to-klaviyo",
        "Notification/growth-alerts",
    }
    alerts = config.notifications["growth-alerts"]
    assert alerts.on == ["failed", "partial", "blocked", "interrupted", "volume"]
    assert (alerts.volume.removals, alerts.volume.adds) == ("10%", "50%")


def test_validate_config_returns_warnings_with_the_config(tmp_path: Path) -> None:
    text = VALID.replace("fields: {email: email}", "fields: {email: email}\nenabled: false")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    config, problems = validate_config(tmp_path)
    assert isinstance(config, Config)
    assert {p.code for p in problems} == {"W001"}
    assert config.enabled_exports() == []


def test_load_config_from_files_selects_yaml_under_root() -> None:
    files = {
        "teams/exports/a.yaml": VALID.encode(),
        "teams/exports/.github/x.yaml": b"{{{",
        "teams/exports/data/people.csv": b"email\n",
        "teams/other/b.yaml": b"{{{",
        "teams/exports-old/c.yaml": b"{{{",
        "README.md": b"# hi",
    }
    config, problems = load_config_from_files(files, root="teams/exports")
    assert problems == []
    assert config is not None
    assert config.origins["Export/all-to-list"] == "teams/exports/a.yaml:15"


def test_load_config_from_files_matches_the_directory_loader() -> None:
    files = {
        f"exports/{p.relative_to(EXPORTS).as_posix()}": p.read_bytes()
        for p in EXPORTS.rglob("*")
        if p.is_file()
    }
    from_files, problems = load_config_from_files(files)
    assert problems == []
    assert from_files == load_config(EXPORTS)


def test_load_config_from_files_without_files_is_an_error() -> None:
    config, problems = load_config_from_files({"src/a.py": b""}, root="exports")
    assert config is None
    assert [(p.code, p.file) for p in problems] == [("R007", "exports")]


def test_defaults() -> None:
    config, problems = load_config_from_files({"exports/a.yaml": VALID.encode()})
    assert problems == [] and config is not None
    assert config.connections["main"].usable_by == "admins"
    export = config.exports["all-to-list"]
    assert (export.mode, export.enabled, export.schedule) == ("mirror", True, None)
    assert (export.limits.max_profiles, export.limits.max_removals) == (100_000, "30%")


@pytest.mark.parametrize(
    ("limits", "ok"),
    [
        ("{max_removals: 500}", True),
        ("{max_removals: 12.5%}", True),
        ("{max_removals: 100%}", True),
        ("{max_removals: 100.5%}", False),
        ("{max_removals: -3}", False),
        ("{max_removals: lots}", False),
        ("{max_profiles: 1000000, allow_empty: true}", True),
        ("{max_profiles: many}", False),
        ("{max_profiles: -1}", False),
    ],
)
def test_limits_forms(limits: str, ok: bool) -> None:
    text = VALID + f"limits: {limits}\n"
    assert (problems_of(text) == []) is ok


@pytest.mark.parametrize(
    ("base_url", "ok"),
    [
        ("https://a.klaviyo.com", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080/", True),
        ("http://[::1]:9000", True),
        ("http://10.0.0.5:8080", False),
        ("ftp://127.0.0.1", False),
        ("https://", False),
        ("not a url", False),
    ],
)
def test_base_url(base_url: str, ok: bool) -> None:
    text = VALID.replace("kind: Connection\n", f"kind: Connection\nbase_url: '{base_url}'\n")
    assert (problems_of(text) == []) is ok


def test_consent_is_only_required_for_connections_of_enabled_exports() -> None:
    no_consent = CONNECTION.replace(
        "consent: {accepted: true, accepted_by: jane, accepted_at: 2026-01-15}\n", ""
    )
    text = VALID.replace(CONNECTION, no_consent)
    assert [p.code for p in problems_of(text)] == ["R023"]
    disabled = text.replace("fields: {email: email}", "fields: {email: email}\nenabled: false")
    assert [p.code for p in problems_of(disabled)] == ["W001"]


def test_names_are_unique_across_files() -> None:
    files = {"exports/a.yaml": VALID.encode(), "exports/b.yaml": CONNECTION.encode()}
    config, problems = load_config_from_files(files)
    assert config is None
    (problem,) = problems
    assert (problem.code, problem.file, problem.line) == ("R020", "exports/b.yaml", 2)
    assert "exports/a.yaml:1" in problem.message


def test_invalid_declarations_do_not_cause_extra_reference_errors() -> None:
    broken_segment = VALID.replace("table: people", "table: people\ncolour: red")
    assert [p.code for p in problems_of(broken_segment)] == ["R011"]


def test_root_dot_means_the_whole_tree() -> None:
    files = {"a.yaml": VALID.encode(), "sub/b.yml": b"kind: Access\n", ".ci/x.yaml": b"{{{"}
    config, problems = load_config_from_files(files, root=".")
    assert problems == []
    assert config is not None and config.access is not None
    assert config.origins["Access/access"] == "sub/b.yml:1"
