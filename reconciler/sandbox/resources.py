"""JSON:API resource objects the sandbox returns, shaped like the OpenAPI slices say."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from reconciler.sandbox.clock import iso_from_us
from reconciler.sandbox.consent import empty_view
from reconciler.sandbox.jobs import BulkJob, ImportFailure
from reconciler.sandbox.jsonapi import Json
from reconciler.sandbox.members import MemberList
from reconciler.sandbox.store import Account, ProfileStore

PROFILE_FIELDS = (
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
    "created",
    "updated",
    "last_event_date",
    "location",
    "properties",
)
LIST_FIELDS = ("name", "created", "updated", "opt_in_process", "profile_count")
JOB_FIELDS = (
    "status",
    "created_at",
    "total_count",
    "completed_count",
    "failed_count",
    "completed_at",
    "expires_at",
    "started_at",
)
_REQUIRED_JOB_FIELDS = ("status", "created_at", "total_count")


def _iso(micros: int | None) -> str | None:
    return None if micros is None else iso_from_us(micros)


def _links(base: str, path: str) -> Json:
    return {"self": f"{base}{path}", "related": f"{base}{path.replace('relationships/', '')}"}


def _sparse(attributes: Json, fields: Collection[str] | None, required: Collection[str]) -> Json:
    if fields is None:
        return attributes
    return {k: v for k, v in attributes.items() if k in fields or k in required}


def profile_resource(
    base: str,
    account: Account,
    index: int,
    fields: Collection[str] | None = None,
    joined_us: int | None = None,
    *,
    subscriptions: bool = False,
) -> Json:
    store = account.profiles
    profile_id = store.id_of(index)
    extra: dict[str, Any] = store.extra.get(index, {})
    names = PROFILE_FIELDS if fields is None else [n for n in PROFILE_FIELDS if n in fields]
    attributes: Json = {name: _attribute(store, index, extra, name) for name in names}
    if joined_us is not None:
        attributes["joined_group_at"] = iso_from_us(joined_us)
    if subscriptions:
        consent = store.consent.get(index)
        attributes["subscriptions"] = consent.view() if consent else empty_view()
    path = f"/api/profiles/{profile_id}"
    return {
        "type": "profile",
        "id": profile_id,
        "attributes": attributes,
        "relationships": {
            "lists": {"links": _links(base, f"{path}/relationships/lists/")},
            "segments": {"links": _links(base, f"{path}/relationships/segments/")},
        },
        "links": {"self": f"{base}{path}/"},
    }


def _attribute(store: ProfileStore, index: int, extra: dict[str, Any], name: str) -> Any:
    """One attribute of profile ``index`` (only the requested ones are built: a member page
    usually asks for email and joined_group_at only)."""
    if name == "email":
        return store.emails[index] or None
    if name == "created":
        return iso_from_us(store.created[index])
    if name == "updated":
        return iso_from_us(store.updated[index])
    if name in ("location", "properties"):
        return extra.get(name) or {}
    return extra.get(name)


def list_resource(
    base: str, target: MemberList, fields: Collection[str] | None = None, count: bool = False
) -> Json:
    attributes: Json = {
        "name": target.name,
        "created": iso_from_us(target.created_us),
        "updated": iso_from_us(target.updated_us),
        "opt_in_process": target.opt_in_process,
    }
    if count:
        attributes["profile_count"] = target.reported_count()
    path = f"/api/lists/{target.id}"
    return {
        "type": "list",
        "id": target.id,
        "attributes": _sparse(attributes, fields, ("profile_count",) if count else ()),
        "relationships": {
            "profiles": {"links": _links(base, f"{path}/relationships/profiles/")},
            "tags": {"links": _links(base, f"{path}/relationships/tags/")},
            "flow-triggers": {"links": _links(base, f"{path}/relationships/flow-triggers/")},
        },
        "links": {"self": f"{base}{path}/"},
    }


def job_resource(
    base: str, job: BulkJob, fields: Collection[str] | None = None, *, with_lists: bool = True
) -> Json:
    """A job; its list relationship carries ``data`` only ``with_lists`` (the collection
    endpoint has no ``include`` parameter, so it offers links only)."""
    attributes: Json = {
        "status": job.status,
        "created_at": iso_from_us(job.created_us),
        "total_count": job.total,
        "completed_count": job.completed,
        "failed_count": job.failed,
        "completed_at": _iso(job.completed_us),
        "expires_at": iso_from_us(job.expires_us),
        "started_at": _iso(job.started_us),
    }
    path = f"/api/profile-bulk-import-jobs/{job.id}"
    return {
        "type": "profile-bulk-import-job",
        "id": job.id,
        "attributes": _sparse(attributes, fields, _REQUIRED_JOB_FIELDS),
        "relationships": {
            "lists": _job_lists(base, path, job, with_lists),
            "profiles": {"links": _links(base, f"{path}/relationships/profiles/")},
            "import-errors": {"links": {"related": f"{base}{path}/import-errors/"}},
        },
        "links": {"self": f"{base}{path}/"},
    }


def _job_lists(base: str, path: str, job: BulkJob, with_lists: bool) -> Json:
    lists: Json = {"links": _links(base, f"{path}/relationships/lists/")}
    if with_lists:
        lists["data"] = [{"type": "list", "id": list_id} for list_id in job.list_ids]
    return lists


def import_error_resource(failure: ImportFailure) -> Json:
    return {
        "type": "import-error",
        "id": failure.id,
        "attributes": {
            "code": failure.code,
            "title": failure.title,
            "detail": failure.detail,
            "source": {"pointer": failure.pointer},
            "original_payload": failure.payload,
        },
    }


def account_resource(base: str, account: Account) -> Json:
    return {
        "type": "account",
        "id": account.id,
        "attributes": {
            "test_account": True,
            "contact_information": {
                "default_sender_name": "Sandbox",
                "default_sender_email": "sender@example.com",
                "website_url": "https://example.com",
                "organization_name": f"Sandbox account {account.id}",
                "street_address": {
                    "address1": "1 Example Street",
                    "address2": None,
                    "city": "Boston",
                    "region": "MA",
                    "country": "United States",
                    "zip": "02110",
                },
            },
            "industry": None,
            "timezone": "UTC",
            "preferred_currency": "USD",
            "public_api_key": account.id,
            "locale": "en-US",
        },
        "links": {"self": f"{base}/api/accounts/{account.id}/"},
    }
