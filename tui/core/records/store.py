"""Benchmark records on disk: one SQLite file in WAL mode that several app instances can share.

Layout (schema v5):
- ``sessions``: one row per chat (settings as JSON text).
- ``records``: one narrow row per turn: the figures the history table filters, sorts and
  summarises on, as plain indexed columns, so a 100k-record scan never touches JSON. Its
  ``status`` and ``host_id`` columns are authoritative (crash recovery changes only the column;
  turns stored before v5 got their host id there alone). ``record_id`` is its primary key: a
  turn is stored once, whichever stores it passed through.
- ``documents``: the record's full JSON form *without* ``prompt``, ``thinking``, ``answer`` and
  ``samples``, which live in the two tables below; read only to rebuild a whole Record.
- ``content``: prompt, thinking and answer, one row per record, and no row at all when the
  record kept no content (the "keep content" setting off).
- ``sweeps``: one row per `ollamon bench` sweep, with its plan as JSON (what `--resume` reruns).
- ``meta``: the store's own facts by key: ``host_id``, the host id it was made with (the one its
  turns carry where the machine's data directory cannot keep one).
- ``samples``: the turn's sampler timeline as one compact JSON array per record. One row per
  reading would mean tens of millions of rows for 100k turns, and a plot always wants the
  whole timeline of one turn.

Crash recovery: a turn is inserted as ``running`` when it starts, stamped with its writer's pid,
hostname and process start time. ``mark_interrupted`` turns a running row into
``interrupted`` only when that writer is gone: same host and the pid no longer exists or now
belongs to a process started at another time (pid reuse). Rows written from another host are
left alone, because their writer's liveness cannot be checked from here.

Turns of other machines (``merge_records``, `ollamon import`) keep their host id and are never
this host's past loads.

Concurrency: every write is one short ``BEGIN IMMEDIATE`` transaction and every connection
waits up to ``BUSY_TIMEOUT_S`` for a lock, so two processes can append to one file.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

from tui.core.records.files import BUSY_TIMEOUT_S, StoreError, check_header, create_private, path_problem
from tui.core.records.hostid import machine_id
from tui.core.records.migrations import SCHEMA_VERSION, upgrade, user_version
from tui.core.records.rows import (
    CHAT_COLUMNS,
    CHAT_COLUMNS_OF_S,
    ROW_COLUMNS,
    ChatRow,
    RecordRow,
    SummaryRow,
    TurnCursor,
    Writer,
    chat_row,
    row_from,
    write_record,
)
from tui.core.records.schema import HostInfo, Record, Status, new_id, utc_now
from tui.core.records.summary import summarise

# Chats asked about in one query: SQLite allows at most 32,766 parameters in a statement.
_IN_BATCH = 500


def prepare(conn: sqlite3.Connection, path: Path, host_id: str) -> None:
    version = user_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            path, f"written by a newer ollamon (schema v{version}; this one reads up to v{SCHEMA_VERSION})"
        )
    # Probe before writing anything, so a damaged file fails here untouched.
    if version:
        conn.execute("SELECT record_id FROM records ORDER BY started_at DESC LIMIT 1").fetchall()
    if version < SCHEMA_VERSION:
        upgrade(conn, path, host_id)
    # After creation, so the header (application_id) is in the main file, not only in the WAL.
    conn.execute("PRAGMA journal_mode = WAL")
    # WAL + NORMAL survives an app crash; only an OS crash can lose the last commits.
    conn.execute("PRAGMA synchronous = NORMAL")
    # SQLite's default page cache grows to 2 MiB as answers are written; the OS caches the file anyway.
    conn.execute("PRAGMA cache_size = -512")


def own_host_id(conn: sqlite3.Connection) -> str:
    """The host id the store was given when it was made or reached schema v5 (migrations.v5.own)."""
    rows = conn.execute("SELECT value FROM meta WHERE key = 'host_id'").fetchall()
    if not rows:
        raise sqlite3.DatabaseError("no host id in the meta table")
    host_id: str = rows[0][0]
    return host_id


class RecordStore:
    """Benchmark records and chat sessions in one SQLite file; safe to share between threads."""

    def __init__(self, conn: sqlite3.Connection, path: Path, host_id: str) -> None:
        self._conn = conn
        self.path = path
        # This machine's: stamped on every turn written here, and what picks this host's past loads.
        self.host_id = host_id
        self._lock = threading.Lock()
        me = psutil.Process()
        self._writer: Writer = (me.pid, socket.gethostname(), me.create_time())

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RecordStore:
        """Open or create the store at `path`, migrating an older file after backing it up.

        Its turns carry this machine's host id (hostid.py), or where the data directory cannot
        keep one, the store's own."""
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            create_private(path)
        except OSError as e:
            raise StoreError(path, f"cannot create it: {path_problem(path) or e.strerror or e}") from e
        check_header(path)
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise StoreError(path, f"cannot open it ({e})") from e
        mine = machine_id()
        try:
            prepare(conn, path, mine or new_id())
            host_id = mine or own_host_id(conn)
        except (sqlite3.DatabaseError, OSError) as e:  # OSError: the backup before a migration
            conn.close()
            raise StoreError(path, f"cannot use this file as a record store ({e})") from e
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, host_id)

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
        rows = self._read(f"SELECT {CHAT_COLUMNS} FROM sessions WHERE session_id = ?", (session_id,))
        return chat_row(rows[0]) if rows else None

    def chats(self, limit: int | None = None) -> list[ChatRow]:
        """Chats, newest first, each with the model of its latest turn."""
        rows = self._read(
            f"SELECT {CHAT_COLUMNS_OF_S}, (SELECT r.model FROM records r WHERE r.session_id = s.session_id"
            " ORDER BY r.turn_index DESC LIMIT 1) FROM sessions s ORDER BY s.created_at DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [chat_row(r) for r in rows]

    def turn_counts(self, session_ids: Iterable[str]) -> dict[str, int]:
        """How many turns each chat has (0 for a chat without any), from the index alone."""
        wanted = list(session_ids)
        counts = dict.fromkeys(wanted, 0)
        for start in range(0, len(wanted), _IN_BATCH):
            batch = wanted[start : start + _IN_BATCH]
            marks = ", ".join("?" for _ in batch)
            rows = self._read(
                f"SELECT session_id, count(*) FROM records WHERE session_id IN ({marks}) GROUP BY session_id", batch
            )
            counts.update(rows)
        return counts

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
                if record.host.host_id is None:  # a new HostInfo: a caller may share one between records
                    record.host = replace(record.host, host_id=self.host_id)
                write_record(conn, record, self._writer)
                n += 1
        return n

    def merge_records(self, sources: Iterable[Iterable[Record]]) -> list[tuple[int, int]]:
        """Add records written elsewhere (other stores, other machines), each with its own host, all
        in one transaction: a source that fails midway leaves the store as it was. A record whose
        id is here already stays as it is. Per source: (added, already present)."""
        counts = []
        with self._transaction() as conn:
            for records in sources:
                added = present = 0
                for record in records:
                    # No writer stamp: it matters for a running turn only, and none is merged.
                    if write_record(conn, record, (None, None, None), keep_existing=True):
                        added += 1
                    else:
                        present += 1
                counts.append((added, present))
        return counts

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

    def loads_on(self) -> list[Record]:
        """This host's turns that may have loaded their model (cold, or not known), without
        content: what the fit advisor checks its predictions against (never another machine's,
        imported). The indexed columns pick them, so a long history is not read whole for the few
        loads in it."""
        return self._records(
            "WHERE r.host_id = ? AND (r.cold IS NULL OR r.cold != 0) ORDER BY r.started_at, r.rowid",
            (self.host_id,),
            False,
        )

    def finished_since(self, cursor: TurnCursor) -> tuple[list[Record], TurnCursor]:
        """This machine's turns (by host id) that finished since `cursor`, without content or samples, each
        exactly once over successive calls, and the cursor to pass next time.

        New rows are those past the cursor's rowid (rows are never deleted, so rowids only grow);
        rows seen running are asked about again until they finish. Other hosts' rows (imported)
        are passed over.
        """
        # Two searches of the rowid b-tree (an OR of them would scan the table).
        rows = self._read(
            "SELECT r.rowid, r.status, r.host_id, d.doc FROM records r JOIN documents d ON d.record_id = r.record_id"
            " WHERE r.rowid > ? UNION ALL"
            " SELECT r.rowid, r.status, r.host_id, d.doc FROM records r JOIN documents d ON d.record_id = r.record_id"
            " WHERE r.rowid IN (SELECT value FROM json_each(?))",
            (cursor.last_rowid, json.dumps(sorted(cursor.running))),
        )
        finished, running = [], set()
        for rowid, status, row_host, doc_text in rows:
            if row_host != self.host_id:
                continue
            if status == Status.RUNNING.value:
                running.add(rowid)
                continue
            doc = json.loads(doc_text)
            doc["status"] = status
            finished.append(Record.from_json_dict(doc))
        last = max((row[0] for row in rows), default=cursor.last_rowid)
        return finished, TurnCursor(max(last, cursor.last_rowid), frozenset(running))

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

    def each_record(
        self,
        model: str | None = None,
        status: Status | str | None = None,
        sweep_id: str | None = None,
        with_content: bool = False,
    ) -> Iterator[Record]:
        """Full records filtered like query(), oldest first, read a batch at a time: an export of a
        long history holds one batch in memory, not the history."""
        where, params = _filters(model, status, sweep_id)
        rowids = [
            rowid for (rowid,) in self._read(f"SELECT rowid FROM records r {where} ORDER BY started_at, rowid", params)
        ]
        for start in range(0, len(rowids), _IN_BATCH):
            batch = rowids[start : start + _IN_BATCH]
            marks = ", ".join("?" for _ in batch)
            yield from self._records(f"WHERE r.rowid IN ({marks}) ORDER BY r.started_at, r.rowid", batch, with_content)

    def _records(self, tail: str, params: Iterable[Any], with_content: bool) -> list[Record]:
        content = "c.prompt, c.thinking, c.answer" if with_content else "NULL, NULL, NULL"
        rows = self._read(
            f"SELECT d.doc, r.status, r.host_id, {content}, s.data FROM records r"
            " JOIN documents d ON d.record_id = r.record_id"
            " LEFT JOIN content c ON c.record_id = r.record_id"
            " LEFT JOIN samples s ON s.record_id = r.record_id " + tail,
            params,
        )
        out = []
        for doc_text, status, host_id, prompt, thinking, answer, samples in rows:
            doc = json.loads(doc_text)
            doc.update(status=status, prompt=prompt, thinking=thinking, answer=answer)
            # The column, as the status: a turn stored before v5 got its host id there alone.
            doc["host"] = {**(doc.get("host") or {}), "host_id": host_id}
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
            f"SELECT {ROW_COLUMNS} FROM records r {where} ORDER BY started_at {order}, rowid {order} LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        )
        return [row_from(r) for r in rows]

    def summary(self, model: str | None = None, sweep_id: str | None = None) -> list[SummaryRow]:
        """The comparison table: one row per (model, host, remote host), local models first, then by
        model and host: a cloud model's turns never share a row with a local model's, and the same
        model on two machines makes two rows (by host id: two machines may share a name)."""
        where, params = _filters(model, None, sweep_id)
        finished = f"{where} AND" if where else "WHERE"
        rows = self._read(
            "SELECT model, host, status, warmup, cold, load_ms, total_wall_ms, chars_s, eval_tok_s, net_w,"
            " j_per_token, mem_peak, swap_peak, quant, file_size, ps_size, processor, remote_host, host_id"
            f" FROM records r {finished} r.status != 'running' ORDER BY started_at",
            params,
        )
        groups: dict[tuple[str | None, str | None, str | None], list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            groups[row[0], row[-1], row[-2]].append(row)
        summaries = [summarise(*key, group) for key, group in groups.items()]
        return sorted(summaries, key=_summary_order)

    def hosts(self) -> dict[str, HostInfo]:
        """Each host's facts (chip, GPU, memory, system) as its latest turn recorded them, by host id."""
        found = {}
        # One index walk for the ids, then one document per host: never the documents of every turn.
        for (host_id,) in self._read("SELECT DISTINCT host_id FROM records WHERE host_id IS NOT NULL"):
            for (doc,) in self._read(
                "SELECT d.doc FROM records r JOIN documents d ON d.record_id = r.record_id"
                " WHERE r.host_id = ? ORDER BY r.started_at DESC LIMIT 1",
                (host_id,),
            ):
                found[host_id] = Record.from_json_dict({"host": json.loads(doc).get("host")}).host
                found[host_id].host_id = host_id  # the column's, as in _records
        return found


def _summary_order(row: SummaryRow) -> tuple[bool, str, str, str, str]:
    """Local models first, then by model: the same model's hosts side by side."""
    return row.remote_host is not None, row.model or "", row.host or "", row.host_id or "", row.remote_host or ""


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
