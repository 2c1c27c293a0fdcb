"""v2 -> v3: bench sweeps."""

from __future__ import annotations

import sqlite3

from tui.core.records.migrations.script import run_script


def migrate(conn: sqlite3.Connection) -> None:
    # v3 adds bench sweeps: their plans, and an index to read one sweep's runs.
    run_script(
        conn,
        """
        CREATE TABLE sweeps (
            sweep_id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            plan TEXT NOT NULL DEFAULT '{}',
            host TEXT
        );
        CREATE INDEX records_sweep ON records (sweep_id, started_at)
        """,
    )
