"""The store's schema versions, one module per step (`vN.migrate` takes a file from vN-1 to vN;
v1 creates a new file), and the upgrade that runs them in one transaction after a backup."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from tui.core.records.files import APPLICATION_ID, backup
from tui.core.records.migrations import v1, v2, v3, v4, v5

SCHEMA_VERSION = 5

# MIGRATIONS[n] takes a file from schema version n to n + 1; a new file runs them all.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [v1.migrate, v2.migrate, v3.migrate, v4.migrate, v5.migrate]
assert len(MIGRATIONS) == SCHEMA_VERSION


def user_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def upgrade(conn: sqlite3.Connection, path: Path, host_id: str) -> None:
    """Take the file to SCHEMA_VERSION in one transaction: a new file gets our application_id,
        an older one is copied aside first. A file reaching v5 takes `host_id` (this machine's) as its
    own host id, and so do the turns it already holds."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = user_version(conn)  # again, under the lock: another process may have done it
        if version < SCHEMA_VERSION:
            if version == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            else:
                backup(path, version)
            for step in MIGRATIONS[version:]:
                step(conn)
            if version < 5:
                v5.own(conn, host_id)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
