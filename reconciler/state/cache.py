"""The membership cache: each list's members as of the last read, for incremental planning.

It holds email addresses (personal data) and is NOT the journal. It is an optimisation only:
losing it (``drop_membership``, a deleted state file) costs one full read of the list.

Storage: one snapshot blob per list (see :mod:`reconciler.state.codec`) plus a log of changes
(added members, removed profile ids) appended by ``update``; ``load`` replays the log over the
snapshot. When the log grows past a quarter of the list (and at least ``COMPACT_MIN`` rows) the
update folds it into a new snapshot instead: as Arrow columns (emails, profile ids, join times),
the snapshot read and written a piece at a time, never a Python object per member.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.errors import StateError
from reconciler.state import codec, columnar
from reconciler.state.columnar import (
    EMAIL,
    JOINED,
    PROFILE_ID,
    Column,
    MemberColumns,
    MemberSnapshot,
)
from reconciler.state.database import Blob, Database, Row
from reconciler.state.records import CachedMembership, now
from reconciler.state.storedcolumn import StoredColumn
from reconciler.values import EPOCH

COMPACT_MIN = 50_000
PIECE = 4 << 20  # bytes of a snapshot column read (and split) at a time
_MICRO = dt.timedelta(microseconds=1)
_KEY = "account = ? AND list_id = ?"
_SNAPSHOTS = "reconciler_membership_snapshots"  # the blobs, apart from the counters that change


@dataclass(frozen=True)
class _Changes:
    """What one ``update`` logs: members added, profile ids gone, the new counters."""

    new: codec.Members
    gone: list[str]
    without_email: int
    newest: dt.datetime | None


def _snapshot(account: str, list_id: str) -> Blob:
    return Blob(_SNAPSHOTS, "snapshot", _KEY, (account, list_id))


class MembershipCache:
    """Per (account, list id) membership snapshots with an incremental change log."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load(self, account: str, list_id: str) -> CachedMembership | None:
        with self._db.transaction():
            row = self._db.fetch_one(
                f"SELECT as_of, saved_at FROM reconciler_membership WHERE {_KEY}",
                (account, list_id),
            )
            blob = self._db.fetch_one(
                f"SELECT snapshot FROM {_SNAPSHOTS} WHERE {_KEY}", (account, list_id)
            )
            if row is None:
                return None
            try:
                if blob is None:
                    raise codec.damaged("no snapshot")
                members = codec.decode(bytes(blob[0]))
            except StateError:
                self.drop(account, list_id)  # a damaged cache is a missing cache
                return None
            self._replay(members, self._changes(account, list_id))
        as_of = self._db.ts_out_optional(row[0])
        return CachedMembership(members, as_of, len(members), self._db.ts_out(row[1]))

    def exists(self, account: str, list_id: str) -> bool:
        """Whether a snapshot of the list is cached (without reading it)."""
        row = self._db.fetch_one(
            f"SELECT 1 FROM reconciler_membership WHERE {_KEY}", (account, list_id)
        )
        return row is not None

    def load_columns(
        self, account: str, list_id: str, *, stored: bool = False
    ) -> MemberColumns | None:
        """Like :meth:`load`, as Arrow columns of emails and profile ids (no per-member objects).

        The snapshot is fetched a section at a time, so the whole blob is never held at once.
        With ``stored`` both columns stay in the snapshot (:class:`StoredColumn`: read again,
        a chunk at a time, when asked for; the emails are read once here, to check them);
        the snapshot must then not change until they are (see :meth:`update`'s ``compact``).
        """
        with self._db.transaction():
            row = self._db.fetch_one(
                f"SELECT as_of, saved_at, without_email FROM reconciler_membership WHERE {_KEY}",
                (account, list_id),
            )
            if row is None:
                return None
            as_of, saved_at = self._db.ts_out_optional(row[0]), self._db.ts_out(row[1])
            kept = self._stored(account, list_id) if stored else None
            table = None if stored else self._columns(account, list_id, joined=False)
            if table is None and kept is None:
                return None
            changes = self._changes(account, list_id)
        steps = self._steps(changes, joined=False)
        if kept is not None:
            try:
                emails, ids = columnar.replay_stored(*kept, steps)
            except StateError:  # damaged, read to replay: dropped, as missing
                return None
            return MemberColumns(emails, ids, as_of, saved_at, int(row[2]))
        assert table is not None
        table = columnar.replay(table, steps)
        return MemberColumns(table[EMAIL], table[PROFILE_ID], as_of, saved_at, int(row[2]))

    def _stored(self, account: str, list_id: str) -> tuple[StoredColumn, StoredColumn] | None:
        """The emails and the ids of the list's snapshot, left in it (None: no readable
        snapshot; the emails are read through once to check them, a damaged one is dropped)."""
        emails = self.stored_column(account, list_id, EMAIL)
        ids = self.stored_column(account, list_id, PROFILE_ID)
        if emails is None or ids is None:
            return None
        try:
            read = sum(len(chunk) for chunk in emails.read())  # each chunk checked as it is cut
        except StateError:
            return None
        return (emails, ids) if read == emails.count else None

    def stored_column(self, account: str, list_id: str, name: str) -> StoredColumn | None:
        """The emails or the profile ids (``name``) of the list's snapshot, left in it (None:
        no readable snapshot)."""
        head = self._head(account, list_id)
        if head is None:
            return None
        count, n_emails, n_ids = head
        at, length = (0, n_emails) if name == EMAIL else (n_emails, n_ids)

        def read() -> Iterator[pa.StringArray]:
            if self._head(account, list_id) != head:
                raise _changed(list_id)
            pieces = self._pieces(account, list_id, codec.HEADER_SIZE + at, length)
            try:
                yield from columnar.lines_chunks(pieces, count)
            except StateError:
                self.drop(account, list_id)  # damaged: the next plan reads the list again
                raise

        return StoredColumn(count, read)

    def _head(self, account: str, list_id: str) -> tuple[int, int, int] | None:
        """The snapshot's member count and the byte sizes of its email and id sections."""
        # The blob's first bytes through the database's blob reading (SQLite's ``substr`` would
        # load the whole snapshot first: 700 MB for ten million members), its length alone.
        size = self._db.fetch_one(
            f"SELECT length(snapshot) FROM {_SNAPSHOTS} WHERE {_KEY}", (account, list_id)
        )
        first = self._db.read_blob(_snapshot(account, list_id), 0, codec.HEADER_SIZE)
        try:
            if size is None or first is None:
                raise codec.damaged("no snapshot")
            return codec.sections(bytes(first), int(size[0]))
        except StateError:
            return None

    def _columns(self, account: str, list_id: str, *, joined: bool) -> pa.Table | None:
        """The snapshot as a member table (emails, profile ids and, if ``joined``, join times
        in µs), read a piece at a time; a missing or damaged one is
        dropped (None)."""
        head = self._head(account, list_id)
        try:
            if head is None:
                raise codec.damaged("no snapshot")
            count, n_emails, n_ids = head
            start = codec.HEADER_SIZE
            columns = {
                EMAIL: self._section(account, list_id, start, n_emails, count),
                PROFILE_ID: self._section(account, list_id, start + n_emails, n_ids, count),
            }
            if joined:
                stamps = self._pieces(account, list_id, start + n_emails + n_ids, 8 * count)
                columns[JOINED] = codec.joined_column(stamps, count)
        except StateError:
            self.drop(account, list_id)  # a damaged cache is a missing cache
            return None
        return pa.table(columns)

    def _steps(self, changes: list[Row], *, joined: bool) -> list[columnar.Step]:
        """The logged changes as replay steps: the profile ids of each run of removals, the
        rows of each run of additions (a later row for an email wins); the join times are
        converted only when ``joined``."""
        steps: list[columnar.Step] = []
        for kind, rows in _batches(changes):
            if kind == "remove":
                steps.append([r[1] for r in rows])
                continue
            latest = {r[0]: r for r in rows}
            times = [self._db.ts_out(r[2]) for r in latest.values()] if joined else None
            steps.append(_table(list(latest), [r[1] for r in latest.values()], times))
        return steps

    def _section(self, account: str, list_id: str, offset: int, length: int, count: int) -> Column:
        """One newline-joined column of the snapshot (``length`` bytes after ``offset``)."""
        return columnar.lines_column(self._pieces(account, list_id, offset, length), count)

    def _pieces(
        self, account: str, list_id: str, offset: int, length: int
    ) -> Iterator[bytes | bytearray]:
        read = 0
        for piece in self._db.read_pieces(_snapshot(account, list_id), offset, length, PIECE):
            read += len(piece)
            yield piece
        if read != length:
            raise codec.damaged("truncated column")

    def save(
        self, account: str, list_id: str, rows: Iterable[tuple[str, str, dt.datetime]]
    ) -> None:
        self._store(account, list_id, codec.collect(rows))

    def save_columns(self, account: str, list_id: str, snapshot: MemberSnapshot) -> None:
        """Cache a full read from its columns: the snapshot blob is written a piece at a time,
        never built whole (nor a Python object per member)."""
        size, pieces = codec.column_pieces(
            snapshot.emails, snapshot.profile_ids, snapshot.joined_us
        )
        count, without_email = len(snapshot.emails), snapshot.without_email
        self._write(account, list_id, (size, pieces), (count, without_email, snapshot.as_of))

    def _write(
        self,
        account: str,
        list_id: str,
        blob: tuple[int, Iterator[bytes | memoryview]],
        counters: tuple[int, int, dt.datetime | None],
    ) -> None:
        """Replace the list's cache, in one transaction, by the snapshot of ``blob`` (its size
        and pieces) with its ``counters`` (members, members without an email, as_of)."""
        count, without_email, as_of = counters
        with self._db.transaction():
            self.drop(account, list_id)
            self._insert(account, list_id, b"", count, without_email, as_of)
            self._db.write_blob(_snapshot(account, list_id), *blob)

    def update(
        self,
        account: str,
        list_id: str,
        added: Iterable[tuple[str, str, dt.datetime]],
        removed_profile_ids: Iterable[str],
        *,
        without_email: int = 0,
        as_of: dt.datetime | None = None,
        compact: bool = True,
    ) -> None:
        """Log added members and removed profile ids; ``without_email`` more members without
        an email were read, and ``as_of`` is the newest join time read (if later than
        the cached one, with the rows' own). Not ``compact``: only logged, whatever the log's
        size (the snapshot stays the one whose stored ids a plan is about to read)."""
        new = codec.collect(added)
        gone = list(dict.fromkeys(removed_profile_ids))
        if not new and not gone and not without_email and as_of is None:
            return
        with self._db.transaction():
            row = self._db.fetch_one(
                "SELECT change_count, member_count, as_of, without_email "
                f"FROM reconciler_membership WHERE {_KEY}",
                (account, list_id),
            )
            if row is None:
                return  # no snapshot to build on: a partial cache would mislead
            newest = _latest([j for _, j in new.values()], self._db.ts_out_optional(row[2]), as_of)
            changes = _Changes(new, gone, int(row[3]) + without_email, newest)
            pending = row[0] + len(new) + len(gone)
            if compact and pending > max(COMPACT_MIN, row[1] // 4):
                self._compact(account, list_id, changes)
            else:
                self._append(account, list_id, changes)

    def drop(self, account: str, list_id: str) -> None:
        with self._db.transaction():
            self._db.execute(
                f"DELETE FROM reconciler_membership_changes WHERE {_KEY}", (account, list_id)
            )
            self._db.execute(f"DELETE FROM {_SNAPSHOTS} WHERE {_KEY}", (account, list_id))
            self._db.execute(f"DELETE FROM reconciler_membership WHERE {_KEY}", (account, list_id))

    def _store(
        self,
        account: str,
        list_id: str,
        members: codec.Members,
        without_email: int = 0,
        as_of: dt.datetime | None = None,
    ) -> None:
        blob = codec.encode(members)
        newest = _latest([joined for _, joined in members.values()], as_of)
        with self._db.transaction():
            self.drop(account, list_id)
            self._insert(account, list_id, blob, len(members), without_email, newest)

    def _insert(
        self,
        account: str,
        list_id: str,
        blob: bytes,
        count: int,
        without_email: int,
        as_of: dt.datetime | None,
    ) -> None:
        self._db.execute(
            f"INSERT INTO {_SNAPSHOTS} (account, list_id, snapshot) VALUES (?, ?, ?)",
            (account, list_id, blob),
        )
        self._db.execute(
            "INSERT INTO reconciler_membership (account, list_id, member_count, "
            "change_count, without_email, as_of, saved_at) VALUES (?, ?, ?, 0, ?, ?, ?)",
            (
                account,
                list_id,
                count,
                without_email,
                None if as_of is None else self._db.ts_in(as_of),
                self._db.ts_in(now()),
            ),
        )

    def _compact(self, account: str, list_id: str, changes: _Changes) -> None:
        """Fold the log and ``changes`` into a new snapshot, as Arrow columns (a list of
        millions as a dict of tuples would take gigabytes), with the counters the dict form
        gave: the members' count, the members without an email, the newest join time."""
        table = self._columns(account, list_id, joined=True)
        if table is None:
            return
        new = changes.new
        pending = _table(list(new), [p for p, _ in new.values()], [j for _, j in new.values()])
        steps = self._steps(self._changes(account, list_id), joined=True)
        table = columnar.replay(table, [*steps, changes.gone, pending])
        joined = table[JOINED]
        newest = pc.max(joined).as_py() if len(joined) else None
        as_of = _latest([] if newest is None else [EPOCH + newest * _MICRO], changes.newest)
        blob = codec.column_pieces(table[EMAIL], table[PROFILE_ID], joined)
        self._write(account, list_id, blob, (table.num_rows, changes.without_email, as_of))

    def _append(self, account: str, list_id: str, changes: _Changes) -> None:
        new, gone, newest = changes.new, changes.gone, changes.newest
        ts_in = self._db.ts_in
        rows = [
            *((account, list_id, None, pid, None) for pid in gone),
            *((account, list_id, e, pid, ts_in(j)) for e, (pid, j) in new.items()),
        ]
        if rows:
            self._db.executemany(
                "INSERT INTO reconciler_membership_changes (account, list_id, email, profile_id, "
                "joined_at) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        self._db.execute(
            "UPDATE reconciler_membership SET change_count = change_count + ?, as_of = ?, "
            f"without_email = ?, saved_at = ? WHERE {_KEY}",
            (
                len(new) + len(gone),
                None if newest is None else ts_in(newest),
                changes.without_email,
                ts_in(now()),
                account,
                list_id,
            ),
        )

    def _changes(self, account: str, list_id: str) -> list[Row]:
        return self._db.fetch(
            "SELECT email, profile_id, joined_at FROM reconciler_membership_changes "
            f"WHERE {_KEY} ORDER BY seq",
            (account, list_id),
        )

    def _replay(self, members: codec.Members, changes: Iterable[Row]) -> None:
        """Apply logged changes in order: a NULL email removes that profile id.

        Consecutive removals are applied together in one pass over the members; with many
        alternating batches a profile id -> email index is built once instead.
        """
        batches = _batches(changes)
        by_id: dict[str, str] | None = None
        if sum(1 for kind, _ in batches if kind == "remove") > 2:
            by_id = {pid: e for e, (pid, _) in members.items()}
        for kind, rows in batches:
            if kind == "remove":
                _remove(members, {row[1] for row in rows}, by_id)
                continue
            for email, profile_id, joined_at in rows:
                old = members.get(email)
                members[email] = (profile_id, self._db.ts_out(joined_at))
                if by_id is not None:
                    if old is not None:
                        by_id.pop(old[0], None)
                    by_id[profile_id] = email


def _latest(times: list[dt.datetime], *more: dt.datetime | None) -> dt.datetime | None:
    return max([*times, *(t for t in more if t is not None)], default=None)


def _table(emails: list[str], ids: list[str], joined: list[dt.datetime] | None) -> pa.Table:
    """A member table of a few rows (each email once), with the join times in µs if given."""
    columns = {
        EMAIL: pa.array(emails, type=pa.string()),
        PROFILE_ID: pa.array(ids, type=pa.string()),
    }
    if joined is not None:
        columns[JOINED] = pa.array([(j - EPOCH) // _MICRO for j in joined], type=pa.int64())
    return pa.table(columns)


def _batches(changes: Iterable[Row]) -> list[tuple[str, list[Row]]]:
    """Runs of consecutive changes of one kind ("add" or "remove")."""
    out: list[tuple[str, list[Row]]] = []
    for row in changes:
        kind = "remove" if row[0] is None else "add"
        if out and out[-1][0] == kind:
            out[-1][1].append(row)
        else:
            out.append((kind, [row]))
    return out


def _remove(members: codec.Members, gone: set[str], by_id: dict[str, str] | None) -> None:
    if by_id is None:
        for email in [e for e, (pid, _) in members.items() if pid in gone]:
            del members[email]
        return
    for profile_id in gone:
        owner = by_id.pop(profile_id, None)
        if owner is not None and members.get(owner, ("",))[0] == profile_id:
            del members[owner]


def _changed(list_id: str) -> StateError:
    """The snapshot was saved again while a plan still had its profile ids to read (the plan's
    members and ids would not belong together): that plan fails; the cache is sound."""
    error = StateError(f"the membership cache of list {list_id} changed while this plan read it")
    error.hint = "another run saved the list's cache at the same moment; plan again"
    return error
