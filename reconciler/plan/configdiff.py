"""Configuration changes between a git base and the working tree, field by field."""

from __future__ import annotations

from collections.abc import Mapping

from deepdiff import DeepDiff
from pydantic import BaseModel

from reconciler.models import Config
from reconciler.plan.model import ConfigChange

MAX_DETAILS = 20


def config_changes(base: Config | None, head: Config) -> tuple[ConfigChange, ...]:
    """Connections and exports added, removed, enabled, disabled or changed since ``base``."""
    if base is None:
        return ()
    found: list[ConfigChange] = []
    found.extend(_compare("Connection", base.connections, head.connections))
    found.extend(_compare("Export", base.exports, head.exports))
    found.extend(_compare("Segment", base.segments, head.segments))
    found.extend(_compare("Source", base.sources, head.sources))
    return tuple(found)


def _compare(
    kind: str, before: Mapping[str, BaseModel], after: Mapping[str, BaseModel]
) -> list[ConfigChange]:
    changes: list[ConfigChange] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old is None and new is not None:
            changes.append(ConfigChange(kind=kind, name=name, action="added"))
        elif new is None and old is not None:
            changes.append(_removed(kind, name, old))
        elif old is not None and new is not None:
            changes.extend(_changed(kind, name, old, new))
    return changes


def _removed(kind: str, name: str, old: BaseModel) -> ConfigChange:
    details: tuple[str, ...] = ()
    list_id = getattr(old, "list_id", None)
    if list_id:
        details = (f"no longer managed: list {list_id} is left untouched",)
    return ConfigChange(kind=kind, name=name, action="removed", details=details)


def _changed(kind: str, name: str, old: BaseModel, new: BaseModel) -> list[ConfigChange]:
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    if before == after:
        return []
    out: list[ConfigChange] = []
    if before.get("enabled") != after.get("enabled"):
        action = "enabled" if after.get("enabled") else "disabled"
        out.append(ConfigChange(kind=kind, name=name, action=action))
        before.pop("enabled", None)
        after.pop("enabled", None)
    details = field_changes(before, after)
    if details:
        out.append(ConfigChange(kind=kind, name=name, action="changed", details=details))
    return out


def field_changes(before: Mapping[str, object], after: Mapping[str, object]) -> tuple[str, ...]:
    """Human-readable field-level differences, e.g. ``limits.max_removals: '30%' -> 100``."""
    diff = DeepDiff(dict(before), dict(after), ignore_order=True, verbose_level=2)
    lines: list[str] = []
    for key in ("values_changed", "type_changes"):
        for path, change in diff.get(key, {}).items():
            lines.append(f"{_path(path)}: {change['old_value']!r} -> {change['new_value']!r}")
    for key, verb in (("dictionary_item_added", "added"), ("dictionary_item_removed", "removed")):
        for path in diff.get(key, {}):
            lines.append(f"{_path(path)} {verb}")
    for key, verb in (("iterable_item_added", "added"), ("iterable_item_removed", "removed")):
        for path, value in diff.get(key, {}).items():
            lines.append(f"{_path(path)} {verb} {value!r}")
    lines.sort()
    if len(lines) > MAX_DETAILS:
        lines = [*lines[:MAX_DETAILS], f"... and {len(lines) - MAX_DETAILS} more"]
    return tuple(lines)


def _path(deepdiff_path: str) -> str:
    """``root['limits']['max_removals']`` -> ``limits.max_removals``."""
    inner = deepdiff_path.removeprefix("root")
    return inner.replace("']['", ".").replace("['", "").replace("']", "").replace("][", "].[")
