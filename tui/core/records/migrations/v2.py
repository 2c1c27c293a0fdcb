"""v1 -> v2: each record split into indexed columns, document, content and samples; chats; writer stamps."""

from __future__ import annotations

import json
import sqlite3

from tui.core.records.migrations.script import run_script
from tui.core.records.rows import table_columns, write_record
from tui.core.records.schema import Record

SCHEMA = """
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    title TEXT,
    model TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    host TEXT
);
CREATE INDEX sessions_created ON sessions (created_at);
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
    host TEXT,
    warmup INTEGER NOT NULL DEFAULT 0,
    cold INTEGER,
    load_ms REAL,
    total_wall_ms REAL,
    chars_s REAL,
    eval_tok_s REAL,
    mem_peak INTEGER,
    swap_peak INTEGER,
    net_w REAL,
    j_per_token REAL,
    file_size INTEGER,
    ps_size INTEGER,
    processor TEXT,
    writer_pid INTEGER,
    writer_host TEXT,
    writer_started REAL
);
CREATE INDEX records_started ON records (started_at);
CREATE INDEX records_model_started ON records (model, started_at);
CREATE INDEX records_status_started ON records (status, started_at);
CREATE INDEX records_session ON records (session_id, turn_index);
CREATE TABLE documents (
    record_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE content (
    record_id TEXT PRIMARY KEY,
    prompt TEXT,
    thinking TEXT,
    answer TEXT
);
CREATE TABLE samples (
    record_id TEXT PRIMARY KEY,
    data TEXT NOT NULL
)
"""


def migrate(conn: sqlite3.Connection) -> None:
    # v2 splits each v1 row in four: narrow indexed columns (fast scans for the table and the
    # summary), the JSON document, content (absent when not kept) and samples. It adds
    # sessions, writer stamps for crash recovery, and the columns the summary needs.
    for index in ("records_started", "records_model_started", "records_status_started", "records_session"):
        conn.execute(f"DROP INDEX {index}")
    conn.execute("ALTER TABLE records RENAME TO records_v1")
    run_script(conn, SCHEMA)
    columns = table_columns(conn)
    for (text,) in conn.execute("SELECT doc FROM records_v1").fetchall():
        write_record(conn, Record.from_json_dict(json.loads(text)), (None, None, None), columns)
    conn.execute("DROP TABLE records_v1")
    # Bare columns beside min() come from the earliest turn (documented SQLite behaviour).
    conn.execute(
        "INSERT INTO sessions (session_id, created_at, model, host)"
        " SELECT session_id, min(started_at), model, host FROM records"
        " WHERE session_id IS NOT NULL GROUP BY session_id"
    )
