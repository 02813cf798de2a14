"""The command's process setup: allocator defaults and GC thresholds belong to the command,
not to the library (importing ``reconciler`` changes nothing in the process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from reconciler.cli.process import ALLOCATOR_DEFAULTS

_REPORT = (
    "import gc, json, os, sys; {setup}; "
    "print(json.dumps({{'env': {{k: os.environ.get(k) for k in {names!r}}}, "
    "'pyarrow': 'pyarrow' in sys.modules, 'gc': gc.get_threshold()[0]}}))"
)


def _run(setup: str, **env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if k not in ALLOCATOR_DEFAULTS}
    code = _REPORT.format(setup=setup, names=sorted(ALLOCATOR_DEFAULTS))
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    found: dict[str, object] = json.loads(out.stdout)
    return found


def test_importing_the_library_sets_nothing() -> None:
    found = _run("import reconciler, reconciler.engine.applying")
    assert found["env"] == {name: None for name in ALLOCATOR_DEFAULTS}


def test_the_command_sets_the_defaults_before_pyarrow_loads() -> None:
    setup = "from reconciler.cli.main import main; import reconciler.cli.process as p"
    setup += "; before = 'pyarrow' in sys.modules; p.prepare_process(); assert not before"
    found = _run(setup)
    assert found["env"] == ALLOCATOR_DEFAULTS
    assert found["gc"] == 50_000


def test_the_environment_wins() -> None:
    found = _run(
        "from reconciler.cli.process import prepare_process; prepare_process()",
        MIMALLOC_PURGE_DELAY="25",
    )
    assert found["env"] == {**ALLOCATOR_DEFAULTS, "MIMALLOC_PURGE_DELAY": "25"}


def test_python_dash_m_reconciler_runs_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "reconciler, version" in out.stdout
