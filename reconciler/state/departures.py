"""Members who left a list outside the reconciler, so that they are not silently re-added.

Klaviyo changes membership by itself: someone who unsubscribes from a campaign sent to the list
is removed from it, a deleted profile leaves every list, a merge makes one address vanish, a
user removes a list's suppressed profiles. The reconciler notices such a departure when a
member it knew (one in the cached membership, or one it imported itself) is no longer in the
list it reads, and records it here, per (account, list id, email), with how it was noticed:

- ``left``: seen as a member by an earlier read, gone now;
- ``not_kept``: imported by the reconciler, never seen as a member after;
- ``readded``: re-added once by an export with ``external_removals: readd``. This record stays
  while the address is a member again, so that if Klaviyo removes it once more it is reported,
  not re-added run after run (no flapping).

A departure ends when the address is a member again (it came back by itself, or a later
policy re-added it: ``forget``). The plan names the departed who are still in the segment
("left outside the reconciler") and does not re-add them. Holds email addresses (personal
data), like the membership cache; the journal never does.

``imported`` keeps the addresses each completed apply imported (one compressed blob per run:
a first sync imports a million) until the next read of the list takes them: those missing
from the list then become ``not_kept`` departures.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence

import pyarrow as pa

from reconciler.state.columnar import lines_column
from reconciler.state.database import Database, chunks, marks
from reconciler.state.records import now

LEFT = "left"
NOT_KEPT = "not_kept"
READDED = "readded"  # re-added once by ``external_removals: readd``: never re-added again
_KEY = "account = ? AND list_id = ?"


_SLICE = 50_000
_PIECE = 1 << 20  # compressed bytes inflated at a time


def _joined(emails: Sequence[str] | pa.Array | pa.ChunkedArray) -> bytes:
    """The addresses joined by newlines, compressed."""
    packer = zlib.compressobj(1)
    parts: list[bytes] = []
    for start in range(0, len(emails), _SLICE):
        part = emails[start : start + _SLICE]
        values = part.to_pylist() if isinstance(part, pa.Array | pa.ChunkedArray) else part
        text = ("\n" if start else "") + "\n".join(values)
        parts.append(packer.compress(text.encode("utf-8")))
    parts.append(packer.flush())
    return b"".join(parts)


def _inflated(blob: bytes) -> Iterator[bytes]:
    """The decompressed text of ``blob``, a piece at a time."""
    inflater = zlib.decompressobj()
    for start in range(0, len(blob), _PIECE):
        yield inflater.decompress(blob[start : start + _PIECE])
    yield inflater.flush()


class Departures:
    """Departed members and the reconciler's own unconfirmed imports, per list."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def departed(self, account: str, list_id: str) -> set[str]:
        rows = self._db.fetch(
            f"SELECT email FROM reconciler_departures WHERE {_KEY}", (account, list_id)
        )
        return {row[0] for row in rows}

    def how(self, account: str, list_id: str) -> dict[str, str]:
        """Each departed address with how its departure was noticed (``left``/``not_kept``)."""
        rows = self._db.fetch(
            f"SELECT email, how FROM reconciler_departures WHERE {_KEY}", (account, list_id)
        )
        return {row[0]: row[1] for row in rows}

    def imported(self, account: str, list_id: str) -> pa.ChunkedArray:
        """Every address the reconciler's completed applies imported since the last read, as
        one Arrow column (decompressed and split a piece at a time: a first sync of ten
        million is never ten million Python strings, nor its whole text at once)."""
        return pa.chunked_array(list(self.imported_pieces(account, list_id)), type=pa.string())

    def imported_pieces(self, account: str, list_id: str) -> Iterator[pa.Array]:
        """The addresses of :meth:`imported`, a piece of a few megabytes at a time (one run's
        blob in memory at once, compressed)."""
        runs = self._db.fetch(
            f"SELECT run_id FROM reconciler_imported WHERE {_KEY} ORDER BY imported_at",
            (account, list_id),
        )
        for (run_id,) in runs:
            row = self._db.fetch_one(
                f"SELECT emails FROM reconciler_imported WHERE {_KEY} AND run_id = ?",
                (account, list_id, run_id),
            )
            if row is not None:
                yield from lines_column(_inflated(bytes(row[0])), None).chunks

    def record_imported(
        self,
        account: str,
        list_id: str,
        run_id: str,
        emails: Sequence[str] | pa.Array | pa.ChunkedArray,
    ) -> None:
        """Addresses an apply's import jobs added (to be checked by the next read); an Arrow
        column is compressed a slice at a time (never all its addresses as Python strings)."""
        if not len(emails):
            return
        blob = _joined(emails)
        self._db.execute(
            "INSERT INTO reconciler_imported (account, list_id, run_id, imported_at, emails) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, list_id, run_id) DO NOTHING",
            (account, list_id, run_id, self._db.ts_in(now()), blob),
        )

    def record(self, account: str, list_id: str, emails: Iterable[str], how: str) -> None:
        """Record departures (an address already recorded keeps its first record)."""
        at = self._db.ts_in(now())
        rows = [(account, list_id, email, at, how) for email in dict.fromkeys(emails)]
        if rows:
            self._db.executemany(
                "INSERT INTO reconciler_departures (account, list_id, email, noticed_at, how) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, list_id, email) DO NOTHING",
                rows,
            )

    def forget(self, account: str, list_id: str, emails: Sequence[str]) -> None:
        """Drop the departures of ``emails``: they are members again (a ``readded`` record
        stays: it remembers the one re-add)."""
        self._delete("reconciler_departures", account, list_id, emails, keep=READDED)

    def readded(self, account: str, list_id: str) -> set[str]:
        """The addresses re-added once by ``external_removals: readd``."""
        rows = self._db.fetch(
            f"SELECT email FROM reconciler_departures WHERE {_KEY} AND how = ?",
            (account, list_id, READDED),
        )
        return {row[0] for row in rows}

    def mark_readded(self, account: str, list_id: str, emails: Sequence[str]) -> None:
        """``emails`` were re-added: should they leave again, they stay out."""
        at = self._db.ts_in(now())
        with self._db.transaction():
            for part in chunks(emails):
                self._db.execute(
                    f"DELETE FROM reconciler_departures WHERE {_KEY} "
                    f"AND email IN ({marks(len(part))})",
                    [account, list_id, *part],
                )
                self._db.executemany(
                    "INSERT INTO reconciler_departures (account, list_id, email, noticed_at, how) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(account, list_id, email, at, READDED) for email in part],
                )

    def confirm_imported(self, account: str, list_id: str) -> None:
        """The imports recorded so far were checked against a read: forget them."""
        self._db.execute(f"DELETE FROM reconciler_imported WHERE {_KEY}", (account, list_id))

    def drop(self, account: str, list_id: str) -> None:
        with self._db.transaction():
            for table in ("reconciler_departures", "reconciler_imported"):
                self._db.execute(f"DELETE FROM {table} WHERE {_KEY}", (account, list_id))

    def _delete(
        self, table: str, account: str, list_id: str, emails: Sequence[str], *, keep: str = ""
    ) -> None:
        spare = " AND how <> ?" if keep else ""
        with self._db.transaction():
            for part in chunks(emails):
                self._db.execute(
                    f"DELETE FROM {table} WHERE {_KEY} AND email IN ({marks(len(part))}){spare}",
                    [account, list_id, *part, *([keep] if keep else [])],
                )
