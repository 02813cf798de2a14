"""Estimates of API calls and of the minimum duration a destination's rate tiers allow.

The sizes and tiers come from the destination (its adapter's ``facts``). Rate limits are
counted in fixed windows: a burst window of one second and a steady window of one minute.
The fastest schedule sends ``burst`` requests each second until the minute's ``steady``
allowance is used, then waits for the next minute.
"""

from __future__ import annotations

import math

from reconciler.values import DestinationFacts, Rate


def fixed_window_seconds(requests: int, rate: Rate) -> float:
    """Earliest time the last of ``requests`` calls may start, from the first call at t=0."""
    if requests <= 0:
        return 0.0
    last = requests - 1
    minute, within = divmod(last, rate.steady)
    return float(minute * 60 + within // rate.burst)


def apply_estimate(adds: int, removes: int, facts: DestinationFacts) -> tuple[int, float]:
    """(calls, minimum seconds) to add ``adds`` by import jobs and remove ``removes`` by id."""
    jobs = math.ceil(adds / facts.job_size)
    deletes = math.ceil(removes / facts.remove_chunk)
    calls = jobs * 2 + deletes  # one POST and at least one status poll per job
    seconds = max(
        fixed_window_seconds(jobs, facts.write_rate),
        fixed_window_seconds(deletes, facts.write_rate),
    )
    return calls, seconds


def read_estimate(members: int, facts: DestinationFacts) -> tuple[int, float]:
    """(calls, minimum seconds) to read a list of ``members`` with its emails."""
    pages = max(1, math.ceil(members / facts.page_size))
    return pages, fixed_window_seconds(pages, facts.read_rate)
