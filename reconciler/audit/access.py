"""Access rules: who may change connections, exports, the data they send and Access.

* Connections and the Access document may only be changed by ``Access.admins``.
* An export may be added, changed or removed by ``Access.admins`` when a connection it uses is
  ``usable_by: admins`` (the default), and also by ``Access.contributors`` when every connection
  it uses is ``usable_by: contributors``.
* A segment or a source decides who is sent: changing one takes the role that the exports fed
  by it (before or after the change) would take; one that feeds no export is free to change.
* The rules in force are those of the base (so nobody can promote themselves in the same
  change); without a base Access document the head's is used; with none at all, anyone may
  change anything (and a warning says so).

Identities match case-insensitively by email address or GitHub handle (see ``identity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reconciler.audit.identity import listed
from reconciler.audit.tracker import Decl, Key, declarations, origin_file
from reconciler.models import Access, Config

Role = Literal["admins", "contributors"]
NO_ACCESS_WARNING = (
    "no Access document is declared: anyone may change connections and exports; declare "
    "'kind: Access' with admins (and contributors) to restrict who may"
)


@dataclass(frozen=True)
class DeclarationChange:
    """A connection, export or Access document added, changed or removed since the base."""

    kind: str
    name: str
    action: Literal["added", "changed", "removed"]
    file: str | None
    required: Role
    connections: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        where = f" ({self.file})" if self.file else ""
        label = "Access document" if self.kind == "Access" else f"{self.kind.lower()} {self.name}"
        return f"{label}{where}"


@dataclass(frozen=True)
class AccessViolation:
    """``author`` made ``change`` without being in the Access list it requires."""

    author: str
    change: DeclarationChange

    @property
    def message(self) -> str:
        c = self.change
        text = f"{self.author} {c.action} {c.describe()}"
        uses = ", ".join(f"connection {n} (usable_by: {u})" for n, u in c.connections)
        if c.kind == "Export":
            text += f", which uses {uses}"
        elif c.kind in ("Segment", "Source"):
            text += f", which feeds exports to {uses}"
        else:
            text += f"; changing {'Access' if c.kind == 'Access' else 'connections'} needs an admin"
        lists = (
            "Access.admins" if c.required == "admins" else "Access.admins or Access.contributors"
        )
        return f"{text}; {self.author} is not in {lists}"


def rules_in_force(base: Config | None, head: Config) -> Access | None:
    """The Access document that governs a change from ``base`` to ``head``."""
    if base is not None and base.access is not None:
        return base.access
    return head.access


def changed_declarations(base: Config | None, head: Config) -> list[DeclarationChange]:
    """Connections, exports, Access, and the segments and sources feeding exports, that
    differ between ``base`` and ``head``."""
    before = declarations(base) if base is not None else {}
    after = declarations(head)
    changes: list[DeclarationChange] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old.dump == new.dump:
            continue
        changes.append(_change(key, old, new, base, head))
    return changes + _data_changes(base, head)


def _data_changes(base: Config | None, head: Config) -> list[DeclarationChange]:
    """Segments and sources that differ and feed at least one export (in base or head)."""
    changes: list[DeclarationChange] = []
    for kind in ("Segment", "Source"):
        before, after = _data_decls(base, kind), _data_decls(head, kind)
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name), after.get(name)
            if old == new:
                continue
            used = _connections_fed(kind, name, base, head)
            if not used:
                continue
            action: Literal["added", "changed", "removed"] = (
                "added" if old is None else "removed" if new is None else "changed"
            )
            file = origin_file(head if new is not None else base or head, kind, name)
            required: Role = (
                "contributors" if all(u == "contributors" for _, u in used) else "admins"
            )
            changes.append(DeclarationChange(kind, name, action, file, required, used))
    return changes


def _data_decls(config: Config | None, kind: str) -> dict[str, object]:
    if config is None:
        return {}
    found = config.segments if kind == "Segment" else config.sources
    return {name: model.model_dump(mode="json") for name, model in found.items()}


def _connections_fed(
    kind: str, name: str, base: Config | None, head: Config
) -> tuple[tuple[str, str], ...]:
    """(connection, usable_by) of every export the segment or source feeds, before or after."""
    names: set[str] = set()
    for config in (base, head):
        if config is None:
            continue
        segments = (
            {name}
            if kind == "Segment"
            else {n for n, seg in config.segments.items() if seg.source == name}
        )
        names |= {e.connection for e in config.exports.values() if e.segment in segments}
    return _usable_by(names, base, head)


def _change(
    key: Key, old: Decl | None, new: Decl | None, base: Config | None, head: Config
) -> DeclarationChange:
    kind, name = key
    action: Literal["added", "changed", "removed"] = (
        "added" if old is None else "removed" if new is None else "changed"
    )
    file = new.file if new is not None else old.file if old is not None else None
    if kind != "Export":
        return DeclarationChange(kind, name, action, file, "admins")
    used = _connections_used(old, new, base, head)
    required: Role = "contributors" if all(u == "contributors" for _, u in used) else "admins"
    return DeclarationChange(kind, name, action, file, required, used)


def _connections_used(
    old: Decl | None, new: Decl | None, base: Config | None, head: Config
) -> tuple[tuple[str, str], ...]:
    """(connection, usable_by) of the export before and after."""
    return _usable_by({str(d.dump["connection"]) for d in (old, new) if d is not None}, base, head)


def _usable_by(names: set[str], base: Config | None, head: Config) -> tuple[tuple[str, str], ...]:
    """(connection, usable_by) of each of ``names``; the base's rule wins."""
    used = []
    for name in sorted(names):
        conn = (base.connections.get(name) if base else None) or head.connections.get(name)
        used.append((name, conn.usable_by if conn is not None else "admins"))
    return tuple(used)


def allowed(author: str, required: Role, rules: Access) -> bool:
    """True when ``author`` is in the Access list(s) that ``required`` admits."""
    if listed(author, rules.admins):
        return True
    return required == "contributors" and listed(author, rules.contributors)


def check_access(base: Config | None, head: Config, author: str) -> list[AccessViolation]:
    """Every change from ``base`` to ``head`` that ``author`` was not allowed to make."""
    rules = rules_in_force(base, head)
    if rules is None:
        return []
    return [
        AccessViolation(author=author, change=change)
        for change in changed_declarations(base, head)
        if not allowed(author, change.required, rules)
    ]
