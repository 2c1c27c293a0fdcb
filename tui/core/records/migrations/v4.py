"""v3 -> v4: each record's remote host, so cloud models' turns stay apart from local ones."""

from __future__ import annotations

import sqlite3


def migrate(conn: sqlite3.Connection) -> None:
    """A cloud model's host as an indexed-table column; older turns all ran locally (null)."""
    conn.execute("ALTER TABLE records ADD COLUMN remote_host TEXT")
