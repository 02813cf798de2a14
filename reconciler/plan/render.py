"""Renderings of a plan: text for terminals, markdown for pull requests, json for machines.

None of them contains a full email address: counts, and masked samples at most.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence

from reconciler.emails import mask_email, mask_text
from reconciler.plan.model import ConfigChange, ExportPlan, Plan

MARKDOWN_LIMIT = 60_000
SAMPLES = 5
MARKER = "<!-- reconciler-plan -->"
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")

Style = Callable[..., str]
TRUNCATED = (
    "\n\n_…truncated to stay under GitHub's comment limit; run `reconciler plan` for the rest._"
)


def _plain(text: str, **_: object) -> str:
    return text


def samples(emails: Sequence[str]) -> list[str]:
    return [mask_email(e) for e in emails[:SAMPLES]]


def export_summary(e: ExportPlan) -> dict[str, object]:
    """The json form of one export's plan: counts, never addresses."""
    return {
        "name": e.name,
        "connection": e.connection,
        "list_id": e.list_id,
        "mode": e.mode,
        "add": len(e.add),
        "remove": len(e.remove),
        "unchanged": e.unchanged,
        "invalid": e.invalid,
        "kept_invalid": e.kept_invalid,
        "invalid_phones": e.invalid_phones,
        "duplicates": e.duplicates,
        "current": e.current,
        "desired": e.desired,
        "blocked": e.blocked,
        "reasons": e.reasons,
        "forced": e.forced_guards,
        "incremental": e.incremental,
        "left_outside": e.left_outside,
        "readd": len(e.readd),
        "left_outside_samples": list(e.left_outside_samples),
        "notes": list(e.notes),
        "estimate": {
            "calls": e.estimate.calls,
            "seconds": e.estimate.seconds,
            "seconds_high": e.estimate.seconds_high or e.estimate.seconds,
        },
        "update": len(e.update),
        "updated_fields": dict(e.updated_fields),
        "subscribe": len(e.subscribe),
        "already_subscribed": len(e.already_subscribed),
        "subscribe_skipped": dict(e.subscribe_skipped),
        "subscribe_skipped_samples": list(e.subscribe_skipped_samples),
    }


def marketing_lines(e: ExportPlan) -> list[str]:
    """The updates and subscriptions of one export, one line each (counts and masked samples)."""
    lines: list[str] = []
    if e.update:
        fields = ", ".join(f"{k} {n:,}" for k, n in sorted(e.updated_fields.items()))
        lines.append(f"{len(e.update):,} to update (changed fields: {fields})")
    if e.subscribe or e.subscribe_skipped or e.already_subscribed:
        skipped = sum(e.subscribe_skipped.values())
        text = f"{len(e.subscribe):,} to subscribe, {skipped:,} skipped"
        if e.subscribe_skipped:
            text += ": " + "; ".join(
                f"{reason} {n:,}" for reason, n in sorted(e.subscribe_skipped.items())
            )
        if e.already_subscribed:
            text += f"; {len(e.already_subscribed):,} already subscribed"
        lines.append(text)
        if e.subscribe_skipped_samples:
            lines.append(f"skipped e.g. {', '.join(e.subscribe_skipped_samples)}")
    return lines


def render_json(plan: Plan) -> str:
    body = {
        "exports": [export_summary(e) for e in plan.exports],
        "config_changes": [c.model_dump(mode="json") for c in plan.config_changes],
        "base": plan.base,
        "forced": plan.forced,
        "checksum": plan.checksum,
    }
    return mask_text(json.dumps(body, indent=2))


def _change_line(change: ConfigChange) -> str:
    details = f": {'; '.join(change.details)}" if change.details else ""
    return f"{change.kind} {change.name} {change.action}{details}"


def render_text(plan: Plan, style: Style = _plain) -> str:
    lines: list[str] = []
    for e in plan.exports:
        lines.extend(_text_export(e, style))
        lines.append("")
    if plan.config_changes:
        base = f" since {short_ref(plan.base)}" if plan.base else ""
        lines.append(style(f"Configuration changes{base}:", bold=True))
        lines.extend(f"  {_change_line(c)}" for c in plan.config_changes)
        lines.append("")
    lines.append(_totals(plan))
    return mask_text("\n".join(lines))


def _text_export(e: ExportPlan, style: Style) -> list[str]:
    head = f"Export {e.name} -> list {e.list_id} ({e.connection}, {e.mode})"
    lines = [style(head, bold=True)]
    if e.error:
        return [*lines, style(f"  error: {e.error}", fg="red")]
    lines.append(
        "  "
        + style(f"+{len(e.add):,} add", fg="green")
        + "  "
        + style(f"-{len(e.remove):,} remove", fg="red")
        + f"  ={e.unchanged:,} unchanged  {e.invalid:,} invalid  {e.duplicates:,} duplicate rows"
    )
    lines.append(
        f"  list {e.current:,} -> {e.current + len(e.add) - len(e.remove):,} members; "
        f"{estimate_line(e)}" + (" (incremental read)" if e.incremental else "")
    )
    if e.add:
        lines.append(f"  add e.g. {', '.join(samples(e.add))}")
    if e.remove:
        lines.append(f"  remove e.g. {', '.join(samples(e.remove))}")
    lines.extend(f"  {line}" for line in marketing_lines(e))
    if e.left_outside:
        lines.append(style(f"  {left_outside_line(e)}", fg="yellow"))
    if e.readd:
        lines.append(
            f"  {len(e.readd):,} of the adds left the list outside the reconciler and are "
            f"re-added once (external_removals: readd): e.g. {', '.join(samples(e.readd))}"
        )
    if e.kept_invalid:
        lines.append(
            style(
                f"  kept {e.kept_invalid:,} members whose segment rows have addresses our "
                "validator refused (not removed; check the invalid rows)",
                fg="yellow",
            )
        )
    if e.invalid_phones:
        shown = ", ".join(e.invalid_phone_samples)
        lines.append(
            style(
                f"  {e.invalid_phones:,} phone numbers dropped (not a possible number; the "
                f"profiles still go without one), e.g. {shown}",
                fg="yellow",
            )
        )
    lines.extend(style(f"  note: {note}", fg="yellow") for note in e.notes)
    for reason in e.reasons:
        lines.append(style(f"  BLOCKED: {reason}", fg="red", bold=True))
    for name in e.forced_guards:
        lines.append(style(f"  FORCED: guard {name} overridden with --force", fg="yellow"))
    return lines


def estimate_line(e: ExportPlan) -> str:
    """``~N calls, at least Xs``, or with imports ``~N calls, about X-Ys (...)``."""
    est = e.estimate
    calls = f"~{est.calls:,} calls"
    if est.seconds_high is None:
        return f"{calls}, at least {est.seconds:.0f}s"
    low, high = math.floor(est.seconds), max(1, math.ceil(est.seconds_high))
    return f"{calls}, about {low:,}-{high:,}s (Klaviyo's import processing, estimated)"


def left_outside_line(e: ExportPlan) -> str:
    """The plan's word on segment members who left the list outside the reconciler."""
    shown = ", ".join(e.left_outside_samples)
    return (
        f"{e.left_outside:,} left outside the reconciler (unsubscribed from a campaign, "
        f"deleted, merged or removed in Klaviyo), not re-added: e.g. {shown}"
    )


def short_ref(ref: str) -> str:
    """A commit sha shortened to 12 characters (as git shows it); a branch name as it is."""
    return ref[:12] if _SHA.fullmatch(ref) else ref


def _totals(plan: Plan) -> str:
    adds = sum(len(e.add) for e in plan.exports if not e.blocked)
    removes = sum(len(e.remove) for e in plan.exports if not e.blocked)
    updates = sum(len(e.update) for e in plan.exports if not e.blocked)
    subscribes = sum(len(e.subscribe) for e in plan.exports if not e.blocked)
    blocked = sum(1 for e in plan.exports if e.blocked)
    text = f"Plan: {adds:,} to add, {removes:,} to remove"
    if updates:
        text += f", {updates:,} to update"
    if subscribes:
        text += f", {subscribes:,} to subscribe"
    text += f" across {len(plan.exports)} export(s)"
    return text + (f"; {blocked} blocked" if blocked else "") + "."


def render_markdown(plan: Plan, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment, always under ``limit`` characters."""
    parts = [MARKER, "## Reconciler plan", "", _totals(plan), "", _markdown_table(plan)]
    for e in plan.exports:
        parts.extend(_markdown_details(e))
    parts.extend(_markdown_changes(plan))
    text = mask_text("\n".join(parts))
    if len(text) > limit:
        cut = text[: limit - 200].rsplit("\n", 1)[0]
        text = cut + TRUNCATED
    return text


def _markdown_table(plan: Plan) -> str:
    rows = [
        "| export | list | add | remove | unchanged | invalid | status |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for e in plan.exports:
        status = "blocked" if e.blocked else ("forced" if e.forced_guards else "ok")
        rows.append(
            f"| `{e.name}` | `{e.list_id}` | {len(e.add):,} | {len(e.remove):,} | "
            f"{e.unchanged:,} | {e.invalid:,} | {status} |"
        )
    return "\n".join(rows)


def _markdown_details(e: ExportPlan) -> list[str]:
    lines: list[str] = [f"- :information_source: **{e.name}**: {note}" for note in e.notes]
    if e.left_outside:
        lines.append(f"- :information_source: **{e.name}**: {left_outside_line(e)}")
    for reason in e.reasons:
        lines.append(f"- :no_entry: **{e.name}** blocked: {reason}")
    for name in e.forced_guards:
        lines.append(f"- :warning: **{e.name}**: guard `{name}` overridden with `--force`")
    lines.extend(f"- **{e.name}**: {line}" for line in marketing_lines(e))
    if e.estimate.calls:
        lines.append(f"- **{e.name}** estimate: {estimate_line(e)}")
    if e.add or e.remove:
        adds = ", ".join(f"`{s}`" for s in samples(e.add)) or "none"
        removes = ", ".join(f"`{s}`" for s in samples(e.remove)) or "none"
        lines.append(f"- **{e.name}** samples: add {adds}; remove {removes}")
    return ["", *lines] if lines else []


def _markdown_changes(plan: Plan) -> list[str]:
    if not plan.config_changes:
        return []
    base = f" since `{short_ref(plan.base)}`" if plan.base else ""
    lines = ["", f"### Configuration changes{base}", ""]
    lines.extend(f"- {_change_line(c)}" for c in plan.config_changes)
    return lines
