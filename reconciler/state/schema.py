"""The state schema, as numbered migrations per dialect, recorded in reconciler_schema_version.

To change the schema, append a migration to ``MIGRATIONS`` (never edit an applied one).
"""

from __future__ import annotations

from typing import Literal

from reconciler.errors import StateError
from reconciler.state.database import Database
from reconciler.state.records import now

Dialect = Literal["sqlite", "postgresql"]

_TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {
        "ts": "TEXT",
        "blob": "BLOB",
        "bool": "INTEGER",
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
    },
    "postgresql": {
        "ts": "TIMESTAMPTZ",
        "blob": "BYTEA",
        "bool": "BOOLEAN",
        "serial": "BIGSERIAL PRIMARY KEY",
    },
}

_TABLES = """
CREATE TABLE reconciler_runs (
    run_id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    git_commit TEXT,
    plan_checksum TEXT,
    command TEXT NOT NULL,
    forced {bool} NOT NULL,
    started_at {ts} NOT NULL,
    finished_at {ts},
    outcome TEXT NOT NULL
);
CREATE INDEX reconciler_runs_started ON reconciler_runs (started_at);
CREATE TABLE reconciler_exports (
    id {serial},
    run_id TEXT NOT NULL REFERENCES reconciler_runs (run_id),
    export TEXT NOT NULL,
    list_id TEXT NOT NULL,
    connection TEXT NOT NULL,
    added BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    job_ids TEXT NOT NULL,
    guards_forced TEXT NOT NULL,
    started_at {ts} NOT NULL,
    finished_at {ts} NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT
);
CREATE INDEX reconciler_exports_run ON reconciler_exports (run_id);
CREATE INDEX reconciler_exports_export ON reconciler_exports (export, outcome);
CREATE TABLE reconciler_membership (
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    member_count BIGINT NOT NULL,
    change_count BIGINT NOT NULL,
    as_of {ts},
    saved_at {ts} NOT NULL,
    snapshot {blob} NOT NULL,  -- last: SQLite reads the columns before it without the blob
    PRIMARY KEY (account, list_id)
);
CREATE TABLE reconciler_membership_changes (
    seq {serial},
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    email TEXT,
    profile_id TEXT NOT NULL,
    joined_at {ts}
);
CREATE INDEX reconciler_membership_changes_list
    ON reconciler_membership_changes (account, list_id, seq);
CREATE TABLE reconciler_jobs (
    job_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    submitted_at {ts} NOT NULL,
    finished_at {ts}
);
CREATE INDEX reconciler_jobs_list ON reconciler_jobs (account, list_id, finished_at);
"""

_REFUSE = "the reconciler journal is append-only"
_RUN_CHANGED = (
    "OLD.finished_at IS NOT NULL OR NEW.run_id IS NOT OLD.run_id OR NEW.actor IS NOT OLD.actor "
    "OR NEW.git_commit IS NOT OLD.git_commit OR NEW.plan_checksum IS NOT OLD.plan_checksum "
    "OR NEW.command IS NOT OLD.command OR NEW.forced IS NOT OLD.forced "
    "OR NEW.started_at IS NOT OLD.started_at"
)

_SQLITE_TRIGGERS = f"""
CREATE TRIGGER reconciler_runs_no_update BEFORE UPDATE ON reconciler_runs
WHEN {_RUN_CHANGED}
BEGIN SELECT RAISE(ABORT, '{_REFUSE}: only the run in flight can be finished, once'); END;
CREATE TRIGGER reconciler_runs_no_delete BEFORE DELETE ON reconciler_runs
BEGIN SELECT RAISE(ABORT, '{_REFUSE}: runs cannot be deleted'); END;
CREATE TRIGGER reconciler_exports_no_update BEFORE UPDATE ON reconciler_exports
BEGIN SELECT RAISE(ABORT, '{_REFUSE}: export records cannot be changed'); END;
CREATE TRIGGER reconciler_exports_no_delete BEFORE DELETE ON reconciler_exports
BEGIN SELECT RAISE(ABORT, '{_REFUSE}: export records cannot be deleted'); END;
CREATE TRIGGER reconciler_exports_open_run BEFORE INSERT ON reconciler_exports
WHEN (SELECT finished_at FROM reconciler_runs WHERE run_id = NEW.run_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, '{_REFUSE}: the run is already finished'); END;
"""

_PG_TRIGGERS = f"""
CREATE FUNCTION reconciler_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{_REFUSE}: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE FUNCTION reconciler_require_open_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM reconciler_runs
               WHERE run_id = NEW.run_id AND finished_at IS NOT NULL) THEN
        RAISE EXCEPTION '{_REFUSE}: the run is already finished'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER reconciler_runs_no_update BEFORE UPDATE ON reconciler_runs FOR EACH ROW
    WHEN ({_RUN_CHANGED.replace("IS NOT OLD", "IS DISTINCT FROM OLD")})
    EXECUTE FUNCTION reconciler_refuse_change();
CREATE TRIGGER reconciler_runs_no_delete BEFORE DELETE ON reconciler_runs FOR EACH ROW
    EXECUTE FUNCTION reconciler_refuse_change();
CREATE TRIGGER reconciler_exports_no_change BEFORE UPDATE OR DELETE ON reconciler_exports
    FOR EACH ROW EXECUTE FUNCTION reconciler_refuse_change();
CREATE TRIGGER reconciler_runs_no_truncate BEFORE TRUNCATE ON reconciler_runs
    FOR EACH STATEMENT EXECUTE FUNCTION reconciler_refuse_change();
CREATE TRIGGER reconciler_exports_no_truncate BEFORE TRUNCATE ON reconciler_exports
    FOR EACH STATEMENT EXECUTE FUNCTION reconciler_refuse_change();
CREATE TRIGGER reconciler_exports_open_run BEFORE INSERT ON reconciler_exports FOR EACH ROW
    EXECUTE FUNCTION reconciler_require_open_run();
ALTER TABLE reconciler_membership ALTER COLUMN snapshot SET STORAGE EXTERNAL;
CREATE TABLE reconciler_locks (
    lock_key TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    backend_pid BIGINT NOT NULL,
    since TIMESTAMPTZ NOT NULL,
    token TEXT NOT NULL
);
"""


def _version_1(dialect: Dialect) -> str:
    triggers = _SQLITE_TRIGGERS if dialect == "sqlite" else _PG_TRIGGERS
    return _TABLES.format(**_TYPES[dialect]) + triggers


_SQLITE_WITHOUT_EMAIL = """
CREATE TABLE reconciler_membership_new (
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    member_count BIGINT NOT NULL,
    change_count BIGINT NOT NULL,
    without_email BIGINT NOT NULL DEFAULT 0,
    as_of TEXT,
    saved_at TEXT NOT NULL,
    snapshot BLOB NOT NULL,  -- last: SQLite reads the columns before it without the blob
    PRIMARY KEY (account, list_id)
);
INSERT INTO reconciler_membership_new
    (account, list_id, member_count, change_count, as_of, saved_at, snapshot)
    SELECT account, list_id, member_count, change_count, as_of, saved_at, snapshot
    FROM reconciler_membership;
DROP TABLE reconciler_membership;
ALTER TABLE reconciler_membership_new RENAME TO reconciler_membership;
"""


def _version_2(dialect: Dialect) -> str:
    """The membership cache counts the list's members without an email (not in the snapshot,
    but in the list's ``profile_count``). SQLite rebuilds the table to keep the blob last."""
    if dialect == "sqlite":
        return _SQLITE_WITHOUT_EMAIL
    return "ALTER TABLE reconciler_membership ADD COLUMN without_email BIGINT NOT NULL DEFAULT 0;"


_SNAPSHOTS = """
CREATE TABLE reconciler_membership_snapshots (
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    snapshot {blob} NOT NULL,
    PRIMARY KEY (account, list_id)
);
INSERT INTO reconciler_membership_snapshots (account, list_id, snapshot)
    SELECT account, list_id, snapshot FROM reconciler_membership;
"""

_SQLITE_WITHOUT_SNAPSHOT = """
CREATE TABLE reconciler_membership_new (
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    member_count BIGINT NOT NULL,
    change_count BIGINT NOT NULL,
    without_email BIGINT NOT NULL DEFAULT 0,
    as_of TEXT,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (account, list_id)
);
INSERT INTO reconciler_membership_new
    (account, list_id, member_count, change_count, without_email, as_of, saved_at)
    SELECT account, list_id, member_count, change_count, without_email, as_of, saved_at
    FROM reconciler_membership;
DROP TABLE reconciler_membership;
ALTER TABLE reconciler_membership_new RENAME TO reconciler_membership;
"""

_PG_WITHOUT_SNAPSHOT = """
ALTER TABLE reconciler_membership_snapshots ALTER COLUMN snapshot SET STORAGE EXTERNAL;
ALTER TABLE reconciler_membership DROP COLUMN snapshot;
"""


def _version_3(dialect: Dialect) -> str:
    """The snapshot blob moves to a table of its own: SQLite rewrites a whole row (a million
    members' blob: ~60 MB) to update any of its columns, and the cache's counters change at
    every apply."""
    tail = _SQLITE_WITHOUT_SNAPSHOT if dialect == "sqlite" else _PG_WITHOUT_SNAPSHOT
    return _SNAPSHOTS.format(**_TYPES[dialect]) + tail


_DEPARTURES = """
CREATE TABLE reconciler_departures (
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    email TEXT NOT NULL,
    noticed_at {ts} NOT NULL,
    how TEXT NOT NULL,
    PRIMARY KEY (account, list_id, email)
);
CREATE TABLE reconciler_imported (
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    imported_at {ts} NOT NULL,
    emails {blob} NOT NULL,
    PRIMARY KEY (account, list_id, run_id)
);
"""


def _version_4(dialect: Dialect) -> str:
    """Members who left a list outside the reconciler (never silently re-added), and the
    reconciler's imports not yet confirmed by a read (see ``reconciler.state.departures``)."""
    return _DEPARTURES.format(**_TYPES[dialect])


_SENT = """
CREATE TABLE reconciler_sent_profiles (
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    saved_at {ts} NOT NULL,
    snapshot {blob} NOT NULL,
    PRIMARY KEY (account, list_id)
);
"""

_JOURNAL_COUNTS = """
ALTER TABLE reconciler_exports ADD COLUMN updated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconciler_exports ADD COLUMN subscribed BIGINT NOT NULL DEFAULT 0;
"""


def _version_5(dialect: Dialect) -> str:
    """What was last sent per member of a list (field digests, subscriptions): an Arrow IPC
    snapshot per list, so that the plan sends only changed fields and subscribes only once;
    the journal counts each export's updated and subscribed profiles."""
    return _SENT.format(**_TYPES[dialect]) + _JOURNAL_COUNTS


_SENT_CHANGES = """
ALTER TABLE reconciler_sent_profiles ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0;
CREATE TABLE reconciler_sent_changes (
    account TEXT NOT NULL,
    list_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    saved_at {ts} NOT NULL,
    row_count BIGINT NOT NULL,
    changes {blob} NOT NULL,
    PRIMARY KEY (account, list_id, seq)
);
"""


def _version_6(dialect: Dialect) -> str:
    """A log of what each apply sent, appended next to the sent-profiles snapshot (an apply
    writes only what it sent, not the whole list; the log is folded into the snapshot when it
    grows): see ``reconciler.state.sent``."""
    return _SENT_CHANGES.format(**_TYPES[dialect])


MIGRATIONS = (_version_1, _version_2, _version_3, _version_4, _version_5, _version_6)
VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS reconciler_schema_version "
    "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
)


def statements(script: str) -> list[str]:
    """Split a migration into statements (``;`` at a line end, outside ``$$`` bodies)."""
    out: list[str] = []
    current: list[str] = []
    in_body = False
    for line in script.strip().splitlines():
        current.append(line)
        in_body ^= line.count("$$") % 2 == 1
        if not in_body and line.rstrip().endswith(";"):
            out.append("\n".join(current).strip().rstrip(";"))
            current = []
    if "".join(current).strip():
        out.append("\n".join(current).strip())
    return out


def migrate(db: Database, dialect: Dialect) -> int:
    """Bring the schema up to date (idempotent, safe against concurrent openers)."""
    with db.transaction():
        if dialect == "postgresql":
            db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
        db.execute(VERSION_TABLE)
        row = db.fetch_one("SELECT COALESCE(MAX(version), 0) FROM reconciler_schema_version")
        current = int(row[0]) if row else 0
        if current > len(MIGRATIONS):
            raise StateError(
                f"the state database has schema version {current}, newer than this "
                f"reconciler knows ({len(MIGRATIONS)}); upgrade the reconciler"
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            for statement in statements(MIGRATIONS[version - 1](dialect)):
                db.execute(statement)
            db.execute(
                "INSERT INTO reconciler_schema_version (version, applied_at) VALUES (?, ?)",
                (version, now().isoformat()),
            )
        return len(MIGRATIONS)


MIGRATION_LOCK = 0x7265636F6E63696C  # "reconcil": serialises concurrent migrations
