"""``reconciler init``: a config repository that validates, plans, and is never overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.config.scaffold import TEMPLATES, scaffold_files
from reconciler.config.schema import all_schemas
from reconciler.config.yamlsafe import parse_documents
from tests.adoption.conftest import KEY_ENV, Repo
from tests.conftest import SANDBOX_KEY, SANDBOX_TIME_SCALE

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={KEY_ENV: SANDBOX_KEY})
    return result.exit_code, result.output


def test_init_then_validate_passes(tmp_path: Path) -> None:
    target = tmp_path / "klaviyo-exports"
    code, output = run("init", str(target))
    assert code == 0, output
    assert "created" in output
    code, output = run("validate", "--config-dir", str(target / "exports"), "--sources")
    assert code == 0, output
    assert "valid (0 Access, 1 Connection, 1 Source, 1 Segment, 1 Export)" in output
    assert (target / ".gitignore").read_text().splitlines()[1] == ".reconciler/"
    workflow = REPO / "reconciler" / "templates" / "github-workflow.yml"
    assert (target / ".github/workflows/reconcile.yml").read_text() == workflow.read_text()
    assert (target / "README.md").read_text().startswith("# Klaviyo exports")


def test_every_example_starts_with_its_schema_line_and_matches_it(tmp_path: Path) -> None:
    assert run("init", str(tmp_path))[0] == 0
    examples = sorted((tmp_path / "exports").glob("*.yaml"))
    assert [p.name for p in examples] == [
        "connection.yaml",
        "export.yaml",
        "notification.yaml",
        "segment.yaml",
        "source.yaml",
    ]
    for path in examples:
        first = path.read_text().splitlines()[0]
        kind = path.stem
        assert first == f"# yaml-language-server: $schema=../schemas/{kind}.schema.json"
        schema_file = (path.parent / first.split("=", 1)[1]).resolve()
        schema = json.loads(schema_file.read_text())
        (parsed,), issues = parse_documents(path.read_text(), path.name)  # YAML 1.2 keys
        assert not issues
        document = parsed.data
        jsonschema.validate(document, schema)
        assert document["kind"].lower() == kind
        assert sum(line.lstrip().startswith("#") for line in path.read_text().splitlines()) >= 3


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine\n")
    code, output = run("init", str(tmp_path))
    assert code == 1
    assert "README.md" in output and "never overwrites" in output
    assert "Traceback" not in output
    assert (tmp_path / "README.md").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    assert len(scaffold_files()) == len(TEMPLATES) + len(all_schemas())
    package_data = (REPO / "pyproject.toml").read_text()
    assert '"templates/init/*"' in package_data and '"templates/*.j2"' in package_data


def test_an_initialised_repository_plans_against_the_sandbox(repo: Repo) -> None:
    assert run("init", str(repo.root))[0] == 0
    repo.seed_list("AbC123", "VIP", ["bob@example.com"])
    connection = repo.config_dir / "connection.yaml"
    text = connection.read_text().replace("accepted: false", "accepted: true")
    text = text.replace("# accepted_by", "accepted_by").replace("# accepted_at", "accepted_at")
    connection.write_text(text)
    export = repo.config_dir / "export.yaml"
    export.write_text(export.read_text().replace("enabled: false", "enabled: true"))
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--format",
            "json",
            "--config-dir",
            str(repo.config_dir),
            "--base-url",
            repo.server.base_url,
            "--time-scale",
            str(SANDBOX_TIME_SCALE),
            "--state",
            str(repo.state),
        ],
        env={"KLAVIYO_MARKETING_API_KEY": SANDBOX_KEY},
    )
    assert result.exit_code == 0, result.output
    (plan,) = json.loads(result.stdout)["exports"]
    assert (plan["name"], plan["add"], plan["remove"], plan["current"]) == (
        "vip-to-klaviyo",
        2,
        1,
        1,
    )
