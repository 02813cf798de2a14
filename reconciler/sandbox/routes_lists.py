"""Handlers for accounts, lists and list membership."""

from __future__ import annotations

from starlette.responses import Response

from reconciler.sandbox.bodies import data_of, need_object, need_string, need_type, relationship_ids
from reconciler.sandbox.clock import us_from_datetime, utc_now_us
from reconciler.sandbox.filters import Condition, as_datetime, as_strings, parse_filter
from reconciler.sandbox.jsonapi import (
    ApiError,
    Json,
    csv_param,
    decode_cursor,
    invalid,
    json_response,
    page_links,
    page_size,
)
from reconciler.sandbox.members import MemberList, MemberQuery
from reconciler.sandbox.resources import (
    LIST_FIELDS,
    PROFILE_FIELDS,
    account_resource,
    list_resource,
    profile_resource,
)
from reconciler.sandbox.state import RequestContext

_MEMBER_FILTERS = {
    "email": frozenset({"equals", "any"}),
    "joined_group_at": frozenset(
        {"greater-than", "greater-or-equal", "less-than", "less-or-equal"}
    ),
}
_LIST_FILTERS = {
    "name": frozenset({"equals", "any"}),
    "id": frozenset({"equals", "any"}),
    "created": frozenset({"greater-than"}),
    "updated": frozenset({"greater-than"}),
}
_LIST_SORTS = frozenset(
    {"created", "-created", "id", "-id", "name", "-name", "updated", "-updated"}
)
_OPT_IN = frozenset({"double_opt_in", "single_opt_in"})
_PROFILE_FIELD_SET = frozenset((*PROFILE_FIELDS, "id", "joined_group_at"))


def the_list(ctx: RequestContext) -> MemberList:
    list_id = ctx.params["id"]
    found = ctx.account.lists.get(list_id)
    if found is None:
        raise ApiError(404, "not_found", f"A list with id {list_id} does not exist.")
    return found


def get_accounts(ctx: RequestContext) -> Response:
    body = {"data": [account_resource(ctx.base, ctx.account)], "links": {"self": ctx.url}}
    return json_response(body)


def get_lists(ctx: RequestContext) -> Response:
    size = page_size(ctx.query, default=10, maximum=10)
    fields = csv_param(ctx.query, "fields[list]", frozenset(LIST_FIELDS) | {"id"})
    found = [item for item in ctx.account.lists.values() if _list_matches(item, ctx)]
    sort = ctx.query.get("sort", "id")
    if sort not in _LIST_SORTS:
        raise invalid(f"Cannot sort by '{sort}'.", parameter="sort")
    key = sort.lstrip("-")
    attribute = {"created": "created_us", "updated": "updated_us"}.get(key, key)
    found.sort(key=lambda item: (getattr(item, attribute), item.id), reverse=sort.startswith("-"))
    start = decode_cursor(ctx.query.get("page[cursor]")) or 0
    page = found[start : start + size]
    more = start + size if start + size < len(found) else None
    return json_response(
        {
            "data": [list_resource(ctx.base, item, fields) for item in page],
            "links": page_links(ctx.url, ctx.base + "/api/lists/", ctx.query, more),
        }
    )


def _list_matches(item: MemberList, ctx: RequestContext) -> bool:
    raw = ctx.query.get("filter")
    if raw is None:
        return True
    documented = documented_datetimes(ctx)
    return all(
        _list_condition(item, condition, documented)
        for condition in parse_filter(raw, _LIST_FILTERS)
    )


def documented_datetimes(ctx: RequestContext) -> bool:
    return ctx.state.config.datetime_filters == "documented"


def _list_condition(item: MemberList, condition: Condition, documented: bool) -> bool:
    if condition.field in ("name", "id"):
        return getattr(item, condition.field) in as_strings(condition)
    moment = us_from_datetime(as_datetime(condition.value, condition.field, documented=documented))
    return getattr(item, f"{condition.field}_us") > moment  # type: ignore[no-any-return]


def create_list(ctx: RequestContext) -> Response:
    resource = need_object(data_of(ctx.body), "/data")
    need_type(resource, "list", "/data")
    attributes = need_object(resource.get("attributes"), "/data/attributes")
    name = need_string(attributes.get("name"), "/data/attributes/name")
    opt_in = attributes.get("opt_in_process") or "double_opt_in"
    if opt_in not in _OPT_IN:
        raise invalid(
            f"opt_in_process must be one of {sorted(_OPT_IN)}.",
            pointer="/data/attributes/opt_in_process",
        )
    created = ctx.account.create_list(name, opt_in)
    body = {"data": list_resource(ctx.base, created), "links": {"self": ctx.url}}
    return json_response(body, 201)


def get_list(ctx: RequestContext) -> Response:
    extra = csv_param(ctx.query, "additional-fields[list]", frozenset({"profile_count"})) or []
    fields = csv_param(ctx.query, "fields[list]", frozenset(LIST_FIELDS) | {"id"})
    target = the_list(ctx)
    count = "profile_count" in extra
    body = {"data": list_resource(ctx.base, target, fields, count), "links": {"self": ctx.url}}
    return json_response(body)


def member_query(ctx: RequestContext) -> MemberQuery:
    sort = ctx.query.get("sort", "joined_group_at")
    if sort not in ("joined_group_at", "-joined_group_at"):
        raise invalid(
            f"Cannot sort by '{sort}'; use joined_group_at or -joined_group_at.", parameter="sort"
        )
    low: int | None = None
    high: int | None = None
    profiles: frozenset[int] | None = None
    raw = ctx.query.get("filter")
    for condition in parse_filter(raw, _MEMBER_FILTERS) if raw is not None else []:
        if condition.field == "email":
            wanted = {ctx.account.profiles.find(email) for email in as_strings(condition)}
            chosen = frozenset(index for index in wanted if index is not None)
            profiles = chosen if profiles is None else profiles & chosen
            continue
        parsed = as_datetime(condition.value, condition.field, documented=documented_datetimes(ctx))
        moment = us_from_datetime(parsed)
        bound = {
            "greater-than": moment + 1,
            "greater-or-equal": moment,
            "less-than": moment - 1,
            "less-or-equal": moment,
        }[condition.op]
        if condition.op.startswith("greater"):
            low = bound if low is None else max(low, bound)
        else:
            high = bound if high is None else min(high, bound)
    return MemberQuery(low, high, profiles, descending=sort.startswith("-"))


def _member_page(ctx: RequestContext) -> tuple[MemberList, list[int], Json]:
    target = the_list(ctx)
    size = page_size(ctx.query, default=20, maximum=100)
    query = member_query(ctx)
    found, following = target.page(query, decode_cursor(ctx.query.get("page[cursor]")), size)
    path = ctx.url.split("?", 1)[0]
    return target, found, page_links(ctx.url, path, ctx.query, following)


def get_profiles_for_list(ctx: RequestContext) -> Response:
    fields = csv_param(ctx.query, "fields[profile]", _PROFILE_FIELD_SET)
    extra = csv_param(
        ctx.query,
        "additional-fields[profile]",
        frozenset({"subscriptions", "predictive_analytics"}),
    )
    with_subscriptions = "subscriptions" in (extra or [])
    target, found, links = _member_page(ctx)
    data = [
        profile_resource(
            ctx.base,
            ctx.account,
            index,
            fields,
            target.joined_at(index),
            subscriptions=with_subscriptions,
        )
        for index in found
    ]
    return json_response({"data": data, "links": links})


def get_profile_ids_for_list(ctx: RequestContext) -> Response:
    _, found, links = _member_page(ctx)
    ids = ctx.account.profiles.id_of
    return json_response(
        {"data": [{"type": "profile", "id": ids(i)} for i in found], "links": links}
    )


def _profile_indexes(ctx: RequestContext) -> list[int]:
    indexes = []
    for position, profile_id in enumerate(relationship_ids(ctx.body, "profile")):
        index = ctx.account.profiles.index_of(profile_id)
        if index is None:
            raise invalid(
                f"A profile with id {profile_id} does not exist.", pointer=f"/data/{position}/id"
            )
        indexes.append(index)
    return indexes


def add_profiles_to_list(ctx: RequestContext) -> Response:
    target = the_list(ctx)
    target.add(_profile_indexes(ctx), utc_now_us())
    return Response(status_code=204)


def remove_profiles_from_list(ctx: RequestContext) -> Response:
    target = the_list(ctx)
    target.remove(_profile_indexes(ctx), utc_now_us())
    return Response(status_code=204)
