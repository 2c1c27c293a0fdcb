"""The store's rows and how a Record maps onto its tables: a chat's header, a record's indexed
columns (what the history table shows), one line of the comparison table."""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tui.core.records.schema import Record, Status

CONTENT_KEYS = ("prompt", "thinking", "answer")


@dataclass(frozen=True)
class ChatRow:
    session_id: str
    created_at: str
    title: str | None = None
    model: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    host: str | None = None
    # The model of the chat's latest turn (`model` is the one it started with); chats() fills it.
    last_model: str | None = None


@dataclass(frozen=True)
class RecordRow:
    """The indexed columns of one record: what the history table shows."""

    record_id: str
    session_id: str | None
    turn_index: int | None
    sweep_id: str | None
    started_at: str
    ended_at: str | None
    status: Status
    model: str | None
    quant: str | None
    host: str | None
    warmup: bool
    load_ms: float | None
    total_wall_ms: float | None
    chars_s: float | None
    eval_tok_s: float | None
    mem_peak: int | None
    swap_peak: int | None
    net_w: float | None
    j_per_token: float | None


@dataclass(frozen=True)
class SummaryRow:
    """One line of the comparison table: a model on a host (`remote_host`: a cloud model's, which
    computed its answers; this machine's figures are then not its cost).

    Warm-up turns count nowhere but in the latest sizes. Medians are over ok turns; load_ms is
    the median over cold loads; peaks are maxima over every finished turn (a failed turn's swap
    peak matters); sizes, quantization and processor split are the latest seen; failed counts
    failed and timeout.
    """

    model: str | None
    host: str | None
    quant: str | None
    file_size_bytes: int | None
    loaded_size_bytes: int | None
    processor: str | None
    load_ms: float | None
    total_wall_ms: float | None
    chars_s: float | None
    eval_tok_s: float | None
    mem_peak: int | None
    swap_peak: int | None
    net_w: float | None
    j_per_token: float | None
    ok: int
    failed: int
    cancelled: int
    interrupted: int
    remote_host: str | None = None
    # The host's id (`host` is its latest name): two machines may share a name.
    host_id: str | None = None


@dataclass(frozen=True)
class TurnCursor:
    """Where a reader of finished turns stands: the highest rowid it has read, and the rows it saw
    still running (a turn is inserted running and completed in place, keeping its rowid)."""

    last_rowid: int = 0
    running: frozenset[int] = frozenset()


ROW_NAMES = tuple(f.name for f in fields(RecordRow))
# Named, not `*`: a newer ollamon may have added columns.
# The sessions table's columns (ChatRow.last_model is derived from the records).
CHAT_NAMES = ("session_id", "created_at", "title", "model", "settings", "host")
CHAT_COLUMNS = ", ".join(CHAT_NAMES)
CHAT_COLUMNS_OF_S = ", ".join(f"s.{name}" for name in CHAT_NAMES)
ROW_COLUMNS = ", ".join(ROW_NAMES)
_WRITE_COLUMNS = (
    "record_id",
    "session_id",
    "turn_index",
    "sweep_id",
    "started_at",
    "ended_at",
    "status",
    "model",
    "quant",
    "host",
    "warmup",
    "cold",
    "load_ms",
    "total_wall_ms",
    "chars_s",
    "eval_tok_s",
    "mem_peak",
    "swap_peak",
    "net_w",
    "j_per_token",
    "file_size",
    "ps_size",
    "processor",
    "remote_host",
    "host_id",
    "writer_pid",
    "writer_host",
    "writer_started",
)


@functools.cache
def _insert(columns: tuple[str, ...], keep_existing: bool) -> str:
    on_conflict = "NOTHING" if keep_existing else "UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    return (
        f"INSERT INTO records ({', '.join(columns)})"
        f" VALUES ({', '.join('?' for _ in columns)})"
        f" ON CONFLICT (record_id) DO {on_conflict}"
    )


def table_columns(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The records table's write columns as they are in this file now (a migration step that
    copies records writes only the columns its own schema has; later steps add the rest)."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
    return tuple(column for column in _WRITE_COLUMNS if column in present)


def _columns(record: Record) -> dict[str, Any]:
    return {
        "record_id": record.record_id,
        "session_id": record.session_id,
        "turn_index": record.turn_index,
        "sweep_id": record.sweep_id,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "status": record.status.value,
        "model": record.model.name,
        "quant": record.model.quantization,
        "host": record.host.hostname,
        "warmup": int(record.warmup),
        "cold": None if record.load.cold is None else int(record.load.cold),
        "load_ms": record.load.load_ms,
        "total_wall_ms": record.timing_ms.total_wall,
        "chars_s": record.rates.chars_s,
        "eval_tok_s": record.rates.eval_tok_s,
        "mem_peak": record.resources.mem_used_peak_bytes,
        "swap_peak": record.resources.swap_used_peak_bytes,
        "net_w": record.power.net_mean_w,
        "j_per_token": record.power.j_per_token,
        "file_size": record.model.file_size_bytes,
        "ps_size": record.load.ps_size_bytes,
        "processor": record.load.processor,
        "remote_host": record.model.remote_host,
        "host_id": record.host.host_id,
    }


Writer = tuple[int | None, str | None, float | None]


def write_record(
    conn: sqlite3.Connection,
    record: Record,
    writer: Writer,
    columns: tuple[str, ...] = _WRITE_COLUMNS,
    *,
    keep_existing: bool = False,
) -> bool:
    """Upsert one record into all four tables, inside the caller's transaction; with `keep_existing`
    a record whose id is stored already stays as it is. False when nothing was written."""
    cols = _columns(record)
    cols["writer_pid"], cols["writer_host"], cols["writer_started"] = writer
    if conn.execute(_insert(columns, keep_existing), [cols[c] for c in columns]).rowcount == 0:
        return False
    doc = {k: v for k, v in record.to_json_dict().items() if k not in CONTENT_KEYS and k != "samples"}
    conn.execute(
        "INSERT OR REPLACE INTO documents VALUES (?, ?)",
        (record.record_id, json.dumps(doc, ensure_ascii=False, separators=(",", ":"))),
    )
    parts = (record.prompt, record.thinking, record.answer)
    if all(p is None for p in parts):
        conn.execute("DELETE FROM content WHERE record_id = ?", (record.record_id,))
    else:
        conn.execute("INSERT OR REPLACE INTO content VALUES (?, ?, ?, ?)", (record.record_id, *parts))
    if record.samples:
        data = json.dumps([list(s) for s in record.samples], separators=(",", ":"))
        conn.execute("INSERT OR REPLACE INTO samples VALUES (?, ?)", (record.record_id, data))
    else:
        conn.execute("DELETE FROM samples WHERE record_id = ?", (record.record_id,))
    return True


def record_row(record: Record) -> RecordRow:
    """The history-table view of a record, as query() would return it."""
    cols = _columns(record)
    return row_from(tuple(cols[name] for name in ROW_NAMES))


def row_from(values: tuple[Any, ...]) -> RecordRow:
    row = RecordRow(*values)
    return replace(row, status=Status(row.status), warmup=bool(row.warmup))


def chat_row(row: tuple[Any, ...]) -> ChatRow:
    session_id, created_at, title, model, settings, host, *last = row
    return ChatRow(session_id, created_at, title, model, json.loads(settings or "{}"), host, *last)
