"""Renderings of an audit report: text table, JSON and markdown (returned, never printed).

Configuration values and commit subjects pass through the masker (a segment query may name a
customer); authors and ``accepted_by`` are the operators' git identities and stay readable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.audit.report import AuditReport
from reconciler.emails import mask_text

FORMATS = ("table", "json", "markdown")
SUMMARY_COLUMNS = ("KIND", "NAME", "STATUS", "CREATED", "ENABLED", "CONSENT", "CHANGES", "LAST RUN")


def render_report(report: AuditReport, fmt: str) -> str:
    """The report as ``table``, ``json`` or ``markdown`` text."""
    if fmt == "json":
        return json.dumps(_masked_values(report.as_dict()), indent=2, default=str)
    if fmt == "markdown":
        return render_markdown(report)
    return render_table(report)


def _value(value: Any) -> str:
    return json.dumps(_masked(value), default=str, ensure_ascii=False)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def _masked_values(report: dict[str, Any]) -> dict[str, Any]:
    """The JSON report with every change's values and subject masked (in place)."""
    for entry in report.get("entries") or []:
        for change in entry.get("changes") or []:
            change["subject"] = mask_text(str(change.get("subject", "")))
            for field in change.get("fields") or []:
                for side in ("old", "new"):
                    field[side] = _masked(field.get(side))
    return report


def _who(by: Any, at: Any) -> str:
    return f"{by} {str(at)[:10]}" if by else "-"


def _consent(e: dict[str, Any]) -> str:
    if e.get("consent_accepted_by") is None and e.get("consent_commit_author") is None:
        return "-" if e["kind"] != "Access" else ""
    flag = " MISMATCH" if e.get("consent_mismatch") else ""
    return f"{e.get('consent_accepted_by') or '?'}{flag}"


def _detail_lines(e: dict[str, Any]) -> list[str]:
    lines = []
    if e.get("created_by"):
        lines.append(
            f"  created  {str(e['created_at'])[:10]} by {e['created_by']} "
            f"(commit {str(e['created_commit'])[:10]})"
        )
    if e.get("enabled_by"):
        lines.append(
            f"  enabled  {str(e['enabled_at'])[:10]} by {e['enabled_by']} "
            f"(commit {str(e['enabled_commit'])[:10]})"
        )
    elif e.get("enabled") is False:
        lines.append("  enabled  no")
    if e.get("consent_commit_author") or e.get("consent_accepted_by"):
        lines.append(
            f"  consent  accepted_by {e.get('consent_accepted_by') or '(none)'} "
            f"(connection {e.get('consent_connection')}); set in commit "
            f"{str(e.get('consent_commit'))[:10]} by {e.get('consent_commit_author')}"
        )
    return lines


def _last_run(e: dict[str, Any]) -> str:
    runs = e.get("last_runs") or []
    return f"{runs[0]['started_at'][:16]} {runs[0]['outcome']}" if runs else "-"


def _summary_row(e: dict[str, Any]) -> list[str]:
    return [
        e["kind"],
        e["name"],
        e["status"],
        _who(e.get("created_by"), e.get("created_at")),
        _who(e.get("enabled_by"), e.get("enabled_at")),
        _consent(e),
        str(len(e.get("changes") or [])),
        _last_run(e),
    ]


def _table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [list(header), *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return lines


def _change_lines(change: dict[str, Any]) -> list[str]:
    head = (
        f"    {change['date'][:10]} {change['commit'][:10]} {change['author']}: "
        f"{change['action']} — {mask_text(change['subject'])}"
    )
    fields = [
        f"      {f['path']}: {_value(f['old'])} -> {_value(f['new'])}" for f in change["fields"]
    ]
    return [head, *fields]


def _run_line(run: dict[str, Any]) -> str:
    counts = ", ".join(
        f"{x['export']} +{x['added']} -{x['removed']} failed {x['failed']}" for x in run["exports"]
    )
    return (
        f"    {run['started_at'][:19]} {run['command']} {run['outcome']} by {run['actor']} "
        f"(run {run['run_id']}){': ' + counts if counts else ''}"
    )


def render_table(report: AuditReport) -> str:
    entries = [e.as_dict() for e in report.entries]
    lines = [f"Audit of {report.config_dir} in {report.repo} at {str(report.head)[:10]}"]
    lines += [f"warning: {w}" for w in report.warnings]
    lines += [f"note: {n}" for n in report.notes]
    if not entries:
        return "\n".join([*lines, "no connections, exports or Access documents in the history"])
    lines += ["", *_table(SUMMARY_COLUMNS, [_summary_row(e) for e in entries])]
    for e in entries:
        lines += ["", f"{e['kind']} {e['name']} ({e.get('file') or 'removed'})"]
        lines += _detail_lines(e)
        lines += [f"  warning: {w}" for w in e["warnings"]]
        if e["changes"]:
            lines.append("  changes:")
            for change in e["changes"]:
                lines += _change_lines(change)
        if e["last_runs"]:
            lines.append("  last runs:")
            lines += [_run_line(r) for r in e["last_runs"]]
    return "\n".join(lines)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: AuditReport) -> str:
    entries = [e.as_dict() for e in report.entries]
    lines = [f"## Audit of `{report.config_dir}` at `{str(report.head)[:10]}`", ""]
    lines += [f"> **Warning:** {w}" for w in report.warnings]
    lines += [f"- note: {n}" for n in report.notes]
    if entries:
        lines += ["", "| " + " | ".join(SUMMARY_COLUMNS) + " |"]
        lines.append("|" + "---|" * len(SUMMARY_COLUMNS))
        lines += ["| " + " | ".join(_md(c) for c in _summary_row(e)) + " |" for e in entries]
    for e in entries:
        lines += ["", f"### {e['kind']} `{e['name']}`", ""]
        lines.append(f"- file: `{e.get('file') or 'removed'}`")
        lines += [f"- {_md(line.strip())}" for line in _detail_lines(e)]
        lines += [f"- **warning:** {_md(w)}" for w in e["warnings"]]
        if e["changes"]:
            lines += ["", "| date | commit | author | action | field | old | new |"]
            lines.append("|---|---|---|---|---|---|---|")
            lines += _md_changes(e["changes"])
        if e["last_runs"]:
            lines.append("")
            lines += [f"- run: {_md(_run_line(r).strip())}" for r in e["last_runs"]]
    return "\n".join(lines) + "\n"


def _md_changes(changes: list[dict[str, Any]]) -> list[str]:
    rows = []
    for c in changes:
        prefix = f"| {c['date'][:10]} | `{c['commit'][:10]}` | {_md(c['author'])} | {c['action']} |"
        fields = c["fields"] or [{"path": "", "old": None, "new": None}]
        rows += [
            f"{prefix} {_md(f['path'])} | {_md(_value(f['old']))} | {_md(_value(f['new']))} |"
            for f in fields
        ]
    return rows
