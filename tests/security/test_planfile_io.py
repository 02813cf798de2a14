"""Plan files on disk: written 0600 through an exclusive temporary file whatever sits next to
them, never through a symbolic link; read only from a regular file, and at most the limit."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconciler.errors import PlanFileError
from reconciler.plan.planfile import read_plan, write_plan
from tests.e2e.conftest import Harness
from tests.plan.factories import export_plan, plan_of

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_leftover_world_readable_tmp_file_does_not_make_the_plan_readable(
    tmp_path: Path,
) -> None:
    target = tmp_path / "plan.json"
    leftover = tmp_path / "plan.json.tmp"
    leftover.write_text("old")
    leftover.chmod(0o644)
    write_plan(plan_of(export_plan()), target)
    assert _mode(target) == 0o600
    assert read_plan(target).exports[0].name == "vip"
    assert leftover.read_text() == "old"  # not reused, not replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "plan.json.tmp"]


def test_a_planted_tmp_symlink_is_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    victim.chmod(0o644)
    (tmp_path / "plan.json.tmp").symlink_to(victim)
    write_plan(plan_of(export_plan()), tmp_path / "plan.json")
    assert victim.read_text() == "precious" and _mode(victim) == 0o644
    assert _mode(tmp_path / "plan.json") == 0o600


def test_a_symlinked_target_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "plan.json"
    link.symlink_to(victim)
    with pytest.raises(PlanFileError, match="symbolic link"):
        write_plan(plan_of(export_plan()), link)
    assert victim.read_text() == "precious"
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "victim.txt"]


def test_the_plan_file_is_0600_even_with_umask_0(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_plan(plan_of(export_plan()), tmp_path / "plan.json")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "plan.json") == 0o600


def test_plan_out_to_a_symlink_is_a_clean_error(harness: Harness, tmp_path: Path) -> None:
    ws = harness.workspace
    ws.write_members("vip", ["a.person@example.com"])
    ws.add_export("vip", "vip", "Y6nRLr")
    ws.write_config()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    result = harness.run("plan", "--out", str(link))
    assert result.exit_code != 0
    assert "symbolic link" in result.stderr and "Traceback" not in result.output
    assert victim.read_text() == "precious"


def _read_in_child(path: Path) -> subprocess.CompletedProcess[str]:
    """read_plan(path) in a child limited to 1 GiB of memory and 20 s (a regression must not
    take the test run down with it)."""
    code = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from pathlib import Path
        from reconciler.errors import PlanFileError
        from reconciler.plan.planfile import read_plan
        try:
            read_plan(Path({str(path)!r}))
        except PlanFileError as exc:
            print("refused:", exc)
            sys.exit(2)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, cwd=ROOT
    )


def test_a_device_is_refused_unread() -> None:
    result = _read_in_child(Path("/dev/zero"))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "not a regular file" in result.stdout


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    try:
        result = _read_in_child(fifo)
    except subprocess.TimeoutExpired:
        pytest.fail("reading a FIFO hung")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "not a regular file" in result.stdout


def test_apply_of_a_fifo_is_a_clean_error(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    command = [sys.executable, "-c", "from reconciler.cli.main import main; main()"]
    try:
        result = subprocess.run(
            [*command, "apply", str(fifo), "--yes", "--config-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("apply of a FIFO hung")
    assert result.returncode != 0
    assert "not a regular file" in result.stderr and "Traceback" not in result.stderr
