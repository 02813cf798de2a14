"""Theoretical minimum seconds of each scenario, from the published rate limits (fixed windows)
and the sandbox's bulk import processing rate, divided by the time scale."""

from __future__ import annotations

import math

from reconciler.klaviyo.facts import FACTS
from reconciler.plan.estimate import fixed_window_seconds
from reconciler.sandbox.jobs import QUEUE_DELAY


def import_seconds(profiles: int, import_rate: float) -> float:
    """Earliest end of a bulk import of ``profiles``: jobs go out paced in the M tier (one per
    10,000 profiles) and the account's single import worker processes them one after another,
    each job waiting ``QUEUE_DELAY`` after its submission."""
    if profiles <= 0:
        return 0.0
    jobs = math.ceil(profiles / FACTS.job_size)
    last_job = profiles - (jobs - 1) * FACTS.job_size
    processing = QUEUE_DELAY + profiles / import_rate
    last_post = fixed_window_seconds(jobs, FACTS.write_rate) + QUEUE_DELAY + last_job / import_rate
    return max(processing, last_post)


def removal_seconds(removes: int) -> float:
    """Earliest start of the last removal call (1,000 profile ids per call, M tier)."""
    return fixed_window_seconds(math.ceil(removes / FACTS.remove_chunk), FACTS.write_rate)


def apply_minimum(adds: int, removes: int, import_rate: float, scale: float) -> float:
    """Removals and imports use separate rate buckets: the slower of the two bounds an apply."""
    return max(import_seconds(adds, import_rate), removal_seconds(removes)) / scale


def read_minimum(members: int, scale: float) -> float:
    """A full read: one call per 100-member page plus one for the newest member (L tier)."""
    pages = max(1, math.ceil(members / FACTS.page_size))
    return fixed_window_seconds(pages + 1, FACTS.read_rate) / scale
