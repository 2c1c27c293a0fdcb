"""Schema v1 (ollamon 0.1 development builds): a new file starts here."""

from __future__ import annotations

import sqlite3

from tui.core.records.migrations.script import run_script


def migrate(conn: sqlite3.Connection) -> None:
    """One table; content and samples inside `doc`."""
    run_script(
        conn,
        """
        CREATE TABLE records (
            record_id TEXT PRIMARY KEY,
            session_id TEXT,
            turn_index INTEGER,
            sweep_id TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            status TEXT NOT NULL,
            model TEXT,
            quant TEXT,
            load_ms REAL,
            total_wall_ms REAL,
            chars_s REAL,
            eval_tok_s REAL,
            mem_peak INTEGER,
            swap_peak INTEGER,
            net_w REAL,
            j_per_token REAL,
            doc TEXT NOT NULL
        );
        CREATE INDEX records_started ON records (started_at);
        CREATE INDEX records_model_started ON records (model, started_at);
        CREATE INDEX records_status_started ON records (status, started_at);
        CREATE INDEX records_session ON records (session_id, turn_index);
        """,
    )
