"""The audit report: who created, enabled, consented to and changed each declaration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.audit import git
from reconciler.audit.history import History, read_history, relative_config_dir
from reconciler.audit.identity import same_person
from reconciler.audit.tracker import Change, Key, Track, track_history
from reconciler.errors import ReconcilerError
from reconciler.jsonable import fields_json
from reconciler.state.protocol import RunJournal
from reconciler.state.records import RunRecord

MAX_RUNS = 5


class UnknownAuditExport(ReconcilerError):
    """``audit --export NAME`` names no export found in the history."""


@dataclass
class AuditEntry:
    """The audit of one connection, export or Access document."""

    kind: str
    name: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, **self.data}


@dataclass
class AuditReport:
    repo: str
    config_dir: str
    head: str | None
    shallow: bool
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: list[AuditEntry] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return fields_json(self)


def audit(
    config_dir: Path,
    *,
    export: str | None = None,
    journal: RunJournal | None = None,
    max_runs: int = MAX_RUNS,
) -> AuditReport:
    """Audit every connection, export and Access document declared under ``config_dir``."""
    repo = git.repo_root(config_dir)
    rel = relative_config_dir(repo, config_dir)
    history = read_history(repo, rel)
    tracks = track_history(history)
    report = AuditReport(
        repo=str(repo),
        config_dir=rel,
        head=git.resolve(repo, "HEAD") if git.has_commits(repo) else None,
        shallow=history.shallow,
        warnings=_warnings(history, repo, rel),
        notes=list(history.notes),
    )
    for key in _selected(tracks, export):
        report.entries.append(_entry(tracks[key], tracks, journal, max_runs))
    return report


def _warnings(history: History, repo: Path, rel: str) -> list[str]:
    warnings: list[str] = []
    if history.shallow:
        oldest = history.oldest_visible
        since = f" before commit {oldest.short} ({oldest.date[:10]})" if oldest else ""
        warnings.append(
            f"this is a shallow clone: history{since} is not visible, so 'created' and "
            "'enabled' may name the oldest visible commit instead of the real one; run "
            "'git fetch --unshallow' (in GitHub Actions: actions/checkout with fetch-depth: 0)"
        )
    dirty = git.dirty_paths(repo, rel)
    if dirty:
        warnings.append(
            f"{len(dirty)} file(s) under {rel} have uncommitted changes, which are not part of "
            f"this audit (first: {dirty[0]})"
        )
    return warnings


def _selected(tracks: dict[Key, Track], export: str | None) -> list[Key]:
    order = {"Connection": 0, "Export": 1, "Access": 2}
    keys = sorted(tracks, key=lambda k: (order[k[0]], k[1]))
    if export is None:
        return keys
    chosen = tracks.get(("Export", export))
    if chosen is None:
        known = ", ".join(k[1] for k in keys if k[0] == "Export") or "none"
        raise UnknownAuditExport(f"no export named '{export}' in the history (known: {known})")
    connection = _connection_of(chosen)
    return [k for k in keys if k == ("Export", export) or k == ("Connection", connection)]


def _connection_of(track: Track) -> str | None:
    if track.kind != "Export" or track.current is None:
        return None
    value = track.current.dump.get("connection")
    return str(value) if value is not None else None


def _entry(
    track: Track, tracks: dict[Key, Track], journal: RunJournal | None, max_runs: int
) -> AuditEntry:
    data: dict[str, Any] = {
        "status": "present" if track.current is not None else "removed",
        "file": track.current.file if track.current else None,
        **_creation(track),
        **_enabling(track),
        **_consent(track, tracks),
        "changes": [_change_dict(c) for c in track.changes],
        "last_runs": _runs(track, tracks, journal, max_runs),
    }
    data["warnings"] = _entry_warnings(track, data)
    return AuditEntry(kind=track.kind, name=track.name, data=data)


def _creation(track: Track) -> dict[str, Any]:
    c = track.created
    return {
        "created_by": c.author_email if c else None,
        "created_by_name": c.author_name if c else None,
        "created_at": c.date if c else None,
        "created_commit": c.sha if c else None,
    }


def _enabling(track: Track) -> dict[str, Any]:
    current = track.current.dump if track.current else {}
    if track.kind == "Export":
        enabled: bool | None = bool(current.get("enabled")) if track.current else False
    elif track.kind == "Connection":
        enabled = bool((current.get("consent") or {}).get("accepted"))
    else:
        enabled = None
    c = track.enabled_commit if enabled else None
    return {
        "enabled": enabled,
        "enabled_by": c.author_email if c else None,
        "enabled_at": c.date if c else None,
        "enabled_commit": c.sha if c else None,
    }


def _consent(track: Track, tracks: dict[Key, Track]) -> dict[str, Any]:
    source = track
    if track.kind == "Export":
        connection = _connection_of(track)
        source = tracks.get(("Connection", connection or ""), Track(kind="Connection", name=""))
    if source.kind != "Connection":
        return {"consent_accepted_by": None, "consent_commit_author": None}
    consent = (source.current.dump.get("consent") if source.current else None) or {}
    c = source.consent_commit
    accepted_by = consent.get("accepted_by")
    author = c.author_email if c else None
    return {
        "consent_connection": source.name or None,
        "consent_accepted": consent.get("accepted"),
        "consent_accepted_by": accepted_by,
        "consent_accepted_at": consent.get("accepted_at"),
        "consent_commit": c.sha if c else None,
        "consent_commit_author": author,
        "consent_mismatch": bool(accepted_by and author and not same_person(accepted_by, author)),
    }


def _change_dict(change: Change) -> dict[str, Any]:
    c = change.commit
    return {
        "commit": c.sha,
        "author": c.author_email,
        "author_name": c.author_name,
        "date": c.date,
        "subject": c.subject,
        "action": change.action,
        "file": change.file,
        "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in change.fields],
    }


def _entry_warnings(track: Track, data: dict[str, Any]) -> list[str]:
    warnings: list[str] = []
    if track.created_truncated:
        warnings.append(
            "created at or before the shallow clone's oldest commit: the real creation may be older"
        )
    if track.creation_unseen:
        warnings.append("its creation is not visible (a merge commit or an invalid commit)")
    if data.get("consent_mismatch"):
        whose = (
            "consent"
            if track.kind == "Connection"
            else (f"consent of connection {data.get('consent_connection')}")
        )
        warnings.append(
            f"{whose}: accepted_by is {data['consent_accepted_by']} but the commit that set it "
            f"was authored by {data['consent_commit_author']}"
        )
    return warnings


def _runs(
    track: Track, tracks: dict[Key, Track], journal: RunJournal | None, max_runs: int
) -> list[dict[str, Any]]:
    if journal is None or track.kind == "Access":
        return []
    if track.kind == "Export":
        names = {track.name}
        runs = journal.list_runs(export=track.name, limit=max_runs)
    else:
        names = {k[1] for k, t in tracks.items() if _connection_of(t) == track.name}
        runs = [r for r in journal.list_runs(limit=200) if names & {e.export for e in r.exports}]
    return [_run_dict(r, names) for r in runs[:max_runs]]


def _run_dict(run: RunRecord, names: set[str]) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "actor": run.actor,
        "commit": run.commit,
        "command": run.command,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "outcome": run.outcome,
        "exports": [
            {
                "export": e.export,
                "list_id": e.list_id,
                "added": e.added,
                "removed": e.removed,
                "failed": e.failed,
                "outcome": e.outcome,
            }
            for e in run.exports
            if e.export in names
        ],
    }
