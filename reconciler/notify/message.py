"""The Slack-compatible JSON message of a run: counts, masked samples, run id, commit, CI link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.emails import mask_emails_in
from reconciler.notify.events import ExportRun, RunSummary

ICONS = {
    "failed": ":x:",
    "partial": ":warning:",
    "blocked": ":no_entry:",
    "interrupted": ":octagonal_sign:",
    "volume": ":chart_with_upwards_trend:",
}
MAX_EXPORTS = 20  # Slack allows 50 blocks per message


def ci_run_url(env: Mapping[str, str]) -> str | None:
    """The GitHub Actions run page, when the run happens in GitHub Actions."""
    server = env.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    if not (server and repository and run_id):
        return None
    return f"{server}/{repository}/actions/runs/{run_id}"


def build_message(run: RunSummary, events: list[str], ci_url: str | None) -> dict[str, Any]:
    """``{"text": ..., "blocks": [...]}``: the text alone is a complete message too."""
    icon = ICONS.get(events[0], ":bell:") if events else ":bell:"
    commit = f" at commit {run.commit[:12]}" if run.commit else ""
    headline = (
        f"{icon} reconciler apply {run.outcome}: {', '.join(events)} (run {run.run_id}{commit})"
    )
    lines = [_export_line(e) for e in run.exports[:MAX_EXPORTS]]
    if len(run.exports) > MAX_EXPORTS:
        lines.append(f"... and {len(run.exports) - MAX_EXPORTS} more export(s)")
    context = f"run `{run.run_id}` by {run.actor}" + (
        f", commit `{run.commit[:12]}`" if run.commit else ""
    )
    if ci_url:
        context += f", <{ci_url}|CI run>"
    text = "\n".join([headline, *lines] + ([ci_url] if ci_url else []))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        *({"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]
    message = {
        "text": text,
        "blocks": blocks,
        "reconciler": {
            "run_id": run.run_id,
            "outcome": run.outcome,
            "events": events,
            "commit": run.commit,
            "ci_url": ci_url,
            "exports": [_export_fields(e) for e in run.exports],
        },
    }
    masked: dict[str, Any] = _masked(message)
    return masked


def _export_line(e: ExportRun) -> str:
    size = f" (list of {e.list_before:,})" if e.list_before is not None else ""
    line = (
        f"*{e.name}* -> list `{e.list_id}`{size}: {e.outcome}; "
        f"+{e.added:,} added, -{e.removed:,} removed, {e.failed:,} failed"
    )
    if e.add_samples:
        line += f"; added e.g. {', '.join(e.add_samples)}"
    if e.remove_samples:
        line += f"; removed e.g. {', '.join(e.remove_samples)}"
    if e.error:
        line += f"\n> {e.error[:300]}"
    return line


def _export_fields(e: ExportRun) -> dict[str, Any]:
    return {
        "export": e.name,
        "list_id": e.list_id,
        "outcome": e.outcome,
        "added": e.added,
        "removed": e.removed,
        "failed": e.failed,
        "list_before": e.list_before,
        "error": e.error,
    }


def _masked(value: Any) -> Any:
    """Every string with email-like words masked: errors may quote an address."""
    if isinstance(value, str):
        return mask_emails_in(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value
