"""Async Klaviyo client: paced to the rate tiers, safe retries, concurrent member reads."""

from reconciler.klaviyo.client import KlaviyoClient
from reconciler.klaviyo.models import (
    Account,
    ClientStats,
    ImportFailure,
    JobResult,
    JobStatus,
    KlaviyoList,
    ListMembers,
    Member,
    ProfileInput,
)
from reconciler.klaviyo.pacing import Pacer, PacerRegistry
from reconciler.values import ImportSubmission

__all__ = [
    "Account",
    "ClientStats",
    "ImportFailure",
    "ImportSubmission",
    "JobResult",
    "JobStatus",
    "KlaviyoClient",
    "KlaviyoList",
    "ListMembers",
    "Member",
    "Pacer",
    "PacerRegistry",
    "ProfileInput",
]
