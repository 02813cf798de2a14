"""The HTML page: a Jinja2 template (autoescaped) with the pygal charts inlined."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from reconciler.emails import mask_email, mask_emails_in
from reconciler.report.charts import changes_chart, size_chart
from reconciler.report.data import Dashboard, ExportCard

_ENV = Environment(
    loader=PackageLoader("reconciler", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(dashboard: Dashboard) -> str:
    """One self-contained page: inline CSS and SVG, no script, nothing fetched."""
    template = _ENV.get_template("report.html.j2")
    html = template.render(
        dashboard=dashboard,
        cards=[_card(card) for card in dashboard.exports],
        audit=_audit(dashboard),
        totals=_totals(dashboard),
    )
    return mask_emails_in(html)


def _card(card: ExportCard) -> dict[str, Any]:
    last = card.last_run
    charts = (
        [Markup(size_chart(card.name, card.runs)), Markup(changes_chart(card.name, card.runs))]
        if card.runs
        else []
    )
    return {
        "card": card,
        "last": last,
        "last_text": f"{last.started_at:%Y-%m-%d %H:%M} UTC by {_who(last.actor)}"
        if last
        else "never",
        "size": f"{card.list_size:,}" if card.list_size is not None else "unknown",
        "charts": charts,
        "added": sum(r.added for r in card.runs),
        "removed": sum(r.removed for r in card.runs),
    }


def _who(actor: str) -> str:
    return mask_email(actor) if "@" in actor else actor


def _totals(dashboard: Dashboard) -> dict[str, int]:
    return {
        "exports": len(dashboard.exports),
        "enabled": sum(1 for c in dashboard.exports if c.enabled),
        "failing": sum(
            1
            for c in dashboard.exports
            if c.status in ("failed", "partial", "blocked", "interrupted")
        ),
        "members": sum(c.list_size or 0 for c in dashboard.exports),
    }


def _audit(dashboard: Dashboard) -> list[dict[str, Any]]:
    if dashboard.audit is None:
        return []
    rows = []
    for entry in dashboard.audit.entries:
        data = entry.data
        rows.append(
            {
                "kind": entry.kind,
                "name": entry.name,
                "status": data.get("status"),
                "created": _person(
                    data.get("created_by_name"), data.get("created_by"), data.get("created_at")
                ),
                "enabled": _person(None, data.get("enabled_by"), data.get("enabled_at"))
                if data.get("enabled")
                else "-",
                "consent": data.get("consent_accepted_by") or "-",
                "warnings": data.get("warnings", []),
                "changes": [
                    {
                        "date": str(c.get("date") or "")[:10],
                        "who": _person(c.get("author_name"), c.get("author"), None),
                        "action": c.get("action"),
                        "subject": c.get("subject"),
                        "commit": str(c.get("commit") or "")[:10],
                        "fields": [f["path"] for f in c.get("fields", [])],
                    }
                    for c in data.get("changes", [])
                ],
            }
        )
    return rows


def _person(name: object, email: object, when: object) -> str:
    who = mask_email(email) if isinstance(email, str) and "@" in email else str(email or "")
    text = f"{name} ({who})" if name and who else str(name or who or "-")
    return text + (f", {str(when)[:10]}" if when else "")
