"""Creating a list without ever creating two: a create whose answer was lost (a dropped
connection, or 503/504/524, which can come after the list was made) is looked up by its name
and creation time before it is sent again."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from reconciler.klaviyo.endpoints import CREATE_LIST, GET_LISTS
from reconciler.klaviyo.errors import KlaviyoError, ResponseLostError
from reconciler.klaviyo.jsonapi import attributes, data_list, data_object, document, encode
from reconciler.klaviyo.models import KlaviyoList
from reconciler.klaviyo.transport.sender import Sender

CLOCK_SKEW = dt.timedelta(seconds=10)


class ListCreator:
    """``POST /api/lists``, at most once per list actually created."""

    def __init__(self, sender: Sender, max_attempts: int) -> None:
        self._sender = sender
        self._max_attempts = max(1, max_attempts)

    async def create(self, name: str) -> KlaviyoList:
        path = CREATE_LIST.path()
        payload = {"data": {"type": "list", "attributes": {"name": name}}}
        since = dt.datetime.now(dt.UTC)
        for _ in range(self._max_attempts):
            try:
                response = await self._sender.request(
                    CREATE_LIST, path, body=encode(payload), idempotent=False
                )
            except ResponseLostError:
                found = await self.created_since(name, since)
                if found is not None:
                    return found
                continue
            return list_from(data_object(document(response, "POST", path)))
        raise KlaviyoError(
            f"creating the list failed after {self._max_attempts} attempts (no list of that "
            "name was created)",
            method="POST",
            path=path,
            hint="check Klaviyo's status page, then run again",
        )

    async def created_since(self, name: str, since: dt.datetime) -> KlaviyoList | None:
        """The list named ``name`` created since ``since`` (less clock skew), if one is."""
        after = (since - CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")
        quoted = json.dumps(name, ensure_ascii=False)
        params = {
            "filter": f"equals(name,{quoted}),greater-than(created,{after})",
            "sort": "-created",
        }
        path = GET_LISTS.path()
        response = await self._sender.request(GET_LISTS, path, params=params)
        found = [list_from(item) for item in data_list(document(response, "GET", path))]
        if len(found) > 1:
            raise KlaviyoError(
                f"{len(found)} lists with that name were created in the last minutes; the "
                "client cannot tell which one its lost request made",
                method="POST",
                path=CREATE_LIST.path(),
                hint="keep one of them in Klaviyo (delete the others), then run again",
            )
        return found[0] if found else None


def list_from(resource: dict[str, Any]) -> KlaviyoList:
    attrs = attributes(resource)
    count = attrs.get("profile_count")
    return KlaviyoList(
        id=str(resource.get("id")),
        name=str(attrs.get("name") or ""),
        profile_count=int(count) if isinstance(count, int) else None,
    )
