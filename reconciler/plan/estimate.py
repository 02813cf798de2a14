"""Estimates of API calls and of the minimum duration a destination's rate tiers allow.

The sizes and tiers come from the destination (its adapter's ``facts``). Rate limits are
counted in fixed windows: a burst window of one second and a steady window of one minute.
The fastest schedule sends ``burst`` requests each second until the minute's ``steady``
allowance is used, then waits for the next minute.

An apply's seconds also count the destination's import processing (adds and updates are both
imported), a range from the destination's declared ``import_rate``: the fastest figure gives
the low end, the slowest the high end.
"""

from __future__ import annotations

import math

from reconciler.plan.model import Estimate
from reconciler.values import DestinationFacts, Rate


def fixed_window_seconds(requests: int, rate: Rate) -> float:
    """Earliest time the last of ``requests`` calls may start, from the first call at t=0."""
    if requests <= 0:
        return 0.0
    last = requests - 1
    minute, within = divmod(last, rate.steady)
    return float(minute * 60 + within // rate.burst)


def apply_estimate(imports: int, removes: int, facts: DestinationFacts) -> Estimate:
    """Calls and seconds (a range) to import ``imports`` profiles (adds and updates) by import
    jobs and remove ``removes`` by id: the rate tiers' minimum plus the import processing."""
    jobs = math.ceil(imports / facts.job_size)
    deletes = math.ceil(removes / facts.remove_chunk)
    calls = jobs * 2 + deletes  # one POST and at least one status poll per job
    submit = fixed_window_seconds(jobs, facts.write_rate)
    removal = fixed_window_seconds(deletes, facts.write_rate)
    rate = facts.import_rate
    if rate is None or imports == 0:
        return Estimate(calls=calls, seconds=max(submit, removal))
    # tenths of a second: an estimate, and no long digit run for the masking to mistake
    return Estimate(
        calls=calls,
        seconds=round(max(submit + imports / rate.high, removal), 1),
        seconds_high=round(max(submit + imports / rate.low, removal), 1),
    )


def read_estimate(members: int, facts: DestinationFacts) -> tuple[int, float]:
    """(calls, minimum seconds) to read a list of ``members`` with its emails."""
    pages = max(1, math.ceil(members / facts.page_size))
    return pages, fixed_window_seconds(pages, facts.read_rate)
