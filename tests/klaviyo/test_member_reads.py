"""Full reads of lists that joined in bursts or in one instant: every member exactly once, read
from both ends, with as many pages in flight as the latency needs."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from urllib.parse import parse_qs

import httpx

from reconciler.klaviyo import KlaviyoClient, Pacer
from reconciler.klaviyo.ranges import MS, Chain, Rows, Segment, whole_list
from tests.klaviyo.support import BASE, KEY, Recorder, client_for, emails, sandbox_app, seed
from tests.klaviyo.test_member_columns import seed_without_email


def _sorts(recorder: Recorder) -> Counter[str]:
    return Counter(
        parse_qs(s.query).get("sort", ["?"])[0]
        for s in recorder.sent
        if s.path.endswith("/profiles")
    )


def _filters(recorder: Recorder) -> list[str]:
    return [
        parse_qs(s.query)["filter"][0]
        for s in recorder.sent
        if s.path.endswith("/profiles") and "filter" in parse_qs(s.query)
    ]


async def test_one_instant_is_read_from_both_ends_each_member_once() -> None:
    app = sandbox_app(datetime_filters="documented", latency_ms=2)  # pages overlap in time
    await seed(app, "One001", emails("o", 3_000))  # one seed call: one join instant
    await seed_without_email(app, "One001", 5)
    client, recorder = client_for(app)
    pages: list[int] = []
    async with client:
        columns = await client.read_member_columns("One001", on_page=pages.append)
    assert sorted(columns.emails.to_pylist()) == sorted(emails("o", 3_000))
    assert len(set(columns.profile_ids.to_pylist())) == 3_000
    assert columns.without_email == 5 and sum(pages) == 3_005
    sorts = _sorts(recorder)
    # 31 pages in all; each end walks about half of them (one cursor alone would walk 31)
    assert 10 <= sorts["joined_group_at"] <= 20 and 10 <= sorts["-joined_group_at"] <= 20
    assert sum(sorts.values()) <= 31 + 2


async def test_bursts_are_split_apart_and_read_exactly() -> None:
    app = sandbox_app(datetime_filters="documented", latency_ms=2)
    addresses = emails("b", 10_000)
    for burst in range(10):  # ten bulk imports, each its own instant, some time apart
        await seed(app, "Bur001", addresses[burst * 1_000 : (burst + 1) * 1_000])
        await asyncio.sleep(0.003 * (burst % 3 + 1))
    client, recorder = client_for(app)
    pages: list[int] = []
    async with client:
        members = await client.read_members("Bur001", on_page=pages.append)
    assert sorted(m.email for m in members) == sorted(addresses)
    assert len({m.profile_id for m in members}) == 10_000 and sum(pages) == 10_000
    ranged = [f for f in _filters(recorder) if "greater-or-equal" in f]
    assert len(set(ranged)) >= 10  # the bursts got segments of their own
    sorts = _sorts(recorder)
    assert sorts["-joined_group_at"] >= 10
    assert sum(sorts.values()) <= 100 + 40  # 100 full pages and a few meeting points


async def test_filters_name_milliseconds_and_incremental_reads_stay_exact() -> None:
    # the sandbox's default refuses microsecond filters, as Klaviyo documents only ms
    app = sandbox_app(datetime_filters="documented")
    await seed(app, "Inc001", emails("i", 2_500), batches=25)
    client, recorder = client_for(app)
    async with client:
        first = await client.read_members("Inc001")
        cutoff = max(m.joined_at for m in first)
        await seed(app, "Inc001", emails("j", 450), batches=3)
        newer = await client.read_members("Inc001", joined_after=cutoff)
        odd = cutoff - dt.timedelta(microseconds=1)  # not a whole millisecond
        around = await client.read_members("Inc001", joined_after=odd)
    assert len(first) == 2_500 and {m.email for m in newer} == set(emails("j", 450))
    # from the next whole millisecond on: cutoff's own millisecond is not read again
    assert {m.email for m in around} == set(emails("j", 450))
    stamps = [s for f in _filters(recorder) for s in re.findall(r"\d{4}-[^,)]+", f)]
    assert stamps and all(re.fullmatch(r"[\d-]{10}T\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps)


class _InFlight(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.now = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_enough_pages_in_flight_for_the_latency() -> None:
    app = sandbox_app(latency_ms=40)
    await seed(app, "Lat002", emails("l", 20_000), batches=200)
    counter = _InFlight(httpx.ASGITransport(app=app))
    client = KlaviyoClient(
        KEY, base_url=BASE, transport=counter, time_scale=60.0, pacer=Pacer(60.0)
    )
    async with client:
        members = await client.read_members("Lat002")
    assert len({m.profile_id for m in members}) == 20_000
    # 4,500 pages/s at this time scale, 40 ms each: more than the 16 general request slots
    assert counter.most > 16


def _rows(ids: Sequence[int], joined: int) -> Rows:
    names = [f"P{i}" for i in ids]
    return Rows(names, [joined] * len(names), [f"{n}@x.com" for n in names])


def test_chains_at_one_instant_meet_where_their_pages_overlap() -> None:
    segment = whole_list()
    up, down = segment.up, segment.down
    taken: list[str] = []
    order = list(range(250))  # the API's order of 250 members who share one join time
    start, end = 0, len(order)
    turn = 0
    while not segment.done:
        chain = up if turn % 2 == 0 else down
        if chain is up:
            page = order[start : start + 100]
            start += 100
        else:
            page = list(reversed(order[max(0, end - 100) : end]))
            end -= 100
        kept, finished = chain.accept(_rows(page, 5_000), segment.partner(chain), True)
        taken += kept.ids
        segment.done = finished
        turn += 1
    assert sorted(taken) == sorted(f"P{i}" for i in order) and len(taken) == 250


def test_a_split_cuts_on_a_whole_millisecond_and_tightens_both_chains() -> None:
    up = Chain(False, 0, 10 * MS, 10 * MS, 1_234, started=True)
    down = Chain(True, 0, 10 * MS, 0, 8_765, started=True)
    segment = Segment(up, down)
    assert segment.gap() == 8_765 - 1_234
    upper = segment.split()
    cut = upper.up.lo
    assert cut is not None and cut % MS == 0 and 1_234 < cut <= 8_765
    assert up.limit == cut and down.limit == cut and upper.down is down
    assert segment.down.hi == cut and upper.up.hi == 8_766
    assert upper.gap() == 0  # its new chain has read nothing yet: where it starts is a guess
    alone = Segment(
        Chain(False, 0, MS, MS, 2_100, started=True), Chain(True, 0, MS, 0, 2_900, started=True)
    )
    assert alone.gap() == 0  # no millisecond between them: read from both ends, not split


def test_an_api_whose_ties_are_not_reversed_is_still_read_completely() -> None:
    """If ``-joined_group_at`` walked members of one instant in the same order as
    ``joined_group_at`` (not the reverse), the meet rule would drop members neither chain read:
    the first meet shows it, and both chains read the instant through."""
    segment = whole_list()
    up, down = segment.up, segment.down
    order = list(range(250))
    taken: list[str] = []
    pages = {up: [order[i : i + 100] for i in range(0, 250, 100)]}
    pages[down] = [order[i : i + 100] for i in range(0, 250, 100)]  # same order, not reversed
    for chain in (up, down, up, down, up, down):
        if segment.done or not pages[chain]:
            continue
        page = pages[chain].pop(0)
        kept, finished = chain.accept(
            _rows(page, 5_000), segment.partner(chain), bool(pages[chain])
        )
        taken += kept.ids
        segment.done = finished
    assert not segment.ties_reversed
    assert set(taken) == {f"P{i}" for i in order}  # repeats are dropped when the read ends
