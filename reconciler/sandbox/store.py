"""In-memory accounts: profiles, lists and bulk jobs.

One :class:`Account` per API key. Profiles are integers internally (index into arrays), their
public ids are derived by :class:`~reconciler.sandbox.ids.ProfileIdCodec`, so a million profiles
cost a few arrays and one dict. A profile is found by any of its identifiers (email, phone
number, external id), each unique in an account, as Klaviyo keys profiles. A deleted (or merged
away) profile keeps its index but loses its id and identifiers. All mutation happens under
:attr:`SandboxStore.lock`.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any

from reconciler.sandbox.clock import utc_now_us
from reconciler.sandbox.consent import Consent
from reconciler.sandbox.emails import email_key
from reconciler.sandbox.ids import ProfileIdCodec, new_list_id
from reconciler.sandbox.members import MemberList

if TYPE_CHECKING:
    from reconciler.sandbox.jobs import BulkJob


IDENTIFIERS = ("email", "phone_number", "external_id")


@dataclass
class ProfileStore:
    codec: ProfileIdCodec = field(default_factory=ProfileIdCodec)
    emails: list[str] = field(default_factory=list)
    created: array[int] = field(default_factory=lambda: array("q"))
    updated: array[int] = field(default_factory=lambda: array("q"))
    by_email: dict[str, int] = field(default_factory=dict)
    by_phone: dict[str, int] = field(default_factory=dict)
    by_external: dict[str, int] = field(default_factory=dict)
    extra: dict[int, dict[str, Any]] = field(default_factory=dict)
    consent: dict[int, Consent] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.emails)

    def ensure(self, emails: Iterable[str], now_us: int) -> list[int]:
        """Indexes of profiles with these (already normalised) emails, creating missing ones."""
        wanted = list(emails)
        by_email = self.by_email
        missing = [email for email in dict.fromkeys(wanted) if email not in by_email]
        start, count = len(self.emails), len(missing)
        by_email.update(zip(missing, range(start, start + count), strict=True))
        self.emails.extend(missing)
        self.created.extend(repeat(now_us, count))
        self.updated.extend(repeat(now_us, count))
        if count == len(wanted):
            return list(range(start, start + count))
        return [by_email[email] for email in wanted]

    def new(self, now_us: int) -> int:
        """A new profile without an email (phone number or external id only)."""
        self.emails.append("")
        self.created.append(now_us)
        self.updated.append(now_us)
        return len(self.emails) - 1

    def merge(self, index: int, attributes: Mapping[str, Any], now_us: int) -> None:
        """Merge ``attributes`` into profile ``index`` (custom properties key by key).

        A null never clears a value (Klaviyo's bulk import guide: "does not support setting
        fields to null to clear them"); identifiers are set with :meth:`identify`."""
        merged = self.extra.setdefault(index, {})
        for name, value in attributes.items():
            if value is None or name in IDENTIFIERS:
                continue
            if name == "properties" and isinstance(value, dict):
                kept = merged.setdefault("properties", {})
                kept.update((key, item) for key, item in value.items() if item is not None)
            elif name == "location" and isinstance(value, dict):
                kept = merged.setdefault("location", {})
                kept.update((key, item) for key, item in value.items() if item is not None)
            else:
                merged[name] = value
        self.updated[index] = now_us

    def patch_properties(self, index: int, patch: Mapping[str, Any], now_us: int) -> None:
        """``meta.patch_properties`` of a bulk import row: ``unset`` removes keys (the one way a
        bulk import clears a property), ``append``/``unappend`` add to or take from arrays."""
        kept: dict[str, Any] = self.extra.setdefault(index, {}).setdefault("properties", {})
        unset = patch.get("unset")
        for name in [unset] if isinstance(unset, str) else unset or []:
            kept.pop(name, None)
        for name, value in (patch.get("append") or {}).items():
            current = kept.get(name)
            items = current if isinstance(current, list) else [] if current is None else [current]
            kept[name] = items + (value if isinstance(value, list) else [value])
        for name, value in (patch.get("unappend") or {}).items():
            current = kept.get(name)
            if isinstance(current, list):
                drop = value if isinstance(value, list) else [value]
                kept[name] = [item for item in current if item not in drop]
        self.updated[index] = now_us

    def identify(
        self, index: int, email: str | None, phone: str | None, external: str | None
    ) -> None:
        """Give profile ``index`` these identifiers (None: keep its own); the caller made sure
        no other profile holds them."""
        if email is not None and self.emails[index] != email:
            self.by_email.pop(self.emails[index], None)
            self.emails[index] = email
            self.by_email[email] = index
        extra = self.extra.setdefault(index, {}) if phone or external else None
        for value, name, index_map in (
            (phone, "phone_number", self.by_phone),
            (external, "external_id", self.by_external),
        ):
            if value is None or extra is None or extra.get(name) == value:
                continue
            old = extra.get(name)
            if old is not None:
                index_map.pop(old, None)
            extra[name] = value
            index_map[value] = index

    def owners(self, email: str | None, phone: str | None, external: str | None) -> set[int]:
        """The profiles these identifiers point at (two or more: a conflict)."""
        found = set()
        for value, index_map in (
            (email, self.by_email),
            (phone, self.by_phone),
            (external, self.by_external),
        ):
            if value is not None and (index := index_map.get(value)) is not None:
                found.add(index)
        return found

    def delete(self, index: int) -> None:
        """Forget profile ``index``: its id, identifiers, fields and consent are gone."""
        if index in self.deleted:
            return
        self.by_email.pop(self.emails[index], None)
        extra = self.extra.pop(index, {})
        self.by_phone.pop(extra.get("phone_number", ""), None)
        self.by_external.pop(extra.get("external_id", ""), None)
        self.consent.pop(index, None)
        self.emails[index] = ""
        self.deleted.add(index)

    def alive(self, index: int) -> bool:
        return index not in self.deleted

    def consent_of(self, index: int) -> Consent:
        found = self.consent.get(index)
        if found is None:
            found = self.consent[index] = Consent()
        return found

    def id_of(self, index: int) -> str:
        return self.codec.encode(index, self.created[index] // 1000)

    def index_of(self, profile_id: str) -> int | None:
        decoded = self.codec.decode(profile_id)
        if decoded is None:
            return None
        index, created_ms = decoded
        if index >= len(self.emails) or self.created[index] // 1000 != created_ms:
            return None
        return None if index in self.deleted else index

    def find(self, email: str) -> int | None:
        return self.by_email.get(email_key(email))

    def find_phone(self, phone: str) -> int | None:
        return self.by_phone.get(phone.strip())

    def find_external(self, external_id: str) -> int | None:
        return self.by_external.get(external_id)


@dataclass
class Account:
    key: str
    id: str
    profiles: ProfileStore = field(default_factory=ProfileStore)
    lists: dict[str, MemberList] = field(default_factory=dict)
    jobs: dict[str, BulkJob] = field(default_factory=dict)

    def create_list(self, name: str, opt_in_process: str, list_id: str | None = None) -> MemberList:
        now = utc_now_us()
        new_id = list_id or _unused_id(self.lists)
        created = MemberList(new_id, name, now, now, opt_in_process)
        self.lists[new_id] = created
        return created


def _unused_id(taken: Mapping[str, object]) -> str:
    while (candidate := new_list_id()) in taken:
        pass
    return candidate


class SandboxStore:
    """Every account of one sandbox, keyed by API key, in the order the keys were given; the
    keys of one account (an entry ``"pk_a,pk_b"``) lead to the same account."""

    def __init__(self, api_keys: Iterable[str]) -> None:
        self.lock = threading.RLock()
        self._groups = tuple(tuple(entry.split(",")) for entry in api_keys)
        self.accounts: dict[str, Account] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.accounts = {}
            for position, keys in enumerate(self._groups):
                account = Account(key=keys[0], id=_account_id(position))
                self.accounts.update(dict.fromkeys(keys, account))

    @property
    def default_key(self) -> str:
        return self._groups[0][0]

    def account(self, key: str | None) -> Account | None:
        return self.accounts.get(self.default_key if key is None else key)


def _account_id(position: int) -> str:
    return f"SBX{position:03d}"
