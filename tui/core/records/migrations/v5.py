"""v4 -> v5: each record's host id, so turns imported from other machines stay theirs; the store's own host id."""

from __future__ import annotations

import sqlite3

from tui.core.records.migrations.script import run_script


def migrate(conn: sqlite3.Connection) -> None:
    """The host id as an indexed column (this host's past loads are read by it), and a table of the store's facts."""
    run_script(
        conn,
        """
        ALTER TABLE records ADD COLUMN host_id TEXT;
        CREATE INDEX records_host ON records (host_id, started_at);
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """,
    )


def own(conn: sqlite3.Connection, host_id: str) -> None:
    """Give the store its host: the machine that makes it or takes it to v5. Before v5 nothing was
    imported, so every turn already stored was written there."""
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('host_id', ?)", (host_id,))
    conn.execute("UPDATE records SET host_id = ? WHERE host_id IS NULL", (host_id,))
