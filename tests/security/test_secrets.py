"""Neither the API key nor any full email address reaches an output stream, a rendered plan,
the journal or an error message; only the ``--out`` plan file (and the membership cache, which
is documented personal data) hold addresses."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.demo import DEMO_KEY
from reconciler.plan.model import ROW_KINDS
from reconciler.plan.planfile import read_plan
from tests.e2e.conftest import Harness
from tests.e2e.workspace import TEST_KEY, emails
from tests.plan.planbytes import split_file
from tests.security.scan import assert_clean, journal_dump, leaks

ROOT = Path(__file__).resolve().parents[2]
KNOWN = emails("secret.person", 60)


def test_demo_outputs_hold_no_key_and_no_address() -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--profiles", "300", "--config-dir", str(ROOT / "exports")]
    )
    assert result.exit_code == 0, result.output
    assert "all lists match their segments" in result.stdout
    assert "@" in result.stdout  # masked samples are shown ...
    assert_clean([("demo stdout", result.stdout), ("demo stderr", result.stderr)], DEMO_KEY)


def test_plan_apply_runs_and_errors_hold_no_key_and_no_address(
    harness: Harness, tmp_path: Path
) -> None:
    ws = harness.workspace
    harness.server.admin.seed("Y6nRLr", KNOWN[:20] + emails("leaver", 5))
    ws.write_rows(
        "vip",
        [{"email": e, "first_name": "Ann"} for e in KNOWN]
        + [{"email": "not-an-address", "first_name": "Bad"}, {"email": "x@@y", "first_name": "Z"}],
    )
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.add_export("ghost", "vip", "Nope00")  # a failing export: its error message is scanned
    ws.write_config()
    outputs: list[tuple[str, str]] = []

    def run(*args: str) -> None:
        result = harness.run(*args)
        assert "Traceback" not in result.output
        outputs.extend(
            [(f"{args[:2]} stdout", result.stdout), (f"{args[:2]} stderr", result.stderr)]
        )

    for fmt in ("text", "json", "markdown"):
        run("plan", "--format", fmt)
    planfile = tmp_path / "plan.json"
    run("plan", "--out", str(planfile))
    run("apply", "--yes", "--actor", "secrets-test")
    run("apply", str(planfile), "--yes", "--actor", "secrets-test")  # stale now: an error
    run("runs", "--format", "json", "--state", str(harness.state))
    run("runs", "--state", str(harness.state))
    ws.write_rows("vip", [{"email": "only.this.one@example.com", "first_name": "Ann"}])
    run("apply", "--yes", "--actor", "secrets-test")  # blocked by the removal guard
    run("validate")
    outputs.append(("journal", journal_dump(harness.state)))
    assert_clean(outputs, TEST_KEY)
    assert harness.members("Y6nRLr") == set(KNOWN)
    # the positive control: the plan file does hold the addresses (written owner-only; as
    # compressed columns after a JSON header, which holds none)
    header, _ = split_file(planfile.read_bytes())
    assert header["exports"] and not leaks(json.dumps(header), TEST_KEY)
    saved = read_plan(planfile)
    members = "\n".join(
        str(getattr(e, kind).table.to_pylist()) for e in saved.exports for kind in ROW_KINDS
    )
    assert set(KNOWN[20:]) <= set(leaks(members, TEST_KEY))
    assert TEST_KEY not in members


def test_the_scanner_finds_what_it_must_and_spares_masked_samples() -> None:
    assert leaks("sent to jane.doe@example.com today", "k") == ["jane.doe@example.com"]
    assert leaks("samples: j***@example.com, a***@example.org", "k") == []
    assert leaks(f"key={TEST_KEY}", TEST_KEY) == ["<the API key>"]
