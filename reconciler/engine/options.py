"""Options of one plan or apply run, as given on the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RunOptions:
    config_dir: Path = Path("exports")
    exports: tuple[str, ...] = ()
    force: bool = False
    readd_departed: bool = False  # plan as if every export said external_removals: readd
    refresh: bool = False
    base_url: str | None = None
    time_scale: float = 1.0
    state_url: str | None = None
    state_root: Path = Path(".")
    actor: str | None = None
    lock_timeout: float = 60.0
    base_ref: str | None = None
    due_only: bool = False
    job_timeout: float = 1800.0  # seconds to wait for import jobs another integration started
    max_wait: float = 120.0  # seconds: the longest single wait before a retry (Retry-After)
    env: dict[str, str] = field(default_factory=dict)
