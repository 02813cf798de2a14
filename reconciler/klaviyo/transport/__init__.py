"""HTTP plumbing of the Klaviyo client: connection settings, retry policy, the request loop."""

from reconciler.klaviyo.transport.http import REVISION, build_http_client, check_base_url
from reconciler.klaviyo.transport.retry import RetryPolicy
from reconciler.klaviyo.transport.sender import Sender

__all__ = ["REVISION", "RetryPolicy", "Sender", "build_http_client", "check_base_url"]
