"""The fault switch: latency, injected error statuses, dropped responses, a failing bulk job,
and writes that took effect and were then answered with an error (or no answer at all)."""

from __future__ import annotations

import random
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.sandbox.config import DEFAULT_STATUSES

INJECTABLE = frozenset({400, 401, 403, 404, 409, 429, 500, 502, 503, 504, 524})
AFTER_EFFECT = frozenset({500, 502, 503, 504, 524})
DROP = "drop"
AfterEffect = int | Literal["drop"]


class FaultSettings(BaseModel):
    """What ``PUT /_sandbox/faults`` accepts; every field defaults to "no fault"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: int = Field(0, ge=0, le=60_000)
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    statuses: tuple[int, ...] = DEFAULT_STATUSES
    retry_after: bool = True
    drop_rate: float = Field(0.0, ge=0.0, le=1.0)
    fail_next_bulk_job: bool = False
    seed: int | None = None
    max_injections: int | None = Field(None, ge=0)
    endpoints: tuple[str, ...] | None = None
    after_effect_rate: float = Field(0.0, ge=0.0, le=1.0)
    after_effect_statuses: tuple[AfterEffect, ...] = (504, 524)

    @field_validator("after_effect_statuses")
    @classmethod
    def _known_after_effects(cls, value: tuple[AfterEffect, ...]) -> tuple[AfterEffect, ...]:
        if not value:
            raise ValueError('give at least one status (or "drop")')
        unknown = sorted(str(v) for v in value if v != DROP and v not in AFTER_EFFECT)
        if unknown:
            choices = [*sorted(AFTER_EFFECT), DROP]
            raise ValueError(f"cannot answer a done write with {unknown}; choose from {choices}")
        return value

    @field_validator("statuses")
    @classmethod
    def _known_statuses(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("give at least one status")
        unknown = sorted(set(value) - INJECTABLE)
        if unknown:
            raise ValueError(f"cannot inject {unknown}; choose from {sorted(INJECTABLE)}")
        return value


class FaultInjector:
    """Decides, per request, whether to inject an error or drop the response."""

    def __init__(self, settings: FaultSettings) -> None:
        self._lock = threading.Lock()
        self.injected = 0
        self.dropped = 0
        self.after_effects = 0
        self._budget_used = 0
        self.settings = settings
        self._random = random.Random(settings.seed)
        self._fail_next_job = settings.fail_next_bulk_job

    def replace(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)
            self._fail_next_job = settings.fail_next_bulk_job
            self._budget_used = 0

    def error_status(self, endpoint: str) -> int | None:
        """A status to answer with instead of handling the request, or None."""
        settings = self.settings
        with self._lock:
            if not self._strikes(endpoint, settings.error_rate):
                return None
            self.injected += 1
            return self._random.choice(settings.statuses)

    def should_drop(self, endpoint: str) -> bool:
        with self._lock:
            if not self._strikes(endpoint, self.settings.drop_rate):
                return False
            self.dropped += 1
            return True

    def after_effect(self, endpoint: str) -> AfterEffect | None:
        """For a request that was carried out: a status (or ``"drop"``) to answer with instead
        of its success, or None to answer normally."""
        settings = self.settings
        if settings.after_effect_rate == 0.0:
            return None  # draw nothing: seeded sequences of the other faults stay as they were
        with self._lock:
            if not self._strikes(endpoint, settings.after_effect_rate):
                return None
            self.after_effects += 1
            return self._random.choice(settings.after_effect_statuses)

    def _strikes(self, endpoint: str, rate: float) -> bool:
        """Whether a fault drawn at ``rate`` strikes a request to ``endpoint`` (with the lock
        held); one that strikes uses up the budget."""
        if not self._applies(endpoint) or self._random.random() >= rate:
            return False
        self._budget_used += 1
        return True

    def take_job_failure(self) -> bool:
        """True once after ``fail_next_bulk_job`` was set: that job ends cancelled."""
        with self._lock:
            failing, self._fail_next_job = self._fail_next_job, False
            return failing

    def _applies(self, endpoint: str) -> bool:
        settings = self.settings
        if settings.endpoints is not None and endpoint not in settings.endpoints:
            return False
        return settings.max_injections is None or self._budget_used < settings.max_injections
