"""Follow each connection, export and Access document through the history, by (kind, name).

A declaration is identified by its kind and name only, so moving it to another file is a
``moved`` change, never a new declaration. Field-level differences come from deepdiff on the
models' JSON dumps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent
from pydantic import BaseModel

from reconciler.audit.git import Commit
from reconciler.audit.history import History, Step
from reconciler.models import Config

Key = tuple[str, str]
TRACKED_KINDS = ("Connection", "Export", "Access")


@dataclass(frozen=True)
class Decl:
    """One declaration as loaded at some commit: its JSON dump and the file holding it."""

    dump: dict[str, Any]
    file: str | None


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    """``created``/``changed``/``moved``/``removed``/``restored`` by one commit."""

    commit: Commit
    action: str
    fields: tuple[FieldChange, ...] = ()
    file: str | None = None


@dataclass
class Track:
    """Everything learned about one declaration while walking the history."""

    kind: str
    name: str
    created: Commit | None = None
    created_truncated: bool = False
    creation_unseen: bool = False
    current: Decl | None = None
    changes: list[Change] = field(default_factory=list)
    enabled_commit: Commit | None = None
    consent_commit: Commit | None = None


def origin_file(config: Config, kind: str, name: str) -> str | None:
    """The file (without line) a declaration came from, per ``Config.origins``."""
    where = config.origins.get(f"{kind}/{name}")
    if where is None and kind == "Access":
        where = next((v for k, v in config.origins.items() if k.startswith("Access/")), None)
    return where.rsplit(":", 1)[0] if where and ":" in where else where


def declarations(config: Config) -> dict[Key, Decl]:
    """Connections, exports and the Access document of ``config``, keyed by (kind, name)."""
    found: dict[Key, BaseModel] = {("Connection", n): c for n, c in config.connections.items()}
    found.update({("Export", n): e for n, e in config.exports.items()})
    if config.access is not None:
        found[("Access", config.access.name or "access")] = config.access
    return {
        key: Decl(dump=model.model_dump(mode="json"), file=origin_file(config, *key))
        for key, model in found.items()
    }


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    """Every changed leaf between two dumps, as ``a.b[2]`` paths with old and new values."""
    diff = DeepDiff(old, new, verbose_level=2)
    changes = [
        FieldChange(
            path=_path(level.path(output_format="list")), old=_v(level.t1), new=_v(level.t2)
        )
        for levels in diff.tree.values()
        for level in levels
    ]
    return tuple(sorted(changes, key=lambda c: c.path))


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _v(value: Any) -> Any:
    return None if isinstance(value, NotPresent) else value


def track_history(history: History) -> dict[Key, Track]:
    """Apply every step of ``history`` in order and return the track of each declaration."""
    tracks: dict[Key, Track] = {}
    for step in history.steps:
        _apply_step(tracks, step)
    return tracks


def _apply_step(tracks: dict[Key, Track], step: Step) -> None:
    after = declarations(step.after)
    if step.before is not None:
        before = declarations(step.before)
    else:
        before = {k: t.current for k, t in tracks.items() if t.current is not None}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        track = tracks.setdefault(key, Track(kind=key[0], name=key[1]))
        _record(track, step, old, new)


def _record(track: Track, step: Step, old: Decl | None, new: Decl | None) -> None:
    commit = step.commit
    if old is None and track.created is None and not track.creation_unseen:
        track.created, track.created_truncated = commit, step.truncated
    elif track.created is None and not track.creation_unseen:
        track.creation_unseen = True
        track.changes.append(_change(commit, old, new))
    else:
        track.changes.append(_change(commit, old, new))
    if _is_enabled(track.kind, new) and not _is_enabled(track.kind, old):
        track.enabled_commit = commit
    elif not _is_enabled(track.kind, new):
        track.enabled_commit = None
    if _consent(old) != _consent(new):
        track.consent_commit = commit if _consent(new) is not None else None
    track.current = new


def _change(commit: Commit, old: Decl | None, new: Decl | None) -> Change:
    if new is None:
        return Change(commit=commit, action="removed", file=old.file if old else None)
    if old is None:
        return Change(commit=commit, action="restored", file=new.file)
    fields = list(field_changes(old.dump, new.dump))
    if old.file != new.file:
        fields.insert(0, FieldChange(path="(file)", old=old.file, new=new.file))
    action = "moved" if len(fields) == 1 and old.file != new.file else "changed"
    return Change(commit=commit, action=action, fields=tuple(fields), file=new.file)


def _is_enabled(kind: str, decl: Decl | None) -> bool:
    """Exports: ``enabled``; connections: consent accepted (no export runs without it)."""
    if decl is None:
        return False
    if kind == "Export":
        return bool(decl.dump.get("enabled"))
    if kind == "Connection":
        consent = decl.dump.get("consent") or {}
        return bool(consent.get("accepted"))
    return True


def _consent(decl: Decl | None) -> Any:
    return decl.dump.get("consent") if decl is not None else None
