"""Handlers for profiles and bulk profile import jobs."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from reconciler.sandbox.bodies import (
    PROFILES_POINTER,
    job_attributes,
    job_profiles,
    need_list,
    need_object,
    need_string,
    need_type,
)
from reconciler.sandbox.clock import utc_now_us
from reconciler.sandbox.emails import checked_email
from reconciler.sandbox.filters import as_strings, parse_filter
from reconciler.sandbox.ids import new_ulid
from reconciler.sandbox.jobs import BulkJob, PendingProfile
from reconciler.sandbox.jsonapi import (
    ApiError,
    Json,
    csv_param,
    decode_cursor,
    error_object,
    invalid,
    json_response,
    page_links,
    page_size,
)
from reconciler.sandbox.resources import (
    JOB_FIELDS,
    PROFILE_FIELDS,
    import_error_resource,
    job_resource,
    list_resource,
    profile_resource,
)
from reconciler.sandbox.state import RequestContext

MAX_BULK_PROFILES = 10_000
_KEPT_ATTRIBUTES = frozenset(PROFILE_FIELDS) - {"email", "created", "updated", "last_event_date"}
_PROFILE_FILTERS = {
    name: frozenset({"equals", "any"}) for name in ("email", "id", "phone_number", "external_id")
}
_JOB_FILTERS = {"status": frozenset({"equals", "any"})}
_OBJECT_ATTRIBUTES = frozenset({"properties", "location"})
_ADDITIONAL = frozenset({"subscriptions", "predictive_analytics"})
_PROFILES = PROFILES_POINTER


def get_profiles(ctx: RequestContext) -> Response:
    fields = csv_param(ctx.query, "fields[profile]", frozenset(PROFILE_FIELDS) | {"id"})
    extra = csv_param(ctx.query, "additional-fields[profile]", _ADDITIONAL) or []
    size = page_size(ctx.query, default=20, maximum=100)
    start = decode_cursor(ctx.query.get("page[cursor]")) or 0
    chosen = _filtered_profiles(ctx)
    store = ctx.account.profiles
    candidates = range(start, len(store)) if chosen is None else [i for i in chosen if i >= start]
    page: list[int] = []
    for index in candidates:
        if store.alive(index):
            page.append(index)
            if len(page) > size:
                break
    following = page.pop() if len(page) > size else None
    with_subscriptions = "subscriptions" in extra
    data = [
        profile_resource(ctx.base, ctx.account, i, fields, subscriptions=with_subscriptions)
        for i in page
    ]
    links = page_links(ctx.url, ctx.base + "/api/profiles/", ctx.query, following)
    return json_response({"data": data, "links": links})


def _filtered_profiles(ctx: RequestContext) -> list[int] | None:
    raw = ctx.query.get("filter")
    if raw is None:
        return None
    chosen: set[int] | None = None
    store = ctx.account.profiles
    lookups = {
        "email": store.find,
        "id": store.index_of,
        "phone_number": store.find_phone,
        "external_id": store.find_external,
    }
    for condition in parse_filter(raw, _PROFILE_FILTERS):
        values = as_strings(condition)
        lookup = lookups[condition.field]
        found = {index for value in values if (index := lookup(value)) is not None}
        chosen = found if chosen is None else chosen & found
    return sorted(chosen or ())


def bulk_import_profiles(ctx: RequestContext) -> Response:
    resource, attributes = job_attributes(ctx.body, "profile-bulk-import-job")
    items = job_profiles(attributes, MAX_BULK_PROFILES, "bulk import job")
    pending = [_pending(position, item) for position, item in enumerate(items)]
    _reject_bad_emails(items, pending)
    list_ids = _list_ids(ctx, resource.get("relationships"))
    config = ctx.state.config
    job = BulkJob(
        new_ulid(utc_now_us() // 1000),
        utc_now_us(),
        list_ids,
        pending,
        cancel_halfway=ctx.state.faults.take_job_failure(),
        ttl_us=round(config.job_ttl / config.time_scale * 1_000_000),  # scaled, like jobs
    )
    ctx.account.jobs[job.id] = job
    ctx.state.runner.submit(ctx.account, job)
    with ctx.state.stats.lock:
        ctx.state.stats.bulk_jobs += 1
        ctx.state.stats.bulk_profiles_received += job.total
    return json_response({"data": job_resource(ctx.base, job), "links": {"self": ctx.url}}, 202)


def _pending(position: int, item: Any) -> PendingProfile:
    """One profile of a bulk import request, checked (a 400 names the first bad part).

    Hot path (10,000 profiles per request): the pointer is only spelled out for an error."""
    attributes = item.get("attributes") if isinstance(item, dict) else None
    if not isinstance(attributes, dict) or item.get("type") != "profile":
        pointer = f"{_PROFILES}/{position}"
        need_type(need_object(item, pointer), "profile", pointer)
        need_object(attributes, f"{pointer}/attributes")
        raise AssertionError("unreachable: the checks above raise")  # pragma: no cover
    email = attributes.get("email")
    phone = attributes.get("phone_number")
    external = attributes.get("external_id")
    if not (email or phone or external):
        raise invalid(
            "A profile needs an email, phone_number or external_id.",
            pointer=f"{_PROFILES}/{position}/attributes",
        )
    kept = {}
    for name, value in attributes.items():
        if name in _KEPT_ATTRIBUTES and value is not None:
            if name in _OBJECT_ATTRIBUTES and not isinstance(value, dict):
                pointer = f"{_PROFILES}/{position}/attributes/{name}"
                raise invalid(f"'{name}' must be an object.", pointer=pointer)
            kept[name] = value
    return PendingProfile(
        position,
        checked_email(email) if email else None,
        kept,
        item,
        str(phone).strip() if phone else None,
        str(external) if external else None,
        _patch(item.get("meta"), position),
    )


def _patch(meta: Any, position: int) -> dict[str, Any] | None:
    """``meta.patch_properties`` of a profile (slice schema ``ProfileMetaPatchProperties``)."""
    if meta is None:
        return None
    pointer = f"{_PROFILES}/{position}/meta"
    patch = need_object(meta, pointer).get("patch_properties")
    if patch is None:
        return None
    found = need_object(patch, f"{pointer}/patch_properties")
    for name in ("append", "unappend"):
        if found.get(name) is not None:
            need_object(found[name], f"{pointer}/patch_properties/{name}")
    unset = found.get("unset")
    if unset is not None and not (
        isinstance(unset, str)
        or (isinstance(unset, list) and all(isinstance(u, str) for u in unset))
    ):
        raise invalid(
            "'unset' must be a property name or a list of names.",
            pointer=f"{pointer}/patch_properties/unset",
        )
    return found


def _reject_bad_emails(items: list[Any], pending: list[PendingProfile]) -> None:
    """A 400 naming every profile whose given email is invalid (normalised once, in _pending)."""
    bad: list[Json] = []
    for position, (item, found) in enumerate(zip(items, pending, strict=True)):
        if found.email is None and item["attributes"].get("email") is not None:
            pointer = f"{_PROFILES}/{position}/attributes/email"
            detail = f"Invalid email address at profile {position}."
            bad.append(error_object(400, "invalid", detail, pointer=pointer))
    if bad:
        first = bad[0]
        raise ApiError(
            400, "invalid", first["detail"], pointer=first["source"]["pointer"], more=bad[1:]
        )


def _list_ids(ctx: RequestContext, relationships: Any) -> list[str]:
    if relationships is None:
        return []
    lists = need_object(
        need_object(relationships, "/data/relationships").get("lists"), "/data/relationships/lists"
    )
    ids = []
    for position, item in enumerate(need_list(lists.get("data"), "/data/relationships/lists/data")):
        pointer = f"/data/relationships/lists/data/{position}"
        resource = need_object(item, pointer)
        need_type(resource, "list", pointer)
        list_id = need_string(resource.get("id"), f"{pointer}/id")
        if list_id not in ctx.account.lists:
            raise ApiError(
                404,
                "not_found",
                f"A list with id {list_id} does not exist.",
                pointer=f"{pointer}/id",
            )
        ids.append(list_id)
    return ids


def _the_job(ctx: RequestContext) -> BulkJob:
    job_id = ctx.params.get("job_id") or ctx.params["id"]
    job = ctx.account.jobs.get(job_id)
    if job is not None and job.expired(utc_now_us()):
        del ctx.account.jobs[job_id]  # past expires_at a job cannot be read any more
        job = None
    if job is None:
        raise ApiError(404, "not_found", f"A bulk import job with id {job_id} does not exist.")
    return job


def get_bulk_import_profiles_jobs(ctx: RequestContext) -> Response:
    fields = csv_param(ctx.query, "fields[profile-bulk-import-job]", frozenset(JOB_FIELDS) | {"id"})
    size = page_size(ctx.query, default=20, maximum=100)
    sort = ctx.query.get("sort", "created_at")
    if sort not in ("created_at", "-created_at"):
        raise invalid(f"Cannot sort by '{sort}'; use created_at or -created_at.", parameter="sort")
    now = utc_now_us()
    jobs = [job for job in ctx.account.jobs.values() if not job.expired(now)]
    raw = ctx.query.get("filter")
    for condition in parse_filter(raw, _JOB_FILTERS) if raw is not None else []:
        statuses = set(as_strings(condition))
        jobs = [job for job in jobs if job.status in statuses]
    if sort.startswith("-"):
        jobs.reverse()
    start = decode_cursor(ctx.query.get("page[cursor]")) or 0
    following = start + size if start + size < len(jobs) else None
    page = jobs[start : start + size]
    data = [job_resource(ctx.base, job, fields, with_lists=False) for job in page]
    links = page_links(ctx.url, ctx.base + "/api/profile-bulk-import-jobs/", ctx.query, following)
    return json_response({"data": data, "links": links})


def get_bulk_import_profiles_job(ctx: RequestContext) -> Response:
    fields = csv_param(ctx.query, "fields[profile-bulk-import-job]", frozenset(JOB_FIELDS) | {"id"})
    include = csv_param(ctx.query, "include", frozenset({"lists"})) or []
    job = _the_job(ctx)
    with_lists = "lists" in include
    data = job_resource(ctx.base, job, fields, with_lists=with_lists)
    body: Json = {"data": data, "links": {"self": ctx.url}}
    if with_lists:
        lists = [ctx.account.lists[i] for i in job.list_ids if i in ctx.account.lists]
        body["included"] = [list_resource(ctx.base, item) for item in lists]
    return json_response(body)


def get_errors_for_bulk_import_profiles_job(ctx: RequestContext) -> Response:
    size = page_size(ctx.query, default=20, maximum=100)
    job = _the_job(ctx)
    start = decode_cursor(ctx.query.get("page[cursor]")) or 0
    following = start + size if start + size < len(job.errors) else None
    data = [import_error_resource(failure) for failure in job.errors[start : start + size]]
    path = ctx.url.split("?", 1)[0]
    return json_response({"data": data, "links": page_links(ctx.url, path, ctx.query, following)})
