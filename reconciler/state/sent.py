"""What the reconciler last sent for each member of a list: field digests and subscriptions.

The plan compares a segment's field digests with these to send only changed fields, and skips
profiles it already subscribed. It holds email addresses (personal data); losing it costs one
re-send of every member's fields, never a wrong subscription (subscriptions are re-checked
against Klaviyo before any is sent).

Storage: one Arrow IPC snapshot per (account, list id): a string column ``email``, one uint64
column per field key (``first_name``, ``properties.tier``: 0 means "sent as null or never
sent") and a bool column per subscribed channel (``subscribed.email``, ``subscribed.sms``).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from reconciler.errors import StateError
from reconciler.state.database import Database
from reconciler.state.records import now

EMAIL = "email"
SUBSCRIBED = "subscribed."
_TABLE = "reconciler_sent_profiles"
_KEY = "account = ? AND list_id = ?"


class SentProfiles:
    """Per (account, list id): the digests and subscriptions last sent for each member."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self, account: str, list_id: str) -> pa.Table | None:
        row = self._db.fetch_one(f"SELECT snapshot FROM {_TABLE} WHERE {_KEY}", (account, list_id))
        if row is None:
            return None
        try:
            with ipc.open_stream(pa.py_buffer(bytes(row[0]))) as reader:
                table: pa.Table = reader.read_all()
        except (pa.ArrowInvalid, OSError):
            return None  # a damaged snapshot is a missing one: fields are sent again
        if EMAIL not in table.column_names:
            return None
        return table

    def save(self, account: str, list_id: str, table: pa.Table) -> None:
        if EMAIL not in table.column_names:
            raise StateError("a sent-profiles snapshot needs an email column")
        sink = pa.BufferOutputStream()
        options = ipc.IpcWriteOptions(compression="zstd")
        with ipc.new_stream(sink, table.schema, options=options) as writer:
            writer.write_table(table)
        data = sink.getvalue().to_pybytes()
        with self._db.transaction():
            self._db.execute(f"DELETE FROM {_TABLE} WHERE {_KEY}", (account, list_id))
            self._db.execute(
                f"INSERT INTO {_TABLE} (account, list_id, saved_at, snapshot) VALUES (?, ?, ?, ?)",
                (account, list_id, self._db.ts_in(now()), data),
            )

    def drop(self, account: str, list_id: str) -> None:
        self._db.execute(f"DELETE FROM {_TABLE} WHERE {_KEY}", (account, list_id))


def merged(old: pa.Table | None, sent: pa.Table, *, forget: pa.Array | None = None) -> pa.Table:
    """``old`` updated with the rows of ``sent``: for an email in both, each column of
    ``sent`` that is not null wins and the others keep ``old``'s value; emails in ``forget``
    (members removed) are left out."""
    if old is None or old.num_rows == 0:
        table = sent
    else:
        names = list(dict.fromkeys([*old.column_names, *sent.column_names]))
        slots = pc.index_in(sent[EMAIL], value_set=old[EMAIL].combine_chunks())
        columns = {}
        for name in names:
            before = old[name].combine_chunks().take(slots) if name in old.column_names else None
            if name not in sent.column_names:
                columns[name] = before if before is not None else _nulls(name, sent.num_rows)
            elif before is None or name == EMAIL:
                columns[name] = sent[name].combine_chunks()
            else:
                columns[name] = pc.coalesce(sent[name].combine_chunks(), before)
        updated = pa.table(columns)
        keep = pc.invert(pc.is_in(old[EMAIL], value_set=sent[EMAIL].combine_chunks()))
        table = _concat(old.filter(keep), updated)
    if forget is not None and len(forget):
        table = table.filter(pc.invert(pc.is_in(table[EMAIL], value_set=forget)))
    return table


def _nulls(name: str, count: int) -> pa.Array:
    return pa.nulls(count, pa.bool_() if name.startswith(SUBSCRIBED) else pa.uint64())


def _concat(first: pa.Table, second: pa.Table) -> pa.Table:
    names = list(dict.fromkeys([*first.column_names, *second.column_names]))
    return pa.concat_tables([_with(first, names), _with(second, names)]).combine_chunks()


def _with(table: pa.Table, names: list[str]) -> pa.Table:
    """``table`` with exactly ``names`` as columns (missing ones null), in that order."""
    columns = [
        table[name] if name in table.column_names else _nulls(name, table.num_rows)
        for name in names
    ]
    return pa.table(dict(zip(names, columns, strict=True)))
