"""Consent subscriptions: who may be subscribed, and who must not be.

Subscribing lifts a profile's unsubscribe and suppressions, so a profile is subscribed only
when its row consents and Klaviyo holds no newer opt-out: with a consented-at column, an
unsubscribe or suppression later than (or at) the consent skips the profile; without one,
any unsubscribe or suppression does. Profiles the reconciler already subscribed are not
candidates again (the state remembers); the others are checked against Klaviyo at every plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.emails import mask_email
from reconciler.lookup import PIECE
from reconciler.models import Subscribe
from reconciler.sources.data import SegmentData
from reconciler.state.sent import SUBSCRIBED, SentRows, pieces_of
from reconciler.values import ChannelConsent

SAMPLES = 5
UNSUBSCRIBED_AFTER = "unsubscribed or suppressed after consent"
OPTED_OUT = "unsubscribed or suppressed (no consented_at_column to compare with)"
NO_MOMENT = "no consent time in consented_at_column"
FUTURE = "consent time in the future (historical_import needs a past one)"
NO_PHONE = "no phone number for sms"


@dataclass(frozen=True)
class Candidate:
    email: str
    consented_at: dt.datetime | None
    phone_number: str | None


@dataclass
class Decisions:
    """What the plan will do with each candidate."""

    subscribe: dict[str, tuple[str, ...]] = field(default_factory=dict)  # email -> channels
    consented_at: dict[str, dt.datetime] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    already: dict[str, tuple[str, ...]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def skip(self, email: str, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.samples) < SAMPLES:
            self.samples.append(f"{mask_email(email)} ({reason})")


def candidates(
    subscribe: Subscribe, segment: SegmentData, sent: pa.Table | SentRows | None
) -> list[Candidate]:
    """Consenting rows not yet subscribed (by the reconciler) to every channel asked for."""
    consent = segment.consent
    if consent is None or segment.email_array is None:
        return []
    positions = consent.consenting()
    if not positions:
        return []
    emails: list[str] = segment.email_array.take(pa.array(positions)).to_pylist()
    done = _done(sent, subscribe.channels)
    keep = [i for i, e in enumerate(emails) if e not in done]
    emails = [emails[i] for i in keep]
    moments = consent.moments([positions[i] for i in keep])
    phones = _phones(segment, emails) if "sms" in subscribe.channels else {}
    return [Candidate(e, m, phones.get(e)) for e, m in zip(emails, moments, strict=True)]


def _done(sent: pa.Table | SentRows | None, channels: Sequence[str]) -> set[str]:
    """The emails the reconciler subscribed to every channel of ``channels``."""
    names = [SUBSCRIBED + c for c in channels]
    found: set[str] = set()
    for piece in pieces_of(sent, PIECE):
        if any(n not in piece.column_names for n in names):
            continue  # none of these rows was subscribed to every channel
        done = None
        for name in names:
            flags = piece[name].combine_chunks().fill_null(False)
            done = flags if done is None else pc.and_(done, flags)
        emails = piece["email"].filter(done)  # a replaced or forgotten row's email is null
        found.update(emails.drop_null().to_pylist())
    return found


def _phones(segment: SegmentData, emails: list[str]) -> dict[str, str]:
    fields = segment.properties
    fields_for = getattr(fields, "fields_for", None)
    records = fields_for(emails) if fields_for else {e: fields.get(e) or {} for e in emails}
    return {e: str(r["phone_number"]) for e, r in records.items() if r and r.get("phone_number")}


def decide(
    subscribe: Subscribe,
    found: Sequence[Candidate],
    consents: Mapping[str, Mapping[str, ChannelConsent]],
    now: dt.datetime,
) -> Decisions:
    """Subscribe, count as already subscribed, or skip (with the reason) each candidate."""
    out = Decisions()
    for candidate in found:
        channels: list[str] = []
        already: list[str] = []
        reason = ""
        for channel in subscribe.channels:
            why = _blocked(
                subscribe, candidate, consents.get(candidate.email, {}).get(channel), channel, now
            )
            if why == "already":
                already.append(channel)
            elif why:
                reason = reason or why
            else:
                channels.append(channel)
        if already:
            out.already[candidate.email] = tuple(already)
        if channels:
            out.subscribe[candidate.email] = tuple(channels)
            if candidate.consented_at is not None:
                out.consented_at[candidate.email] = candidate.consented_at
            if candidate.phone_number is not None and "sms" in channels:
                out.phones[candidate.email] = candidate.phone_number
        if reason:
            out.skip(candidate.email, reason)
    return out


def _blocked(
    subscribe: Subscribe,
    candidate: Candidate,
    consent: ChannelConsent | None,
    channel: str,
    now: dt.datetime,
) -> str:
    """Why ``candidate`` is not subscribed to ``channel`` ("" if it is; "already")."""
    if channel == "sms" and not candidate.phone_number:
        return NO_PHONE
    if consent is not None and consent.subscribed:
        return "already"
    moment = candidate.consented_at
    opted_out = consent.opted_out_at() if consent is not None else None
    if opted_out is not None:
        if subscribe.consented_at_column is None:
            return OPTED_OUT
        if moment is None:
            return NO_MOMENT
        if opted_out >= moment:
            return UNSUBSCRIBED_AFTER
    if subscribe.historical_import:
        if moment is None:
            return NO_MOMENT
        if moment > now:
            return FUTURE
    return ""
