"""Builders for declarations and a real PostgreSQL schema for the source tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from reconciler.models import Config, Export, Fields, Segment, Source

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def file_source(name: str, files: dict[str, str], encoding: str | None = None) -> Source:
    return Source(kind="Source", name=name, files=files, encoding=encoding)


def url_source(name: str, url: str) -> Source:
    return Source(kind="Source", name=name, url=url)


def segment(
    name: str, source: str, *, query: str | None = None, table: str | None = None
) -> Segment:
    return Segment(kind="Segment", name=name, source=source, query=query, table=table)


def export(name: str, segment_name: str, email: str = "email", **fields: Any) -> Export:
    return Export(
        kind="Export",
        name=name,
        segment=segment_name,
        connection="klaviyo",
        list_id="AbC123",
        fields=Fields(email=email, **fields),
    )


def config(
    sources: list[Source], segments: list[Segment], exports: list[Export] | None = None
) -> Config:
    return Config(
        sources={s.name: s for s in sources},
        segments={s.name: s for s in segments},
        exports={e.name: e for e in exports or []},
    )


@pytest.fixture(scope="module")
def pg_schema() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL ``test`` database, dropped afterwards."""
    try:
        connection = psycopg.connect(PG_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"recon_sources_{uuid.uuid4().hex[:10]}"
    with connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield schema
        finally:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
