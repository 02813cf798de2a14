"""Everything one sandbox app holds: accounts, limiter, faults, jobs and request statistics."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.datastructures import QueryParams

from reconciler.sandbox.clock import VirtualClock
from reconciler.sandbox.config import DEFAULT_STATUSES, SandboxConfig
from reconciler.sandbox.faults import FaultInjector, FaultSettings
from reconciler.sandbox.jobs import JobRunner
from reconciler.sandbox.ratelimit import RateLimiter
from reconciler.sandbox.store import Account, SandboxStore


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    bulk_profiles_received: int = 0
    bulk_jobs: int = 0
    subscription_jobs: int = 0
    subscriptions_pending: int = 0  # subscription jobs accepted and not yet carried out
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, endpoint: str) -> None:
        with self.lock:
            self.requests[endpoint] += 1

    def snapshot(self, faults: FaultInjector) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": dict(self.requests),
                "throttled": self.throttled,
                "bulk_profiles_received": self.bulk_profiles_received,
                "bulk_jobs": self.bulk_jobs,
                "faults_injected": faults.injected,
                "responses_dropped": faults.dropped,
                "after_effects": faults.after_effects,
                "subscription_jobs": self.subscription_jobs,
                "subscriptions_pending": self.subscriptions_pending,
            }


def initial_faults(config: SandboxConfig) -> FaultSettings:
    return FaultSettings(
        latency_ms=config.latency_ms, error_rate=config.fault_rate, statuses=DEFAULT_STATUSES
    )


class SandboxState:
    """The sandbox behind ``app.state.sandbox``."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = VirtualClock(config.time_scale)
        self.store = SandboxStore(config.api_keys)
        self.limiter = RateLimiter(self.clock, enabled=config.rate_limits)
        self.faults = FaultInjector(initial_faults(config))
        self.runner = JobRunner(self.store, self.clock, config.import_rate, config.count_lag)
        self.stats = Stats()
        self.noise = random.Random(config.noise_seed)

    def set_time_scale(self, time_scale: float) -> None:
        """Change the time scale of a running sandbox (its data, windows and jobs carry on):
        for example to seed and read at scale 10, then measure an apply in real time."""
        self.config = replace(self.config, time_scale=time_scale)
        self.clock.set_scale(time_scale)

    def reset(self) -> None:
        """Forget all data, counters, statistics and faults (back to the start-up settings)."""
        with self.store.lock:
            self.runner.reset()
            self.store.reset()
        self.limiter.reset()
        self.faults = FaultInjector(initial_faults(self.config))
        self.stats = Stats()


@dataclass
class RequestContext:
    """What an API handler gets: the caller's account, path parameters, query and JSON body."""

    state: SandboxState
    account: Account
    params: dict[str, str]
    query: QueryParams
    body: Any
    base: str
    url: str
