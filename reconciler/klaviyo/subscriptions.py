"""Consent subscriptions: read profiles' marketing consent, and subscribe profiles.

Reads use ``GET /api/profiles?additional-fields[profile]=subscriptions`` (100 emails a call,
L tier); subscribing uses ``POST /api/profile-subscription-bulk-create-jobs`` (at most 1,000
profiles a job, its own L-tier bucket; scopes ``subscriptions:write`` and more). Subscribing
lifts UNSUBSCRIBE, SPAM_COMPLAINT and USER_SUPPRESSED suppressions: the engine decides who may
be subscribed, from what :func:`read_consents` returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from reconciler.klaviyo import endpoints as ep
from reconciler.klaviyo.errors import KlaviyoHTTPError
from reconciler.klaviyo.facts import LOOKUP_SIZE, SUBSCRIBE_SIZE
from reconciler.klaviyo.jsonapi import (
    attributes,
    data_list,
    document,
    encode,
    next_link,
    parse_time,
    quoted_list,
)
from reconciler.klaviyo.transport import Sender
from reconciler.values import ChannelConsent, Subscription

# suppressions a person chose (or a user set): a subscription would lift them
CHOSEN = frozenset({"UNSUBSCRIBE", "SPAM_COMPLAINT", "SPAM_REPORT", "USER_SUPPRESSED"})
SCOPE_HINT = (
    "the API key needs the scopes subscriptions:write, profiles:write and lists:write to "
    "subscribe profiles: create a key with them in Klaviyo (Settings > API keys)"
)

Consents = dict[str, dict[str, ChannelConsent]]


async def read_consents(sender: Sender, base_url: str, emails: Sequence[str]) -> Consents:
    """email -> channel -> consent, for those of ``emails`` that have a profile."""
    batches = [emails[i : i + LOOKUP_SIZE] for i in range(0, len(emails), LOOKUP_SIZE)]
    found: Consents = {}
    for part in await asyncio.gather(*(_read(sender, base_url, b) for b in batches)):
        found.update(part)
    return found


async def _read(sender: Sender, base_url: str, emails: Sequence[str]) -> Consents:
    path = ep.GET_PROFILES.path()
    params: dict[str, str | int] = {
        "filter": f"any(email,{quoted_list(list(emails))})",
        "fields[profile]": "email",
        "additional-fields[profile]": "subscriptions",
        "page[size]": LOOKUP_SIZE,
    }
    found: Consents = {}
    url: httpx.URL | None = None
    while True:
        body = document(
            await sender.request(ep.GET_PROFILES, path, params=params, url=url), "GET", path
        )
        for item in data_list(body):
            attrs = attributes(item)
            email = attrs.get("email")
            if isinstance(email, str):
                found[email.strip().lower()] = channel_consents(attrs.get("subscriptions"))
        url = next_link(body, base_url)
        if url is None:
            return found


def channel_consents(subscriptions: object) -> dict[str, ChannelConsent]:
    """The email and sms marketing consent of a profile's ``subscriptions`` attribute."""
    out: dict[str, ChannelConsent] = {}
    if not isinstance(subscriptions, Mapping):
        return out
    for channel in ("email", "sms"):
        marketing = _marketing(subscriptions.get(channel))
        if marketing is None:
            continue
        suppressions = marketing.get("suppression") or []
        chosen = [
            (parse_time(s.get("timestamp")), str(s.get("reason")))
            for s in suppressions
            if isinstance(s, Mapping) and str(s.get("reason")) in CHOSEN
        ]
        dated = [(at, reason) for at, reason in chosen if at is not None]
        newest = max(dated, default=None)
        if chosen and newest is None:  # a suppression without a time: treat it as the newest
            newest = (dt.datetime.max.replace(tzinfo=dt.UTC), chosen[0][1])
        out[channel] = ChannelConsent(
            consent=str(marketing.get("consent") or "NEVER_SUBSCRIBED"),
            changed_at=parse_time(marketing.get("consent_timestamp")),
            suppressed_at=newest[0] if newest else None,
            suppression=newest[1] if newest else None,
        )
    return out


def _marketing(channel: object) -> Mapping[str, Any] | None:
    if not isinstance(channel, Mapping):
        return None
    marketing = channel.get("marketing")
    return marketing if isinstance(marketing, Mapping) else None


async def subscribe(
    sender: Sender, list_id: str, items: Sequence[Subscription], *, historical: bool
) -> int:
    """Submit subscription jobs for ``items`` (1,000 a job, concurrent); how many were sent.
    A 403 (the key lacks ``subscriptions:write``) says which scopes are needed."""
    chunks = [items[i : i + SUBSCRIBE_SIZE] for i in range(0, len(items), SUBSCRIBE_SIZE)]

    async def send(chunk: Sequence[Subscription]) -> int:
        path = ep.SUBSCRIBE_JOB.path()
        try:
            await sender.request(
                ep.SUBSCRIBE_JOB, path, body=encode(subscription_body(list_id, chunk, historical))
            )
        except KlaviyoHTTPError as exc:
            if exc.status == 403:
                exc.hint = SCOPE_HINT
            raise
        return len(chunk)

    return sum(await asyncio.gather(*(send(chunk) for chunk in chunks)))


def subscription_body(
    list_id: str, items: Sequence[Subscription], historical: bool
) -> dict[str, object]:
    """The JSON:API body of one subscription job (bulk_subscribe_profiles.json)."""
    profiles = [_profile(item, historical) for item in items]
    attrs: dict[str, object] = {"profiles": {"data": profiles}, "custom_source": "reconciler"}
    if historical:
        attrs["historical_import"] = True
    return {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": attrs,
            "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
        }
    }


def _profile(item: Subscription, historical: bool) -> dict[str, object]:
    marketing: dict[str, object] = {"consent": "SUBSCRIBED"}
    if historical and item.consented_at is not None:
        marketing["consented_at"] = item.consented_at.astimezone(dt.UTC).isoformat()
    channels: dict[str, object] = {}
    for channel in item.channels:
        channels[channel] = {"marketing": dict(marketing)}
    attrs: dict[str, object] = {"email": item.email, "subscriptions": channels}
    if item.phone_number is not None and "sms" in item.channels:
        attrs["phone_number"] = item.phone_number
    return {"type": "profile", "attributes": attrs}
