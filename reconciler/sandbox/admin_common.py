"""What the admin endpoints share: their error, JSON bodies, accounts, lists and emails."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from reconciler.sandbox.emails import masked, valid_email
from reconciler.sandbox.members import MemberList
from reconciler.sandbox.state import SandboxState
from reconciler.sandbox.store import Account


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def existing_list(account: Account, list_id: str) -> MemberList:
    target = account.lists.get(list_id)
    if target is None:
        raise AdminError(404, f"list {list_id} does not exist in this account")
    return target


def account_of(sandbox: SandboxState, key: Any) -> Account:
    account = sandbox.store.account(key if isinstance(key, str) and key else None)
    if account is None:
        raise AdminError(404, "unknown account: pass one of the sandbox's API keys as 'account'")
    return account


def emails_of(body: dict[str, Any]) -> list[str]:
    raw = body.get("emails")
    if not isinstance(raw, list):
        raise AdminError(400, 'send {"emails": [...]} (a JSON array of email addresses)')
    emails: list[str] = []
    bad: list[str] = []
    for value in raw:
        email = valid_email(value) if isinstance(value, str) else None
        if email is None:
            bad.append(masked(value))
        else:
            emails.append(email)
    if bad:
        raise AdminError(400, f"{len(bad)} invalid email address(es), e.g. {', '.join(bad[:3])}")
    return emails


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise AdminError(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise AdminError(400, "the body must be a JSON object")
    return body
