"""List locks for the PostgreSQL backend: session advisory locks plus a holder row.

Each held lock owns a dedicated connection holding ``pg_try_advisory_lock`` on a 64-bit hash
of the schema and the key; the server drops it when that session ends, so a crashed apply leaves
no lock behind. ``reconciler_locks`` names the holder for messages. ``force_unlock`` ends the
session that holds the lock (``pg_terminate_backend``) and deletes the row.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator

import psycopg

from reconciler.errors import LockTimeout, StateError
from reconciler.state.database import Row
from reconciler.state.holder import UNKNOWN_HOLDER, HolderInfo
from reconciler.state.postgres_db import PostgresTarget, connect
from reconciler.state.records import utc

_HOLDERS = """SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
    AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 1
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


def lock_id(schema: str | None, key: str) -> int:
    """The signed 64-bit advisory lock id of ``key`` within ``schema``."""
    digest = hashlib.blake2b(f"{schema or ''}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryListLocks:
    """Per-list advisory locks; ``admin`` is the backend's own connection for look-ups."""

    def __init__(self, target: PostgresTarget, admin: psycopg.Connection[Row]) -> None:
        self._target = target
        self._admin = admin

    @contextlib.contextmanager
    def lock_list(self, key: str, holder: str, *, timeout: float) -> Iterator[None]:
        conn = connect(self._target)
        try:
            self._acquire(conn, key, timeout)
            info = HolderInfo(key=key, holder=holder)
            self._record(conn, info)
        except BaseException:
            conn.close()
            raise
        try:
            yield
        finally:
            self._release(conn, info)

    def lock_holder(self, key: str) -> str | None:
        pids = self._holder_pids(key)
        if not pids:
            self._run("DELETE FROM reconciler_locks WHERE lock_key = %s", (key,))
            return None
        rows = self._run(
            "SELECT holder, host, pid, since, token FROM reconciler_locks WHERE lock_key = %s",
            (key,),
        )
        if not rows:
            return f"{UNKNOWN_HOLDER}, PostgreSQL backend pid {pids[0]}"
        holder, host, pid, since, token = rows[0]
        return HolderInfo(key, holder, host, pid, utc(since), token).describe()

    def force_unlock(self, key: str) -> bool:
        pids = self._holder_pids(key)
        for pid in pids:
            self._run("SELECT pg_terminate_backend(%s)", (pid,))
        deleted = self._run("DELETE FROM reconciler_locks WHERE lock_key = %s RETURNING 1", (key,))
        return bool(pids or deleted)

    def held_locks(self) -> dict[str, str]:
        keys = [r[0] for r in self._run("SELECT lock_key FROM reconciler_locks ORDER BY 1", ())]
        return {key: holder for key in keys if (holder := self.lock_holder(key))}

    def _acquire(self, conn: psycopg.Connection[Row], key: str, timeout: float) -> None:
        ident = lock_id(self._target.schema, key)
        started = time.monotonic()
        delay = 0.02
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (ident,)).fetchone()
            if row and row[0]:
                return
            waited = time.monotonic() - started
            if 0 <= timeout <= waited:
                raise LockTimeout(key, self.lock_holder(key) or UNKNOWN_HOLDER, waited)
            pause = delay if timeout < 0 else min(delay, max(timeout - waited, 0.0))
            time.sleep(pause)
            delay = min(delay * 2, 0.25)

    def _record(self, conn: psycopg.Connection[Row], info: HolderInfo) -> None:
        conn.execute(
            "INSERT INTO reconciler_locks (lock_key, holder, host, pid, backend_pid, since, "
            "token) VALUES (%s, %s, %s, %s, pg_backend_pid(), %s, %s) ON CONFLICT (lock_key) "
            "DO UPDATE SET holder = EXCLUDED.holder, host = EXCLUDED.host, pid = EXCLUDED.pid, "
            "backend_pid = EXCLUDED.backend_pid, since = EXCLUDED.since, token = EXCLUDED.token",
            (info.key, info.holder, info.host, info.pid, info.since, info.token),
        )

    def _release(self, conn: psycopg.Connection[Row], info: HolderInfo) -> None:
        """Delete our row and unlock; a session already ended by force-unlock is fine."""
        with contextlib.suppress(psycopg.Error):
            conn.execute(
                "DELETE FROM reconciler_locks WHERE lock_key = %s AND token = %s",
                (info.key, info.token),
            )
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id(self._target.schema, info.key),))
        conn.close()

    def _holder_pids(self, key: str) -> list[int]:
        unsigned = lock_id(self._target.schema, key) & 0xFFFFFFFFFFFFFFFF
        rows = self._run(_HOLDERS, (unsigned >> 32, unsigned & 0xFFFFFFFF))
        return [int(row[0]) for row in rows]

    def _run(self, query: str, params: tuple[object, ...]) -> list[Row]:
        try:
            cur = self._admin.execute(query.encode(), params)
            return cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            raise StateError(f"PostgreSQL lock table: {exc}") from exc
