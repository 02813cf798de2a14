"""What the reconciler last sent for each member of a list: field digests and subscriptions.

The plan compares a segment's field digests with these to send only changed fields, and skips
profiles it already subscribed. It holds email addresses (personal data); losing it costs one
re-send of every member's fields, never a wrong subscription (subscriptions are re-checked
against Klaviyo before any is sent).

Storage: per (account, list id) an Arrow IPC snapshot (a string column ``email``, one uint64
column per field key, ``first_name``, ``properties.tier``: 0 means "sent as null or never
sent", and a bool column per subscribed channel, ``subscribed.email``, ``subscribed.sms``) and
a log of changes: each apply appends only what it sent and which members it removed
(:meth:`SentProfiles.record`), so its cost follows the change, not the list. ``load`` replays
the log over the snapshot; once the log holds more than ``COMPACT_CHANGES`` entries or a
quarter of the list (and at least ``COMPACT_MIN`` rows), ``record`` folds it into a new
snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from reconciler.errors import StateError
from reconciler.state.database import Blob, Database
from reconciler.state.records import now

EMAIL = "email"
SUBSCRIBED = "subscribed."
FORGOTTEN = "forgotten"  # a change's rows that name removed members (their other columns null)
COMPACT_CHANGES = 16
COMPACT_MIN = 50_000
PIECE = 4 << 20  # bytes of a snapshot written at a time
BATCH = 2_500_000  # rows of a snapshot's record batch (a plan decodes one at a time)
_TABLE = "reconciler_sent_profiles"
_CHANGES = "reconciler_sent_changes"
_KEY = "account = ? AND list_id = ?"


class SentProfiles:
    """Per (account, list id): the digests and subscriptions last sent for each member."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self, account: str, list_id: str) -> pa.Table | None:
        """The snapshot with every logged change applied (None: nothing recorded, or a damaged
        snapshot or change: fields are then sent again)."""
        stored = self._stored(account, list_id)
        if stored is None:
            return None
        snapshot, changes = stored
        table = decoded(snapshot) if snapshot is not None else None
        if snapshot is not None and table is None:
            return None
        for change in changes:
            table = replayed(table, change)
        return table

    def rows(self, account: str, list_id: str) -> SentRows | None:
        """What :meth:`load` gives, to be read a piece at a time (what a plan looks up): the
        snapshot is decoded a batch at a time on each read, never whole (None: nothing
        recorded, or a damaged snapshot or change)."""
        stored = self._stored(account, list_id)
        if stored is None:
            return None
        snapshot, changes = stored
        data = pa.py_buffer(bytes(snapshot)) if snapshot is not None else None
        return SentRows.of(data, changes)

    def _stored(self, account: str, list_id: str) -> tuple[Any, list[pa.Table]] | None:
        """The snapshot's bytes (None: none yet) and the decoded log (None: damaged, or
        nothing recorded)."""
        with self._db.transaction():
            row = self._db.fetch_one(
                f"SELECT snapshot FROM {_TABLE} WHERE {_KEY}", (account, list_id)
            )
            blobs = self._db.fetch(
                f"SELECT changes FROM {_CHANGES} WHERE {_KEY} ORDER BY seq", (account, list_id)
            )
        if row is None and not blobs:
            return None
        changes = [decoded(blob) for (blob,) in blobs]
        if any(change is None for change in changes):
            return None
        return (row[0] if row is not None else None), [c for c in changes if c is not None]

    def record(
        self, account: str, list_id: str, sent: pa.Table | None, forget: pa.Array | None
    ) -> None:
        """Log what an apply sent (``sent``: rows as :func:`merged` takes them) and the members
        it removed (``forget``); fold the log into the snapshot when it has grown."""
        change = _change(sent, forget)
        if change is None:
            return
        if not self._recorded(account, list_id):
            if sent is not None and sent.num_rows:  # the first record is the snapshot
                self.save(account, list_id, replayed(None, change))
            return
        with self._db.transaction():
            head = self._db.fetch_one(
                f"SELECT member_count FROM {_TABLE} WHERE {_KEY}", (account, list_id)
            )
            log = self._db.fetch_one(
                f"SELECT COUNT(*), COALESCE(SUM(row_count), 0), COALESCE(MAX(seq), 0) "
                f"FROM {_CHANGES} WHERE {_KEY}",
                (account, list_id),
            )
            entries, rows, last = (int(v) for v in log) if log is not None else (0, 0, 0)
            members = int(head[0]) if head is not None else 0
            self._db.execute(
                f"INSERT INTO {_CHANGES} (account, list_id, seq, saved_at, row_count, changes) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    account,
                    list_id,
                    last + 1,
                    self._db.ts_in(now()),
                    change.num_rows,
                    _encoded(change),
                ),
            )
        if _due(entries + 1, rows + change.num_rows, members):
            self.compact(account, list_id)

    def _recorded(self, account: str, list_id: str) -> bool:
        """Whether the list has a snapshot or a log."""
        for table in (_TABLE, _CHANGES):
            if self._db.fetch_one(f"SELECT 1 FROM {table} WHERE {_KEY}", (account, list_id)):
                return True
        return False

    def compact(self, account: str, list_id: str) -> None:
        """Fold the log into a new snapshot (a damaged one is dropped: fields are sent again)."""
        table = self.load(account, list_id)
        if table is None:
            self.drop(account, list_id)
            return
        self.save(account, list_id, table)

    def save(self, account: str, list_id: str, table: pa.Table) -> None:
        """Replace the list's snapshot with ``table`` (and clear its log)."""
        if EMAIL not in table.column_names:
            raise StateError("a sent-profiles snapshot needs an email column")
        data = _stream(table)  # Arrow's buffer, written a piece at a time: never copied whole
        with self._db.transaction():
            self.drop(account, list_id)
            self._db.execute(
                f"INSERT INTO {_TABLE} (account, list_id, saved_at, snapshot, member_count) "
                "VALUES (?, ?, ?, ?, ?)",
                (account, list_id, self._db.ts_in(now()), b"", table.num_rows),
            )
            self._db.write_blob(_snapshot(account, list_id), data.size, _pieces(data))

    def drop(self, account: str, list_id: str) -> None:
        with self._db.transaction():
            self._db.execute(f"DELETE FROM {_CHANGES} WHERE {_KEY}", (account, list_id))
            self._db.execute(f"DELETE FROM {_TABLE} WHERE {_KEY}", (account, list_id))


def _due(entries: int, rows: int, members: int) -> bool:
    return entries > COMPACT_CHANGES or rows > max(COMPACT_MIN, members // 4)


def _change(sent: pa.Table | None, forget: pa.Array | None) -> pa.Table | None:
    """One log entry: ``sent``'s rows, then one row per forgotten email (flagged)."""
    parts = []
    if sent is not None and sent.num_rows:
        if EMAIL not in sent.column_names:
            raise StateError("what was sent needs an email column")
        parts.append(sent.append_column(FORGOTTEN, pa.nulls(sent.num_rows, pa.bool_())))
    if forget is not None and len(forget):
        flags = pa.array([True] * len(forget), type=pa.bool_())
        parts.append(pa.table({EMAIL: forget.cast(pa.string()), FORGOTTEN: flags}))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else _concat(parts[0], parts[1])


def replayed(table: pa.Table | None, change: pa.Table) -> pa.Table:
    """``table`` with one log entry applied."""
    if FORGOTTEN not in change.column_names:
        return merged(table, change)
    flagged = pc.fill_null(change[FORGOTTEN], False)
    if not pc.any(flagged).as_py():  # nothing forgotten (a first sync): no copy of the rows
        return merged(table, change.drop_columns([FORGOTTEN]))
    sent = change.filter(pc.invert(flagged)).drop_columns([FORGOTTEN])
    forget = change.filter(flagged)[EMAIL]
    if table is None:
        return sent
    return merged(table, sent, forget=forget)


def merged(old: pa.Table | None, sent: pa.Table, *, forget: pa.Array | None = None) -> pa.Table:
    """``old`` updated with the rows of ``sent``: for an email in both, each column of
    ``sent`` that is not null wins and the others keep ``old``'s value; emails in ``forget``
    (members removed) are left out.

    Only ``sent`` and ``forget`` (the change, small) are ever hashed; ``old`` (the whole list)
    is probed against them and copied once.
    """
    if forget is not None and len(forget):
        forget = forget.cast(pa.string())
        sent = sent.filter(pc.invert(pc.is_in(sent[EMAIL], value_set=forget)))
    else:
        forget = None
    if old is None or old.num_rows == 0:
        return sent
    hit = pc.is_in(old[EMAIL], value_set=sent[EMAIL])
    prior = old.filter(hit)
    updated = _updated(prior, sent) if prior.num_rows else sent
    drop = hit if forget is None else pc.or_(hit, pc.is_in(old[EMAIL], value_set=forget))
    return _concat(old.filter(pc.invert(drop)), updated)


def _updated(prior: pa.Table, sent: pa.Table) -> pa.Table:
    """``sent``'s rows with each null filled from the same email's row of ``prior``."""
    slots = pc.index_in(sent[EMAIL], value_set=prior[EMAIL])
    names = list(dict.fromkeys([*prior.column_names, *sent.column_names]))
    columns = {}
    for name in names:
        before = prior[name].take(slots) if name in prior.column_names else None
        if name not in sent.column_names:
            columns[name] = before if before is not None else _nulls(name, sent.num_rows)
        elif before is None or name == EMAIL:
            columns[name] = sent[name]
        else:
            columns[name] = pc.coalesce(sent[name], before)
    return pa.table(columns)


def _encoded(table: pa.Table) -> bytes:
    data: bytes = _stream(table).to_pybytes()
    return data


def _stream(table: pa.Table) -> pa.Buffer:
    """``table`` as a zstd-compressed Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression="zstd")
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table, max_chunksize=BATCH)  # read back a batch at a time
    buffer: pa.Buffer = sink.getvalue()
    return buffer


def _pieces(data: pa.Buffer) -> Iterator[memoryview]:
    view = memoryview(data)
    for start in range(0, len(view), PIECE):
        yield view[start : start + PIECE]


def _snapshot(account: str, list_id: str) -> Blob:
    return Blob(_TABLE, "snapshot", _KEY, (account, list_id))


def decoded(blob: Any) -> pa.Table | None:
    """A stored table (``blob``: the database's bytes, bytea or memoryview)."""
    try:
        with ipc.open_stream(pa.py_buffer(bytes(blob))) as reader:
            table: pa.Table = reader.read_all()
    except (pa.ArrowInvalid, OSError, TypeError):
        return None  # a damaged snapshot is a missing one: fields are sent again
    return table if EMAIL in table.column_names else None


def _nulls(name: str, count: int) -> pa.Array:
    return pa.nulls(count, pa.bool_() if name.startswith(SUBSCRIBED) else pa.uint64())


def _concat(first: pa.Table, second: pa.Table) -> pa.Table:
    names = list(dict.fromkeys([*first.column_names, *second.column_names]))
    return pa.concat_tables([_with(first, names), _with(second, names)])


def _with(table: pa.Table, names: list[str]) -> pa.Table:
    """``table`` with exactly ``names`` as columns (missing ones null), in that order."""
    columns = [
        table[name] if name in table.column_names else _nulls(name, table.num_rows)
        for name in names
    ]
    return pa.table(dict(zip(names, columns, strict=True)))


@dataclass(frozen=True)
class SentRows:
    """What :meth:`SentProfiles.load` gives, read a piece at a time: each record batch of the
    snapshot (decoded again on each read, one at a time), the rows of the emails the log
    touched left in place with a null email (no member's), then those emails' rows as the log
    left them (``tail``: the snapshot's rows of them with every change replayed, small)."""

    snapshot: pa.Buffer | None  # the stored IPC stream (compressed)
    touched: pa.Array  # every email the log names
    tail: pa.Table | None

    @classmethod
    def of(cls, snapshot: pa.Buffer | None, changes: list[pa.Table]) -> SentRows | None:
        """The rows of ``snapshot`` with ``changes`` replayed (None: a damaged snapshot)."""
        names = [change[EMAIL] for change in changes]
        touched = pc.unique(pa.chunked_array(names, pa.string()).combine_chunks())
        prior: list[pa.Table] = []
        try:
            for batch in _batches(snapshot):  # the whole snapshot is read once: sound or not
                if len(touched):
                    prior.append(batch.filter(pc.is_in(batch[EMAIL], value_set=touched)))
        except (pa.ArrowInvalid, OSError):
            return None  # a damaged snapshot is a missing one: fields are sent again
        tail = pa.concat_tables(prior, promote_options="permissive") if prior else None
        for change in changes:
            tail = replayed(tail, change)
        return cls(snapshot, touched, tail)

    def pieces(self) -> Iterator[pa.Table]:
        """The rows, a record batch at a time (each piece has its own columns)."""
        for batch in _batches(self.snapshot):
            if len(self.touched):
                batch = _without_emails(batch, pc.is_in(batch[EMAIL], value_set=self.touched))
            yield batch
        if self.tail is not None and self.tail.num_rows:
            yield self.tail


def pieces_of(sent: pa.Table | SentRows | None, rows: int) -> Iterator[pa.Table]:
    """``sent`` (a table, or rows read a batch at a time) in pieces of ``rows`` (the last: what
    is left). Small batches (a snapshot folded from a first sync's log holds one a job) are
    gathered into one piece, their chunks as they are: each piece costs the plan one pass
    over the segment, so 160 batches of 62,500 rows cost 40 times the passes of 4 pieces. A
    column missing from some of a piece's batches is null there (never sent)."""
    tables = [] if sent is None else [sent] if isinstance(sent, pa.Table) else sent.pieces()
    held: list[pa.Table] = []
    count = 0
    for table in tables:
        start = 0
        while start < table.num_rows:
            part = table.slice(start, rows - count)
            held.append(part)
            count += part.num_rows
            start += part.num_rows
            if count == rows:
                yield _gathered(held)
                held, count = [], 0
    if count:
        yield _gathered(held)


def _gathered(tables: list[pa.Table]) -> pa.Table:
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="default")


def _batches(snapshot: pa.Buffer | None) -> Iterator[pa.Table]:
    """The snapshot's record batches as tables, decoded one at a time."""
    if snapshot is None:
        return
    with ipc.open_stream(snapshot) as reader:
        for batch in reader:
            if EMAIL not in batch.schema.names:
                raise pa.ArrowInvalid("a sent-profiles snapshot without emails")
            yield pa.Table.from_batches([batch])


def _without_emails(table: pa.Table, drop: pa.ChunkedArray | pa.BooleanArray) -> pa.Table:
    """``table`` with a null email on the rows where ``drop``: each chunk of the email column
    keeps its offsets and text, only its validity bitmap is new (one bit a row)."""
    emails = table[EMAIL]
    flags = drop.combine_chunks() if isinstance(drop, pa.ChunkedArray) else drop
    chunks, start = [], 0
    for chunk in emails.chunks:
        gone = flags.slice(start, len(chunk))
        start += len(chunk)
        chunks.append(_nulled(chunk, gone) if pc.any(gone).as_py() else chunk)
    column = pa.chunked_array(chunks, emails.type)
    return table.set_column(table.column_names.index(EMAIL), EMAIL, column)


def _nulled(chunk: pa.Array, gone: pa.BooleanArray) -> pa.Array:
    if chunk.type != pa.string() or chunk.offset:  # not as written: rare, a copy of the chunk
        return pc.if_else(gone, pa.scalar(None, chunk.type), chunk)
    keep = pc.and_(pc.is_valid(chunk), pc.invert(gone))
    if keep.offset:  # a bitmap must start at the chunk's first row
        keep = pa.concat_arrays([keep])
    _, offsets, data = chunk.buffers()
    validity = keep.buffers()[1]
    return pa.StringArray.from_buffers(len(chunk), offsets, data, validity)
