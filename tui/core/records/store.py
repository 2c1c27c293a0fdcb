"""Benchmark records on disk: one SQLite file in WAL mode that several app instances can share.

Layout (schema v3):
- ``sessions``: one row per chat (settings as JSON text).
- ``records``: one narrow row per turn: the figures the history table filters, sorts and
  summarises on, as plain indexed columns, so a 100k-record scan never touches JSON. Its
  ``status`` column is authoritative (crash recovery changes only the column).
- ``documents``: the record's full JSON form *without* ``prompt``, ``thinking``, ``answer`` and
  ``samples``, which live in the two tables below; read only to rebuild a whole Record.
- ``content``: prompt, thinking and answer, one row per record, and no row at all when the
  record kept no content (the "keep content" setting off).
- ``sweeps``: one row per `ollamon bench` sweep, with its plan as JSON (what `--resume` reruns).
- ``samples``: the turn's sampler timeline as one compact JSON array per record. One row per
  reading would mean tens of millions of rows for 100k turns, and a plot always wants the
  whole timeline of one turn.

Crash recovery: a turn is inserted as ``running`` when it starts, stamped with its writer's pid,
hostname and process start time. ``mark_interrupted`` turns a running row into
``interrupted`` only when that writer is gone: same host and the pid no longer exists or now
belongs to a process started at another time (pid reuse). Rows written from another host are
left alone, because their writer's liveness cannot be checked from here.

Concurrency: every write is one short ``BEGIN IMMEDIATE`` transaction and every connection
waits up to ``BUSY_TIMEOUT_S`` for a lock, so two processes can append to one file.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs
import psutil

from tui.core.records.schema import Record, Status, new_id, utc_now

APPLICATION_ID = 0x4F4C4D4E  # "OLMN" in the SQLite header: how we recognise our own files.
SCHEMA_VERSION = 3
BUSY_TIMEOUT_S = 5.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_CONTENT_KEYS = ("prompt", "thinking", "answer")
_FAILED = {Status.FAILED.value, Status.TIMEOUT.value}


class StoreError(Exception):
    """The file cannot be used as a record store; it has not been touched."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


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
    """One line of the comparison table: a model on a host.

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


def default_path() -> Path:
    """Where the app keeps its records on this OS."""
    return platformdirs.user_data_path("ollamon") / "records.sqlite"


# --- schema and migrations ---------------------------------------------------


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it commits first, and migrations must stay in one transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _create_v1(conn: sqlite3.Connection) -> None:
    # v1 (ollamon 0.1 development builds): one table, content and samples inside `doc`.
    _run_script(
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


_V2_SCHEMA = """
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


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    # v2 splits each v1 row in four: narrow indexed columns (fast scans for the table and the
    # summary), the JSON document, content (absent when not kept) and samples. It adds
    # sessions, writer stamps for crash recovery, and the columns the summary needs.
    for index in ("records_started", "records_model_started", "records_status_started", "records_session"):
        conn.execute(f"DROP INDEX {index}")
    conn.execute("ALTER TABLE records RENAME TO records_v1")
    _run_script(conn, _V2_SCHEMA)
    for (text,) in conn.execute("SELECT doc FROM records_v1").fetchall():
        _write_record(conn, Record.from_json_dict(json.loads(text)), (None, None, None))
    conn.execute("DROP TABLE records_v1")
    # Bare columns beside min() come from the earliest turn (documented SQLite behaviour).
    conn.execute(
        "INSERT INTO sessions (session_id, created_at, model, host)"
        " SELECT session_id, min(started_at), model, host FROM records"
        " WHERE session_id IS NOT NULL GROUP BY session_id"
    )


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    # v3 adds bench sweeps: their plans, and an index to read one sweep's runs.
    _run_script(
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


# MIGRATIONS[n] takes a file from schema version n to n + 1; a new file runs them all.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_create_v1, _v1_to_v2, _v2_to_v3]
assert len(MIGRATIONS) == SCHEMA_VERSION


# --- row mapping -------------------------------------------------------------

_ROW_NAMES = tuple(f.name for f in fields(RecordRow))
# Named, not `*`: a newer ollamon may have added columns.
# The sessions table's columns (ChatRow.last_model is derived from the records).
_SESSION_NAMES = ("session_id", "created_at", "title", "model", "settings", "host")
_SESSION_COLUMNS = ", ".join(_SESSION_NAMES)
_SESSION_COLUMNS_OF_S = ", ".join(f"s.{name}" for name in _SESSION_NAMES)
_ROW_COLUMNS = ", ".join(_ROW_NAMES)
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
    "writer_pid",
    "writer_host",
    "writer_started",
)
_UPSERT = (
    f"INSERT INTO records ({', '.join(_WRITE_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _WRITE_COLUMNS)})"
    " ON CONFLICT (record_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _WRITE_COLUMNS[1:])
)


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
    }


Writer = tuple[int | None, str | None, float | None]


def _write_record(conn: sqlite3.Connection, record: Record, writer: Writer) -> None:
    """Upsert one record into all four tables, inside the caller's transaction."""
    cols = _columns(record)
    cols["writer_pid"], cols["writer_host"], cols["writer_started"] = writer
    conn.execute(_UPSERT, [cols[c] for c in _WRITE_COLUMNS])
    doc = {k: v for k, v in record.to_json_dict().items() if k not in _CONTENT_KEYS and k != "samples"}
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


def record_row(record: Record) -> RecordRow:
    """The history-table view of a record, as query() would return it."""
    cols = _columns(record)
    return _row(tuple(cols[name] for name in _ROW_NAMES))


def _row(values: tuple[Any, ...]) -> RecordRow:
    row = RecordRow(*values)
    return replace(row, status=Status(row.status), warmup=bool(row.warmup))


# --- files -------------------------------------------------------------------


def _create_private(path: Path) -> bool:
    """Create an empty file readable by its owner only; False if it already exists."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, 0o600)  # the umask may have removed bits; set exactly 0600
    finally:
        os.close(fd)
    return True


def path_problem(path: Path) -> str | None:
    """Why no file can exist at `path` because a file stands where a folder must be; else None."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a folder"
    return None


def _check_header(path: Path) -> None:
    """Refuse anything but an empty file or an SQLite file of ours, by reading bytes only."""
    try:
        with open(path, "rb") as f:
            header = f.read(100)
    except OSError as e:
        raise StoreError(path, f"cannot read the file ({e.strerror})") from e
    if not header:
        return
    if not header.startswith(_SQLITE_MAGIC):
        raise StoreError(path, "not an SQLite database (refusing to touch it)")
    if len(header) < 100:
        raise StoreError(path, "truncated SQLite header (refusing to touch it)")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise StoreError(
            path,
            f"an SQLite database of another application (application_id {app_id:#010x},"
            f" ours is {APPLICATION_ID:#010x}); refusing to touch it",
        )


def _backup_path(path: Path, version: int) -> Path:
    candidate = path.with_name(f"{path.name}.v{version}.bak")
    n = 2
    while candidate.exists():  # never overwrite an earlier backup
        candidate = path.with_name(f"{path.name}.v{version}.{n}.bak")
        n += 1
    return candidate


def _user_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(conn)  # again, under the lock: another process may have done it
        if version < SCHEMA_VERSION:
            if version == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            else:
                _backup(path, version)
            for step in MIGRATIONS[version:]:
                step(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _backup(path: Path, version: int) -> None:
    target = _backup_path(path, version)
    _create_private(target)
    # A second connection: the backup API cannot read through one that holds the write lock.
    # Ours holds it, so nobody can commit: the copy is exactly the file before migrating.
    source, copy = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    version = _user_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            path, f"written by a newer ollamon (schema v{version}; this one reads up to v{SCHEMA_VERSION})"
        )
    # Probe before writing anything, so a damaged file fails here untouched.
    if version:
        conn.execute("SELECT record_id FROM records ORDER BY started_at DESC LIMIT 1").fetchall()
    if version < SCHEMA_VERSION:
        _upgrade(conn, path)
    # After creation, so the header (application_id) is in the main file, not only in the WAL.
    conn.execute("PRAGMA journal_mode = WAL")
    # WAL + NORMAL survives an app crash; only an OS crash can lose the last commits.
    conn.execute("PRAGMA synchronous = NORMAL")
    # SQLite's default page cache grows to 2 MiB as answers are written; the OS caches the file anyway.
    conn.execute("PRAGMA cache_size = -512")


# --- the store -----------------------------------------------------------------


class RecordStore:
    """Benchmark records and chat sessions in one SQLite file; safe to share between threads."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = threading.Lock()
        me = psutil.Process()
        self._writer: Writer = (me.pid, socket.gethostname(), me.create_time())

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RecordStore:
        """Open or create the store at `path`, migrating an older file after backing it up."""
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_private(path)
        except OSError as e:
            raise StoreError(path, f"cannot create it: {path_problem(path) or e.strerror or e}") from e
        _check_header(path)
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise StoreError(path, f"cannot open it ({e})") from e
        try:
            _prepare(conn, path)
        except (sqlite3.DatabaseError, OSError) as e:  # OSError: the backup before a migration
            conn.close()
            raise StoreError(path, f"cannot use this file as a record store ({e})") from e
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    # sessions

    def create_chat(
        self,
        title: str | None = None,
        model: str | None = None,
        settings: dict[str, Any] | None = None,
        host: str | None = None,
    ) -> str:
        """Start a chat; returns its session_id."""
        session_id = new_id()
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, utc_now(), title, model, json.dumps(settings or {}), host),
            )
        return session_id

    def update_chat_settings(self, session_id: str, settings: dict[str, Any]) -> None:
        """A chat's settings changed: a reopened chat continues with these."""
        with self._transaction() as conn:
            conn.execute("UPDATE sessions SET settings = ? WHERE session_id = ?", (json.dumps(settings), session_id))

    def get_chat(self, session_id: str) -> ChatRow | None:
        """One chat's header, or None."""
        rows = self._read(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE session_id = ?", (session_id,))
        return _chat_row(rows[0]) if rows else None

    def chats(self, limit: int | None = None) -> list[ChatRow]:
        """Chats, newest first, each with the model of its latest turn."""
        rows = self._read(
            f"SELECT {_SESSION_COLUMNS_OF_S}, (SELECT r.model FROM records r WHERE r.session_id = s.session_id"
            " ORDER BY r.turn_index DESC LIMIT 1) FROM sessions s ORDER BY s.created_at DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [_chat_row(r) for r in rows]

    # sweeps

    def create_sweep(self, plan: dict[str, Any], host: str | None = None) -> str:
        """Remember a bench sweep's plan; returns its sweep_id."""
        sweep_id = new_id()[:12]
        with self._transaction() as conn:
            conn.execute("INSERT INTO sweeps VALUES (?, ?, ?, ?)", (sweep_id, utc_now(), json.dumps(plan), host))
        return sweep_id

    def get_sweep(self, sweep_id: str) -> dict[str, Any] | None:
        """A sweep's plan, or None when there is no such sweep."""
        rows = self._read("SELECT plan FROM sweeps WHERE sweep_id = ?", (sweep_id,))
        return json.loads(rows[0][0] or "{}") if rows else None

    def sweep_records(self, sweep_id: str) -> list[Record]:
        """A sweep's runs in the order they ran, without content."""
        return self._records("WHERE r.sweep_id = ? ORDER BY r.started_at, r.rowid", (sweep_id,), False)

    def chat_turns(self, session_id: str) -> list[Record]:
        """A chat's turns in order, with content, to show it again and resend its messages."""
        return self._records("WHERE r.session_id = ? ORDER BY r.turn_index, r.started_at", (session_id,), True)

    # records

    def start_turn(self, record: Record) -> str:
        """Insert a turn as running, immediately, so a crash leaves a trace; returns record_id."""
        record.status = Status.RUNNING
        self._upsert([record])
        return record.record_id

    def finish_turn(self, record: Record) -> None:
        """Store the finished turn: status, ended_at (now, if unset), figures, content, samples."""
        if record.status is Status.RUNNING:
            raise ValueError("finish_turn needs a final status, not running")
        if record.ended_at is None:
            record.ended_at = utc_now()
        self._upsert([record])

    def import_records(self, records: Iterable[Record]) -> int:
        """Store finished records in one transaction (bulk import); returns how many."""
        return self._upsert(records)

    def _upsert(self, records: Iterable[Record]) -> int:
        n = 0
        with self._transaction() as conn:
            for record in records:
                _write_record(conn, record, self._writer)
                n += 1
        return n

    def mark_interrupted(self) -> int:
        """Mark running turns whose writing process is gone as interrupted; returns how many."""
        with self._transaction() as conn:
            running = conn.execute(
                "SELECT record_id, writer_pid, writer_host, writer_started FROM records WHERE status = 'running'"
            ).fetchall()
            dead = [(rid,) for rid, *writer in running if not self._writer_alive(*writer)]
            conn.executemany("UPDATE records SET status = 'interrupted' WHERE record_id = ?", dead)
        return len(dead)

    def _writer_alive(self, pid: int | None, host: str | None, started: float | None) -> bool:
        if pid is None:
            return False  # written before writers were stamped (schema v1)
        if host != self._writer[1]:
            return True  # another machine's process: cannot tell, so leave it
        try:
            created = psutil.Process(pid).create_time()
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            return True
        # A different start time means the pid was reused by an unrelated process.
        return started is None or abs(created - started) < 1.0

    def get(self, record_id: str) -> Record | None:
        """One full record (with content and samples), or None."""
        found = self._records("WHERE r.record_id = ?", (record_id,), True)
        return found[0] if found else None

    def records(
        self,
        model: str | None = None,
        status: Status | str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
        with_content: bool = False,
        sweep_id: str | None = None,
    ) -> list[Record]:
        """Full records for export, filtered like query()."""
        where, params = _filters(model, status, sweep_id)
        order = "DESC" if newest_first else "ASC"
        tail = f"{where} ORDER BY r.started_at {order}, r.rowid {order} LIMIT ?"
        return self._records(tail, [*params, -1 if limit is None else limit], with_content)

    def _records(self, tail: str, params: Iterable[Any], with_content: bool) -> list[Record]:
        content = "c.prompt, c.thinking, c.answer" if with_content else "NULL, NULL, NULL"
        rows = self._read(
            f"SELECT d.doc, r.status, {content}, s.data FROM records r"
            " JOIN documents d ON d.record_id = r.record_id"
            " LEFT JOIN content c ON c.record_id = r.record_id"
            " LEFT JOIN samples s ON s.record_id = r.record_id " + tail,
            params,
        )
        out = []
        for doc_text, status, prompt, thinking, answer, samples in rows:
            doc = json.loads(doc_text)
            doc.update(status=status, prompt=prompt, thinking=thinking, answer=answer)
            doc["samples"] = json.loads(samples) if samples else []
            out.append(Record.from_json_dict(doc))
        return out

    def query(
        self,
        model: str | None = None,
        status: Status | str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = True,
        sweep_id: str | None = None,
    ) -> list[RecordRow]:
        """A page of the history table from the indexed columns (no JSON parsing)."""
        where, params = _filters(model, status, sweep_id)
        order = "DESC" if newest_first else "ASC"
        rows = self._read(
            f"SELECT {_ROW_COLUMNS} FROM records r {where} ORDER BY started_at {order}, rowid {order} LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        )
        return [_row(r) for r in rows]

    def summary(self, model: str | None = None, sweep_id: str | None = None) -> list[SummaryRow]:
        """The comparison table: one row per (model, host), ordered by model then host."""
        where, params = _filters(model, None, sweep_id)
        finished = f"{where} AND" if where else "WHERE"
        rows = self._read(
            "SELECT model, host, status, warmup, cold, load_ms, total_wall_ms, chars_s, eval_tok_s,"
            " net_w, j_per_token, mem_peak, swap_peak, quant, file_size, ps_size, processor"
            f" FROM records r {finished} r.status != 'running' ORDER BY started_at",
            params,
        )
        groups: dict[tuple[str | None, str | None], list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            groups[row[0], row[1]].append(row)
        return [_summarise(*key, groups[key]) for key in sorted(groups, key=lambda k: (k[0] or "", k[1] or ""))]


def _filters(model: str | None, status: Status | str | None, sweep_id: str | None = None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if sweep_id is not None:
        clauses.append("r.sweep_id = ?")
        params.append(sweep_id)
    if model is not None:
        clauses.append("r.model = ?")
        params.append(model)
    if status is not None:
        clauses.append("r.status = ?")
        params.append(Status(status).value)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _chat_row(row: tuple[Any, ...]) -> ChatRow:
    session_id, created_at, title, model, settings, host, *last = row
    return ChatRow(session_id, created_at, title, model, json.loads(settings or "{}"), host, *last)


def _summarise(model: str | None, host: str | None, rows: list[tuple[Any, ...]]) -> SummaryRow:
    """One group's SummaryRow from its rows, oldest first (columns as selected in summary())."""
    (
        _,
        _,
        status,
        warmup,
        cold,
        load_ms,
        total,
        chars_s,
        eval_tok_s,
        net_w,
        j_per_token,
        mem_peak,
        swap_peak,
        quant,
        file_size,
        ps_size,
        processor,
    ) = zip(*rows, strict=True)
    counted = [i for i, w in enumerate(warmup) if not w]
    ok = [i for i in counted if status[i] == Status.OK.value]

    def median(column: tuple[Any, ...], among: list[int]) -> float | None:
        values = [column[i] for i in among if column[i] is not None]
        return statistics.median(values) if values else None

    def peak(column: tuple[Any, ...]) -> int | None:
        return max((column[i] for i in counted if column[i] is not None), default=None)

    def latest(column: tuple[Any, ...]) -> Any:
        return next((v for v in reversed(column) if v is not None), None)

    outcomes = Counter(status[i] for i in counted)
    return SummaryRow(
        model=model,
        host=host,
        quant=latest(quant),
        file_size_bytes=latest(file_size),
        loaded_size_bytes=latest(ps_size),
        processor=latest(processor),
        load_ms=median(load_ms, [i for i in ok if cold[i]]),
        total_wall_ms=median(total, ok),
        chars_s=median(chars_s, ok),
        eval_tok_s=median(eval_tok_s, ok),
        mem_peak=peak(mem_peak),
        swap_peak=peak(swap_peak),
        net_w=median(net_w, ok),
        j_per_token=median(j_per_token, ok),
        ok=outcomes[Status.OK.value],
        failed=sum(outcomes[s] for s in _FAILED),
        cancelled=outcomes[Status.CANCELLED.value],
        interrupted=outcomes[Status.INTERRUPTED.value],
    )
