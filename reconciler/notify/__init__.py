"""Notifications after ``apply``: which runs need attention, a Slack-compatible message, and a
webhook sent with bounded retries that never fails the apply.

    events_of(notification, run) -> the events a run triggers for one Notification
    build_message(run, events, ci_url) -> the JSON body (counts and masked samples only)
    notify(config, run, env) -> one Delivery per Notification that had something to say
"""

from reconciler.notify.events import ExportRun, RunSummary, events_of
from reconciler.notify.message import build_message, ci_run_url
from reconciler.notify.sending import Delivery, notify
from reconciler.notify.webhook import WebhookResult, post_webhook

__all__ = [
    "Delivery",
    "ExportRun",
    "RunSummary",
    "WebhookResult",
    "build_message",
    "ci_run_url",
    "events_of",
    "notify",
    "post_webhook",
]
