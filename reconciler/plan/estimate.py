"""Estimates of API calls and of the minimum duration Klaviyo's rate tiers allow.

Klaviyo counts fixed windows: a burst window of one second and a steady window of one minute.
The fastest schedule sends ``burst`` requests each second until the minute's ``steady`` allowance
is used, then waits for the next minute.
"""

from __future__ import annotations

import math

BULK_JOB_SIZE = 10_000
REMOVE_CHUNK = 1_000
PAGE_SIZE = 100
M_TIER = (10, 150)
L_TIER = (75, 750)


def fixed_window_seconds(requests: int, burst: int, steady: int) -> float:
    """Earliest time the last of ``requests`` calls may start, from the first call at t=0."""
    if requests <= 0:
        return 0.0
    last = requests - 1
    minute, within = divmod(last, steady)
    return float(minute * 60 + within // burst)


def apply_estimate(adds: int, removes: int) -> tuple[int, float]:
    """(calls, minimum seconds) to add ``adds`` by bulk import and remove ``removes`` by id."""
    jobs = math.ceil(adds / BULK_JOB_SIZE)
    deletes = math.ceil(removes / REMOVE_CHUNK)
    calls = jobs * 2 + deletes  # one POST and at least one status poll per job
    seconds = max(fixed_window_seconds(jobs, *M_TIER), fixed_window_seconds(deletes, *M_TIER))
    return calls, seconds


def read_estimate(members: int) -> tuple[int, float]:
    """(calls, minimum seconds) to read a list of ``members`` with its emails."""
    pages = max(1, math.ceil(members / PAGE_SIZE))
    return pages, fixed_window_seconds(pages, *L_TIER)
