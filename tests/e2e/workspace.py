"""A config directory written for a test: YAML declarations plus a CSV of profiles."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KEY_ENV = "TEST_KLAVIYO_KEY"
TEST_KEY = "pk_e2e0123456789abcdef0123456789abcd"


def emails(prefix: str, count: int, start: int = 0) -> list[str]:
    return [f"{prefix}.{i}@example.com" for i in range(start, start + count)]


@dataclass
class Workspace:
    root: Path
    exports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def config_dir(self) -> Path:
        return self.root / "exports"

    def write_rows(self, table: str, rows: Iterable[Mapping[str, object]]) -> None:
        rows = list(rows)
        path = self.config_dir / "data" / f"{table}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = list(rows[0]) if rows else ["email", "first_name", "segment"]
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)

    def write_members(self, table: str, addresses: Iterable[str], **extra: object) -> None:
        self.write_rows(table, ({"email": e, "first_name": "Ann", **extra} for e in addresses))

    def add_export(self, name: str, table: str, list_id: str, **settings: Any) -> None:
        self.exports.append({"name": name, "table": table, "list_id": list_id, **settings})

    def write_config(self) -> Path:
        docs: list[dict[str, Any]] = [
            {
                "kind": "Connection",
                "name": "klaviyo",
                "display_name": "Test account",
                "api_key": {"env": KEY_ENV},
                "consent": {
                    "accepted": True,
                    "accepted_by": "jane@contoso.com",
                    "accepted_at": "2026-11-20",
                },
            },
            {"kind": "Source", "name": "files", "files": self._tables()},
        ]
        for spec in self.exports:
            spec = dict(spec)
            name, table, list_id = spec.pop("name"), spec.pop("table"), spec.pop("list_id")
            docs.append(
                {"kind": "Segment", "name": f"{name}-segment", "source": "files", "table": table}
            )
            fields = spec.pop("fields", {"email": "email", "first_name": "first_name"})
            docs.append(
                {
                    "kind": "Export",
                    "name": name,
                    "segment": f"{name}-segment",
                    "connection": "klaviyo",
                    "list_id": list_id,
                    "fields": fields,
                    **spec,
                }
            )
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "exports.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        return self.config_dir

    def _tables(self) -> dict[str, str]:
        tables = {spec["table"] for spec in self.exports}
        return {t: f"data/{t}.csv" for t in sorted(tables)}
