"""Finding and adopting existing Klaviyo lists: ``reconciler lists`` and ``reconciler import``.

``account_lists`` reads every list of a connection's account and says which export targets
each; ``import_list`` writes an Export document for an existing list, validates it with the
rest of the config, and plans it (its first plan says when it adopts a list never managed).
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.config import load_config, load_config_from_files
from reconciler.config.files import display_root, read_config_dir
from reconciler.engine.connections import OpenConnection, open_connections
from reconciler.engine.destination import Destination
from reconciler.engine.options import RunOptions
from reconciler.engine.planning import plan_exports
from reconciler.errors import (
    ConfigError,
    ConnectionUnusable,
    DestinationNotFound,
    HintedError,
)
from reconciler.models import LIST_ID_PATTERN, NAME_PATTERN, Config, Connection
from reconciler.plan.model import Plan
from reconciler.sources import preview_segment
from reconciler.state import StateBackend

SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/export.schema.json"
ATTRIBUTE_COLUMNS = ("first_name", "last_name", "phone_number", "external_id", "organization")


class AdoptionError(HintedError):
    """``lists`` or ``import`` cannot go on: unknown connection or list, a clashing name."""


@dataclass(frozen=True)
class ListRow:
    """One list of the account and the exports of the config that target it."""

    id: str
    name: str
    created: dt.datetime | None
    members: int | None
    exports: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created.isoformat() if self.created else None,
            "members": self.members,
            "exports": list(self.exports),
        }


@dataclass(frozen=True)
class ListsReport:
    """The lists of one connection's account; ``missing`` are exports whose list is absent."""

    connection: str
    account: str
    lists: tuple[ListRow, ...]
    missing: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "account": self.account,
            "lists": [row.as_dict() for row in self.lists],
            "missing": [{"export": e, "list_id": i} for e, i in self.missing],
        }


@dataclass(frozen=True)
class ImportResult:
    """The Export document written for an existing list and the first plan it would make."""

    export: str
    list_name: str
    document: str
    plan: Plan


def choose_connection(config: Config, name: str | None) -> Connection:
    """The connection named ``name``, or the only one when ``name`` is None."""
    known = ", ".join(sorted(config.connections)) or "(none)"
    if name is None:
        if len(config.connections) == 1:
            return next(iter(config.connections.values()))
        raise AdoptionError(
            f"{len(config.connections)} connections are declared; choose one",
            f"pass --connection NAME (declared: {known})",
        )
    found = config.connections.get(name)
    if found is None:
        raise AdoptionError(f"connection '{name}' is not declared", f"declared: {known}")
    return found


async def account_lists(
    options: RunOptions, connection_name: str | None, *, counts: bool = True
) -> ListsReport:
    """Every list of the connection's account, with member counts when ``counts``."""
    config = load_config(options.config_dir)
    connection = choose_connection(config, connection_name)
    async with AsyncExitStack() as stack:
        opened, destination = await _open(connection, options, stack)
        found = await destination.account_lists(with_counts=counts)
    targets: dict[str, list[str]] = {}
    for export in config.exports.values():
        if export.connection == connection.name:
            targets.setdefault(export.list_id, []).append(export.name)
    rows = tuple(
        ListRow(a.id, a.name, a.created, a.profile_count, tuple(sorted(targets.get(a.id, ()))))
        for a in found
    )
    present = {row.id for row in rows}
    missing = tuple(sorted((name, list_id) for list_id, names in targets.items() for name in names))
    return ListsReport(
        connection=connection.name,
        account=opened.account,
        lists=rows,
        missing=tuple(pair for pair in missing if pair[1] not in present),
    )


async def _open(
    connection: Connection, options: RunOptions, stack: AsyncExitStack
) -> tuple[OpenConnection, Destination]:
    """``connection`` opened, and its verified destination."""
    opened: OpenConnection = (
        await open_connections({connection.name: connection}, options, stack)
    )[connection.name]
    if opened.destination is None:
        raise ConnectionUnusable(opened.error or f"connection '{connection.name}' is unusable")
    return opened, opened.destination


async def import_list(
    options: RunOptions,
    state: StateBackend,
    *,
    connection_name: str | None,
    list_id: str,
    segment: str,
    name: str | None = None,
    mode: str = "mirror",
    email_column: str | None = None,
) -> ImportResult:
    """An Export document adopting list ``list_id`` for ``segment``, validated and planned."""
    if not re.match(LIST_ID_PATTERN, list_id):
        raise AdoptionError(
            f"'{list_id}' is not a Klaviyo list id", "a list id is six letters or digits"
        )
    config = load_config(options.config_dir)
    connection = choose_connection(config, connection_name)
    preview = preview_segment(config, segment, options.config_dir, email_column=email_column)
    async with AsyncExitStack() as stack:
        opened, destination = await _open(connection, options, stack)
        try:
            target = await destination.list_info(list_id)
        except DestinationNotFound:
            raise AdoptionError(
                f"list {list_id} does not exist in the account of connection '{connection.name}'",
                f"run 'reconciler lists --connection {connection.name}' to see its lists",
            ) from None
        export_name = name or _export_name(target.name, segment, config)
        data = _export_document(
            export_name,
            segment,
            connection.name,
            list_id,
            mode,
            preview.email_column,
            preview.columns,
        )
        document = _render(data, target.name)
        combined = _validated(options.config_dir, export_name, document)
        plan = await plan_exports(
            combined,
            [combined.exports[export_name]],
            {connection.name: opened},
            options,
            state,
        )
    return ImportResult(export=export_name, list_name=target.name, document=document, plan=plan)


def _export_name(list_name: str, segment: str, config: Config) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", list_name.strip().lower()).strip("-._")[:64]
    name = slug if re.match(NAME_PATTERN, slug) else segment
    if name in config.exports:
        raise AdoptionError(
            f"an export named '{name}' is already declared", "choose another with --name EXPORT"
        )
    return name


def _export_document(
    name: str,
    segment: str,
    connection: str,
    list_id: str,
    mode: str,
    email_column: str,
    columns: tuple[str, ...] | list[str],
) -> dict[str, Any]:
    fields: dict[str, str] = {"email": email_column}
    fields.update({c: c for c in ATTRIBUTE_COLUMNS if c in columns})
    return {
        "kind": "Export",
        "name": name,
        "segment": segment,
        "connection": connection,
        "list_id": list_id,
        "mode": mode,
        "fields": fields,
    }


def _render(data: dict[str, Any], list_name: str) -> str:
    shown = list_name.replace("\n", " ")[:80]
    header = [
        SCHEMA_LINE,
        f"# Adopts the existing Klaviyo list {data['list_id']} ({shown}), written by "
        "'reconciler import'.",
        "# Review its first plan before merging: mirror mode removes members not in the segment.",
    ]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return "\n".join(header) + "\n" + body


def _validated(config_dir: Path, export_name: str, document: str) -> Config:
    """The config with the new document added, through the same loader as ``validate``."""
    files, problems = read_config_dir(config_dir)
    if problems:
        raise ConfigError(problems)
    root = display_root(config_dir)
    prefix = "" if root == "." else root + "/"
    relative = {shown.removeprefix(prefix): content for shown, content in files.items()}
    new = f"{export_name}.yaml"
    while new in relative:
        new = "imported-" + new
    relative[new] = document.encode("utf-8")
    config, found = load_config_from_files(relative, root=".")
    if config is None:
        raise ConfigError([p for p in found if p.severity == "error"])
    return config
