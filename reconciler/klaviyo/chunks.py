"""Prepares bulk-import profiles: validates emails, encodes each profile once, and packs them
into request bodies of at most 10,000 profiles and under 5 MB (measured on the encoded JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from reconciler.emails import normalise_email
from reconciler.klaviyo.errors import KlaviyoConfigError
from reconciler.klaviyo.facts import (
    MAX_BODY_BYTES,
    MAX_PROFILE_BYTES,
    MAX_PROFILES,
    PROFILE_ATTRIBUTES,
)
from reconciler.klaviyo.jsonapi import encode
from reconciler.klaviyo.models import ImportFailure, ProfileInput
from reconciler.values import ProfileRows

ENCODE_SLICE = 1_000
TOO_LARGE = "profile larger than Klaviyo's 100 KB limit"
_PREFIX = b'{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":['


@dataclass(frozen=True, slots=True)
class Prepared:
    """One profile ready to send: its normalised email and its encoded JSON resource."""

    email: str
    encoded: bytes


def prepare(profiles: Iterable[ProfileInput]) -> tuple[list[Prepared], list[ImportFailure]]:
    """Valid, de-duplicated profiles (first occurrence wins) and the ones refused locally."""
    rejected: list[ImportFailure] = []
    return list(prepared(profiles, rejected)), rejected


def prepared(profiles: Iterable[ProfileInput], rejected: list[ImportFailure]) -> Iterator[Prepared]:
    """``prepare`` lazily: yields each valid, first-seen profile; appends refusals to
    ``rejected``."""
    seen: set[str] = set()
    for profile in profiles:
        email = normalise_email(profile.email)
        if email is None:
            rejected.append(ImportFailure(str(profile.email), "invalid email address"))
            continue
        if email in seen:
            continue
        seen.add(email)
        encoded = encode(_resource(email, profile))
        if len(encoded) > MAX_PROFILE_BYTES:
            rejected.append(ImportFailure(email, TOO_LARGE))
            continue
        yield Prepared(email, encoded)


def check_attributes(profiles: Iterable[ProfileInput] | ProfileRows) -> None:
    """Raise KlaviyoConfigError if any profile carries an attribute Klaviyo does not know
    (checked for all profiles before the first job goes out, never half-way; for columns,
    once on their names)."""
    if isinstance(profiles, ProfileRows):
        names = profiles.attribute_names()
        if not PROFILE_ATTRIBUTES.issuperset(names):
            _unknown(ProfileInput("", dict.fromkeys(names)))
        return
    for profile in profiles:
        if not PROFILE_ATTRIBUTES.issuperset(profile.attributes):
            _unknown(profile)


def inputs(profiles: Sequence[ProfileInput] | ProfileRows) -> Iterator[ProfileInput]:
    """The profiles one by one; columns become Python values ``ENCODE_SLICE`` rows at a time
    (only about one job's profiles exist as Python objects at once)."""
    if not isinstance(profiles, ProfileRows):
        yield from profiles
        return
    for start in range(0, len(profiles), ENCODE_SLICE):
        yield from profiles.inputs(start, ENCODE_SLICE)


def prepared_any(
    profiles: Sequence[ProfileInput] | ProfileRows, rejected: list[ImportFailure]
) -> Iterator[Prepared]:
    """:func:`prepared` of Python profiles; columns hold a plan's emails, normalised by the
    segment read (with ``normalise_email``'s verdict) and unique: they are only encoded."""
    if not isinstance(profiles, ProfileRows):
        yield from prepared(profiles, rejected)
        return
    for profile in inputs(profiles):
        encoded = encode(_resource(profile.email, profile))
        if len(encoded) > MAX_PROFILE_BYTES:
            rejected.append(
                ImportFailure(profile.email, "profile larger than Klaviyo's 100 KB limit")
            )
            continue
        yield Prepared(profile.email, encoded)


def _resource(email: str, profile: ProfileInput) -> dict[str, object]:
    if not PROFILE_ATTRIBUTES.issuperset(profile.attributes):
        _unknown(profile)
    attributes: dict[str, object] = {**profile.attributes, "email": email}
    properties = profile.properties
    if properties:
        attributes["properties"] = properties if type(properties) is dict else dict(properties)
    return {"type": "profile", "attributes": attributes}


def _unknown(profile: ProfileInput) -> None:
    unknown = sorted(set(profile.attributes) - PROFILE_ATTRIBUTES)
    if unknown:
        raise KlaviyoConfigError(
            f"unknown Klaviyo profile attribute(s): {', '.join(unknown)}",
            hint=f"use one of {', '.join(sorted(PROFILE_ATTRIBUTES))}, or put custom fields "
            "in properties",
        )


def _suffix(list_id: str) -> bytes:
    return (
        b']}},"relationships":{"lists":{"data":[{"type":"list","id":'
        + json.dumps(list_id).encode()
        + b"}]}}}}"
    )


def body_for(list_id: str, chunk: Sequence[Prepared]) -> bytes:
    """The exact request body of a bulk import job for ``chunk``."""
    return _PREFIX + b",".join(p.encoded for p in chunk) + _suffix(list_id)


def split(
    list_id: str,
    ready: Iterable[Prepared],
    max_profiles: int = MAX_PROFILES,
    max_bytes: int = MAX_BODY_BYTES,
) -> list[list[Prepared]]:
    """Greedy chunks: each at most ``max_profiles`` profiles and under ``max_bytes`` encoded."""
    return list(iter_split(list_id, ready, max_profiles, max_bytes))


def iter_split(
    list_id: str,
    ready: Iterable[Prepared],
    max_profiles: int = MAX_PROFILES,
    max_bytes: int = MAX_BODY_BYTES,
) -> Iterator[list[Prepared]]:
    """``split`` lazily: each chunk is yielded as soon as it is full (so it can be sent while
    the next one is prepared)."""
    overhead = len(_PREFIX) + len(_suffix(list_id))
    current: list[Prepared] = []
    size = overhead
    for profile in ready:
        extra = len(profile.encoded) + (1 if current else 0)
        if current and (len(current) >= max_profiles or size + extra >= max_bytes):
            yield current
            current, size, extra = [], overhead, len(profile.encoded)
        current.append(profile)
        size += extra
    if current:
        yield current
