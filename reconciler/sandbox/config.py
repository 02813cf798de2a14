"""Sandbox settings and the published rate-limit tiers of every endpoint it serves."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import ReconcilerError

DEFAULT_KEY = "sandbox-key"
DEFAULT_STATUSES = (429, 500, 503)
SLICE_REVISION = "2026-07-15"  # the revision of the OpenAPI slices the sandbox implements
# The newest revision Klaviyo has published that the sandbox knows of (the official SDK v25 sends
# it; developers.klaviyo.com lists it as current stable). Revisions are release dates, since 2023
# always the 15th; a few early ones were not. A revision Klaviyo never published is refused
# ("the revision passed in must be a valid revision", API versioning and deprecation policy).
NEWEST_REVISION = "2026-10-15"
EARLY_REVISIONS = frozenset({"2022-10-17", "2023-01-24", "2023-02-22"})
JOB_TTL = 7 * 86_400.0  # virtual seconds a bulk import job can be read after it was created
AUTH_ERRORS = ("current", "legacy")
DATETIME_FILTERS = ("documented", "any-iso")


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
    job_ttl: float = JOB_TTL
    l_steady: int = L.steady
    remaining_noise: float = 0.05
    noise_seed: int | None = None
    count_lag: float = 0.0
    auth_errors: str = "current"
    datetime_filters: str = "documented"
    double_opt_in: tuple[str, ...] = ()
    key_scopes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def scopes_of(self, key: str) -> frozenset[str] | None:
        """The scopes granted to ``key``; None: every scope (a full-access key)."""
        for named, scopes in self.key_scopes:
            if named == key:
                return frozenset(scopes)
        return None

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
        self._check_fidelity_settings(set(keys))

    def _check_fidelity_settings(self, keys: set[str]) -> None:
        if self.job_ttl <= 0:
            raise SandboxError(f"job_ttl must be > 0 seconds, got {self.job_ttl}")
        if self.l_steady < 1:
            raise SandboxError(f"l_steady must be >= 1 request per minute, got {self.l_steady}")
        if not 0.0 <= self.remaining_noise < 1.0:
            raise SandboxError(f"remaining_noise must be in [0, 1), got {self.remaining_noise}")
        if self.count_lag < 0:
            raise SandboxError(f"count_lag must be >= 0 seconds, got {self.count_lag}")
        if self.auth_errors not in AUTH_ERRORS:
            raise SandboxError(
                f"auth_errors must be one of {AUTH_ERRORS}, got {self.auth_errors!r}"
            )
        if self.datetime_filters not in DATETIME_FILTERS:
            raise SandboxError(
                f"datetime_filters must be one of {DATETIME_FILTERS}, got {self.datetime_filters!r}"
            )
        unknown = sorted({key for key, _ in self.key_scopes} - keys)
        if unknown:
            raise SandboxError(
                f"key_scopes (--key-scopes) names {len(unknown)} key(s) the sandbox was not "
                "given (add them with --api-key)"
            )
