"""Running a migration's SQL inside the caller's transaction."""

from __future__ import annotations

import sqlite3


def run_script(conn: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it commits first, and migrations must stay in one transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)
