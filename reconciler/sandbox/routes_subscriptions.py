"""``POST /api/profile-subscription-bulk-create-jobs``: consent, as slice
``bulk_subscribe_profiles`` documents it.

At most 1,000 profiles a job. The whole request is checked first (a 400 names the first bad
part); the job is then carried out asynchronously, a moment later (answer 202, no body). Each
profile is found by id, email or phone number (or created), its UNSUBSCRIBE, SPAM_COMPLAINT and
USER_SUPPRESSED suppressions are lifted, and it is subscribed on the channels given, at
``consented_at`` (``historical_import`` only, which requires it and wants it in the past) or
now. A list with double opt-in (and no ``historical_import``) leaves the profiles pending
confirmation: not subscribed and not yet in the list (see ``/_sandbox/profiles/confirm``).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.responses import Response

from reconciler.sandbox.bodies import (
    PROFILES_POINTER,
    job_attributes,
    job_profiles,
    need_object,
    need_string,
    need_type,
)
from reconciler.sandbox.clock import us_from_datetime, utc_now_us
from reconciler.sandbox.emails import checked_email
from reconciler.sandbox.jsonapi import ApiError, invalid
from reconciler.sandbox.members import MemberList
from reconciler.sandbox.state import RequestContext, SandboxState
from reconciler.sandbox.store import Account

MAX_PROFILES = 1000
QUEUE_DELAY = 0.5  # virtual seconds before a subscription job is carried out
_PROFILES = PROFILES_POINTER
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@dataclass(frozen=True)
class Subscription:
    """One profile of a subscription job, checked."""

    profile_index: int | None  # found by the given id
    email: str | None
    phone: str | None
    channels: tuple[str, ...]  # "email" and/or "sms"
    consented_us: int | None


def bulk_subscribe_profiles(ctx: RequestContext) -> Response:
    resource, attributes = job_attributes(ctx.body, "profile-subscription-bulk-create-job")
    historical = _historical(attributes.get("historical_import"))
    custom = attributes.get("custom_source")
    if custom is not None and not isinstance(custom, str):
        raise invalid("'custom_source' must be a string.", pointer="/data/attributes/custom_source")
    items = job_profiles(attributes, MAX_PROFILES, "subscription job")
    target = _list_of(ctx, resource.get("relationships"))
    now = utc_now_us()
    wanted = [_subscription(ctx.account, p, item, historical, now) for p, item in enumerate(items)]
    double = target is not None and not historical and _double_opt_in(ctx.state, target)
    _schedule(ctx.state, ctx.account, Job(wanted, target, double, custom))
    return Response(status_code=202)


@dataclass(frozen=True)
class Job:
    subscriptions: list[Subscription]
    target: MemberList | None
    double_opt_in: bool
    custom_source: str | None


def _double_opt_in(state: SandboxState, target: MemberList) -> bool:
    return target.id in state.config.double_opt_in or target.opt_in_process == "double_opt_in"


def _historical(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise invalid(
        "'historical_import' must be true or false.", pointer="/data/attributes/historical_import"
    )


def _list_of(ctx: RequestContext, relationships: Any) -> MemberList | None:
    if relationships is None:
        return None
    base = "/data/relationships"
    related = need_object(relationships, base).get("list")
    if related is None:
        return None
    resource = need_object(need_object(related, f"{base}/list").get("data"), f"{base}/list/data")
    need_type(resource, "list", f"{base}/list/data")
    list_id = need_string(resource.get("id"), f"{base}/list/data/id")
    found = ctx.account.lists.get(list_id)
    if found is None:
        raise ApiError(
            404,
            "not_found",
            f"A list with id {list_id} does not exist.",
            pointer=f"{base}/list/data/id",
        )
    return found


def _subscription(
    account: Account, position: int, item: Any, historical: bool, now_us: int
) -> Subscription:
    pointer = f"{_PROFILES}/{position}"
    resource = need_object(item, pointer)
    need_type(resource, "profile", pointer)
    attributes = need_object(resource.get("attributes"), f"{pointer}/attributes")
    index = _by_id(account, resource.get("id"), pointer)
    email = _email(attributes.get("email"), f"{pointer}/attributes/email")
    phone = _phone(attributes.get("phone_number"), f"{pointer}/attributes/phone_number")
    if index is None and email is None and phone is None:
        raise invalid(
            "A profile to subscribe needs an email or a phone number.",
            pointer=f"{pointer}/attributes",
        )
    channels_at = f"{pointer}/attributes/subscriptions"
    channels = need_object(attributes.get("subscriptions"), channels_at)
    chosen: list[str] = []
    consented: list[int] = []
    for channel in ("email", "sms"):
        marketing = _marketing(channels.get(channel), f"{channels_at}/{channel}")
        if marketing is None:
            continue
        where = f"{channels_at}/{channel}/marketing"
        at = _consented_at(marketing.get("consented_at"), where, historical, now_us)
        if at is not None:
            consented.append(at)
        chosen.append(channel)
    if "email" in chosen and email is None and index is None:
        raise invalid("Email marketing consent needs an email.", pointer=f"{pointer}/attributes")
    if "sms" in chosen and phone is None and index is None:
        raise invalid(
            "SMS marketing consent needs a phone number.", pointer=f"{pointer}/attributes"
        )
    return Subscription(index, email, phone, tuple(chosen), min(consented, default=None))


def _by_id(account: Account, value: Any, pointer: str) -> int | None:
    if value is None:
        return None
    index = account.profiles.index_of(value) if isinstance(value, str) else None
    if index is None:
        raise invalid(f"A profile with id {value} does not exist.", pointer=f"{pointer}/id")
    return index


def _email(value: Any, pointer: str) -> str | None:
    if value is None:
        return None
    email = checked_email(value)
    if email is None:
        raise invalid("Invalid email address.", pointer=pointer)
    return email


def _phone(value: Any, pointer: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _E164.match(value):
        raise invalid(
            "The phone number must be in E.164 format, like +15005550006.", pointer=pointer
        )
    return value


def _marketing(channel: Any, pointer: str) -> dict[str, Any] | None:
    if channel is None:
        return None
    marketing = need_object(channel, pointer).get("marketing")
    if marketing is None:
        return None
    found = need_object(marketing, f"{pointer}/marketing")
    if found.get("consent") != "SUBSCRIBED":
        raise invalid("'consent' must be \"SUBSCRIBED\".", pointer=f"{pointer}/marketing/consent")
    return found


def _consented_at(value: Any, pointer: str, historical: bool, now_us: int) -> int | None:
    where = f"{pointer}/consented_at"
    if value is None:
        if historical:
            raise invalid("'consented_at' is required with historical_import.", pointer=where)
        return None
    if not historical:
        raise invalid(
            "'consented_at' may only be given with historical_import set to true.", pointer=where
        )
    try:
        moment = (
            datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
        )
    except ValueError:
        moment = None
    if moment is None:
        raise invalid("'consented_at' must be an ISO 8601 date-time.", pointer=where)
    at = us_from_datetime(moment)
    if at >= now_us:
        raise invalid("'consented_at' must be in the past.", pointer=where)
    return at


def _schedule(state: SandboxState, account: Account, job: Job) -> None:
    generation = state.runner.generation
    stats = state.stats  # a reset starts new statistics: count down the ones counted up
    with stats.lock:
        stats.subscription_jobs += 1
        stats.subscriptions_pending += 1

    def carry_out() -> None:
        with stats.lock:
            stats.subscriptions_pending -= 1
        if generation != state.runner.generation:
            return
        with state.store.lock:
            apply_job(account, job)

    loop = asyncio.get_running_loop()
    loop.call_later(state.clock.real_seconds(QUEUE_DELAY), carry_out)


def apply_job(account: Account, job: Job) -> None:
    now = utc_now_us()
    added: list[int] = []
    for wanted in job.subscriptions:
        index = _profile_for(account, wanted, now)
        if index is None:
            continue  # its email and phone number belong to two profiles: nothing to change
        consent = account.profiles.consent_of(index)
        consent.lift_suppressions()
        if job.double_opt_in and job.target is not None:
            if job.target.id not in consent.pending_lists:
                consent.pending_lists.append(job.target.id)
            continue
        at = wanted.consented_us if wanted.consented_us is not None else now
        for channel in wanted.channels:
            getattr(consent, channel).subscribe(at, now, job.custom_source, double=False)
        added.append(index)
    if job.target is not None and added:
        job.target.add(added, now)


def _profile_for(account: Account, wanted: Subscription, now_us: int) -> int | None:
    profiles = account.profiles
    if wanted.profile_index is not None:
        if not profiles.alive(wanted.profile_index):
            return None
        index = wanted.profile_index
        owners = profiles.owners(wanted.email, wanted.phone, None) - {index}
    else:
        owners = profiles.owners(wanted.email, wanted.phone, None)
        if len(owners) > 1:
            return None
        index = owners.pop() if owners else _new_profile(account, wanted, now_us)
    if owners:
        return None
    profiles.identify(index, wanted.email, wanted.phone, None)
    return index


def _new_profile(account: Account, wanted: Subscription, now_us: int) -> int:
    if wanted.email is not None:
        return account.profiles.ensure([wanted.email], now_us)[0]
    return account.profiles.new(now_us)
