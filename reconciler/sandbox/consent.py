"""Per-profile consent: email and SMS marketing subscriptions and email suppressions.

Shapes follow the ``subscriptions`` additional field of ``get_profiles`` (schemas
``EmailMarketing``, ``EmailMarketingSuppression``, ``SMSMarketing``). Consent values are
``NEVER_SUBSCRIBED``, ``SUBSCRIBED`` and ``UNSUBSCRIBED``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.sandbox.clock import iso_from_us
from reconciler.sandbox.jsonapi import Json

NEVER = "NEVER_SUBSCRIBED"
SUBSCRIBED = "SUBSCRIBED"
UNSUBSCRIBED = "UNSUBSCRIBED"
# bulk_subscribe_profiles: "This API will remove any UNSUBSCRIBE, SPAM_REPORT or USER_SUPPRESSED
# suppressions"; the profile schema calls a spam report SPAM_COMPLAINT.
LIFTED_BY_SUBSCRIBING = frozenset({"UNSUBSCRIBE", "SPAM_COMPLAINT", "USER_SUPPRESSED"})
SUPPRESSION_REASONS = frozenset(
    {"HARD_BOUNCE", "INVALID_EMAIL", "SPAM_COMPLAINT", "UNSUBSCRIBE", "USER_SUPPRESSED"}
)


@dataclass
class Channel:
    """One channel's marketing consent."""

    consent: str = NEVER
    consent_us: int | None = None
    updated_us: int | None = None
    method: str | None = None
    method_detail: str | None = None
    custom_method_detail: str | None = None
    double_optin: bool | None = None

    def subscribe(self, at_us: int, now_us: int, custom: str | None, double: bool) -> None:
        self._change(SUBSCRIBED, at_us, now_us, "API", "profile-subscription-bulk-create-job")
        self.custom_method_detail = custom
        self.double_optin = double

    def unsubscribe(self, at_us: int) -> None:
        self._change(UNSUBSCRIBED, at_us, at_us, "UNSUBSCRIBE_LINK", "")
        self.double_optin = None

    def _change(self, consent: str, at_us: int, updated_us: int, method: str, detail: str) -> None:
        """``consent`` given at ``at_us`` (recorded at ``updated_us``) by ``method``."""
        self.consent = consent
        self.consent_us = at_us
        self.updated_us = updated_us
        self.method = method
        self.method_detail = detail

    def view(self) -> Json:
        return {
            "consent": self.consent,
            "consent_timestamp": _iso(self.consent_us),
            "last_updated": _iso(self.updated_us),
            "method": self.method,
            "method_detail": self.method_detail,
        }


@dataclass
class Consent:
    """A profile's subscriptions, suppressions and pending double opt-in confirmations."""

    email: Channel = field(default_factory=Channel)
    sms: Channel = field(default_factory=Channel)
    suppressions: list[tuple[str, int]] = field(default_factory=list)
    pending_lists: list[str] = field(default_factory=list)

    def suppress(self, reason: str, at_us: int) -> None:
        self.suppressions = [s for s in self.suppressions if s[0] != reason]
        self.suppressions.append((reason, at_us))

    def lift_suppressions(self) -> None:
        self.suppressions = [s for s in self.suppressions if s[0] not in LIFTED_BY_SUBSCRIBING]

    @property
    def suppressed(self) -> bool:
        return bool(self.suppressions)

    def view(self) -> Json:
        """The ``subscriptions`` attribute of a profile, as ``get_profiles`` documents it."""
        marketing = self.email.view()
        marketing.update(
            {
                "can_receive_email_marketing": not self.suppressions
                and self.email.consent != UNSUBSCRIBED,
                "custom_method_detail": self.email.custom_method_detail,
                "double_optin": self.email.double_optin,
                "suppression": [
                    {"reason": reason, "timestamp": iso_from_us(at)}
                    for reason, at in self.suppressions
                ],
                "list_suppressions": [],
            }
        )
        sms = self.sms.view()
        sms["can_receive_sms_marketing"] = self.sms.consent == SUBSCRIBED
        return {"email": {"marketing": marketing}, "sms": {"marketing": sms}}


def empty_view() -> Json:
    return Consent().view()


def _iso(micros: int | None) -> str | None:
    return None if micros is None else iso_from_us(micros)
