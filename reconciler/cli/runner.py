"""Builds engine options from command-line values and opens the state backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.engine.options import RunOptions


def run_options_from(config_dir: Path, state_url: str | None, **values: Any) -> RunOptions:
    """RunOptions from the shared options of ``plan`` and ``apply``."""
    return RunOptions(
        config_dir=config_dir,
        exports=tuple(values.get("exports") or ()),
        force=bool(values.get("force")),
        refresh=bool(values.get("refresh")),
        base_url=values.get("base_url"),
        time_scale=float(values.get("time_scale") or 1.0),
        state_url=state_url,
        actor=values.get("actor"),
        lock_timeout=float(values.get("lock_timeout") or 60.0),
        base_ref=values.get("base_ref"),
        due_only=bool(values.get("due")),
    )
