"""Every list of an account (GET /api/lists, 10 per page), paced and paged like every read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx

from reconciler.klaviyo import endpoints as ep
from reconciler.klaviyo.jsonapi import attributes, data_list, document, next_link, parse_time
from reconciler.klaviyo.transport import Sender

PAGE_SIZE = 10  # the most GET /api/lists returns per page


@dataclass(frozen=True, slots=True)
class AccountList:
    """One list of the account; ``profile_count`` is None when it was not asked for."""

    id: str
    name: str
    created: dt.datetime | None
    profile_count: int | None = None


async def read_lists(sender: Sender, base_url: str) -> list[AccountList]:
    """Every list of the account, following ``links.next`` until the last page."""
    path = ep.GET_LISTS.path()
    params: dict[str, str | int] = {
        "fields[list]": "name,created",
        "sort": "created",
        "page[size]": PAGE_SIZE,
    }
    found: list[AccountList] = []
    url: httpx.URL | None = None
    while True:
        response = await sender.request(ep.GET_LISTS, path, params=params, url=url)
        body = document(response, "GET", path)
        found.extend(_list_of(item) for item in data_list(body))
        url = next_link(body, base_url)
        if url is None:
            return found


def _list_of(resource: dict[str, object]) -> AccountList:
    attrs = attributes(resource)
    return AccountList(
        id=str(resource.get("id")),
        name=str(attrs.get("name") or ""),
        created=parse_time(attrs.get("created")),
    )
