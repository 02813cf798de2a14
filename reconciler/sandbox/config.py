"""Sandbox settings and the published rate-limit tiers of every endpoint it serves."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import ReconcilerError

DEFAULT_KEY = "sandbox-key"
DEFAULT_STATUSES = (429, 500, 503)


class SandboxError(ReconcilerError):
    """The sandbox was configured wrongly or could not start."""


@dataclass(frozen=True)
class Tier:
    """A rate-limit tier: ``burst`` requests per second and ``steady`` per minute."""

    name: str
    burst: int
    steady: int


XS = Tier("XS", 1, 15)
S = Tier("S", 3, 60)
M = Tier("M", 10, 150)
L = Tier("L", 75, 750)

LIST_CREATIONS_PER_DAY = 150


@dataclass(frozen=True)
class SandboxConfig:
    """How a sandbox behaves.

    ``time_scale`` N makes every rate window and every job delay N times shorter (see
    ``reconciler.sandbox.clock``); ``import_rate`` is how many bulk-imported profiles the
    sandbox processes per (unscaled) second, per account.
    """

    api_keys: tuple[str, ...] = (DEFAULT_KEY,)
    time_scale: float = 1.0
    rate_limits: bool = True
    latency_ms: int = 0
    fault_rate: float = 0.0
    import_rate: float = 10_000.0

    @property
    def accounts(self) -> tuple[tuple[str, ...], ...]:
        """The keys of each account: an ``api_keys`` entry ``"pk_a,pk_b"`` is one account with
        two keys (they share its data and its rate limits, as on Klaviyo)."""
        return tuple(tuple(entry.split(",")) for entry in self.api_keys)

    def __post_init__(self) -> None:
        if not self.api_keys:
            raise SandboxError("the sandbox needs at least one API key")
        keys = [key for group in self.accounts for key in group]
        if any(not key or key != key.strip() for key in keys):
            raise SandboxError("API keys must be non-empty and carry no surrounding spaces")
        if len(set(keys)) != len(keys):
            raise SandboxError("API keys must be unique (each entry is its own account)")
        if self.time_scale <= 0:
            raise SandboxError(f"time_scale must be > 0, got {self.time_scale}")
        if self.latency_ms < 0:
            raise SandboxError(f"latency_ms must be >= 0, got {self.latency_ms}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise SandboxError(f"fault_rate must be between 0 and 1, got {self.fault_rate}")
        if self.import_rate <= 0:
            raise SandboxError(f"import_rate must be > 0, got {self.import_rate}")
