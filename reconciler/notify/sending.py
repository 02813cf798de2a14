"""Send every declared Notification that a run triggers; problems become warnings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.models import Config, Notification
from reconciler.notify.events import RunSummary, events_of
from reconciler.notify.message import build_message, ci_run_url
from reconciler.notify.webhook import WebhookResult, post_webhook

Poster = Callable[[str, dict[str, object]], WebhookResult]


@dataclass(frozen=True)
class Delivery:
    """One notification's fate: the events it was about, and whether it reached the webhook."""

    notification: str
    events: tuple[str, ...]
    sent: bool
    attempts: int = 0
    problem: str | None = None

    @property
    def warning(self) -> str | None:
        if self.sent:
            return None
        return f"notification {self.notification} was not sent: {self.problem}"


def notify(
    config: Config,
    run: RunSummary,
    env: Mapping[str, str],
    *,
    post: Poster = post_webhook,
) -> list[Delivery]:
    """A Delivery per Notification whose events ``run`` triggers (none for a quiet run)."""
    deliveries = []
    ci_url = ci_run_url(env)
    for notification in sorted(config.notifications.values(), key=lambda n: n.name):
        events = events_of(notification, run)
        if events:
            deliveries.append(_deliver(notification, run, events, env, ci_url, post))
    return deliveries


def _deliver(
    notification: Notification,
    run: RunSummary,
    events: list[str],
    env: Mapping[str, str],
    ci_url: str | None,
    post: Poster,
) -> Delivery:
    name = notification.webhook.env
    url = env.get(name, "").strip()
    if not url:
        problem = f"environment variable {name} (its webhook URL) is not set"
        return Delivery(notification.name, tuple(events), sent=False, problem=problem)
    if not url.startswith(("https://", "http://")):
        problem = f"environment variable {name} does not hold an http(s) URL"
        return Delivery(notification.name, tuple(events), sent=False, problem=problem)
    result = post(url, build_message(run, events, ci_url))
    return Delivery(notification.name, tuple(events), result.sent, result.attempts, result.problem)
