"""Async Klaviyo client: paced to the rate tiers, safe retries, concurrent member reads.

The values it exchanges live in ``reconciler.klaviyo.models``; this package names the client,
its pacers and the profile it imports.
"""

from reconciler.klaviyo.client import KlaviyoClient
from reconciler.klaviyo.models import ProfileInput
from reconciler.klaviyo.pacing import Pacer, PacerRegistry

__all__ = ["KlaviyoClient", "Pacer", "PacerRegistry", "ProfileInput"]
