"""`ollamon history`: stored turns or the comparison table on stdout, read-only.

The store is opened through a read-only SQLite connection after checks of its own, so this
command never creates, migrates or checkpoints the file (RecordStore.open would do all three).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import TextIO

from tui.core.records.files import APPLICATION_ID, StoreError, path_problem
from tui.core.records.hostid import machine_id
from tui.core.records.migrations import SCHEMA_VERSION
from tui.core.records.store import RecordStore, own_host_id

# Formats that carry each record's prompt, thinking and answer with --with-content.
CONTENT_FORMATS = ("json", "jsonl", "csv")


# What to do about an older store: the app upgrades it, this command never does.
UPGRADE = "start `ollamon` once to upgrade it, then retry"


def open_read_only(path: Path, upgrade: str = UPGRADE) -> RecordStore:
    """A RecordStore on an existing store file that cannot write to it; StoreError otherwise (an older
    store's message ends with `upgrade`)."""
    if not path.exists():
        raise StoreError(path, path_problem(path) or "no such file: no turns have been recorded there yet")
    if not path.is_file():
        raise StoreError(path, "not a file")
    if path.stat().st_size == 0:
        raise StoreError(path, "empty file: no turns have been recorded there yet")
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as e:
        raise StoreError(path, f"cannot open it ({e})") from e
    try:
        _check(conn, path, upgrade)
        # This machine's id, not made here (read-only); else the store's own, as RecordStore.open chooses.
        host_id = machine_id(create=False) or own_host_id(conn)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise StoreError(path, f"damaged: cannot read its host id ({e})") from e
    except BaseException:
        conn.close()
        raise
    return RecordStore(conn, path, host_id)


def _check(conn: sqlite3.Connection, path: Path, upgrade: str) -> None:
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise StoreError(path, f"not an SQLite database ({e})") from e
    if app_id != APPLICATION_ID:
        raise StoreError(path, f"an SQLite database of another application (application_id {app_id:#010x})")
    if version > SCHEMA_VERSION:
        raise StoreError(
            path, f"written by a newer ollamon (schema v{version}; this one reads up to v{SCHEMA_VERSION})"
        )
    if version < SCHEMA_VERSION:
        raise StoreError(path, f"an older store (schema v{version}); {upgrade}")
    try:
        conn.execute("SELECT record_id FROM records ORDER BY started_at DESC LIMIT 1").fetchall()
    except sqlite3.DatabaseError as e:
        raise StoreError(path, f"damaged: cannot read its records ({e})") from e


def unreadable(command: str, store_path: Path, error: StoreError | sqlite3.DatabaseError) -> int:
    """Say on stderr why `ollamon COMMAND` cannot read the store; the exit code, 1."""
    problem = error if isinstance(error, StoreError) else f"{store_path}: damaged: cannot read its records ({error})"
    print(f"ollamon {command}: {problem}", file=sys.stderr)
    return 1


def render(store: RecordStore, args: argparse.Namespace, width: int | None = None) -> str:
    """The text `history` prints for these options; a table fits `width` (a terminal's) when given."""
    from tui.core.records.export import export_records, export_rows, export_summary

    if args.summary:
        summary = store.summary(model=args.model, sweep_id=args.sweep)
        machines = store.hosts() if args.by == "host" else None
        return export_summary(summary, args.format, width=width, machines=machines)
    if args.format in CONTENT_FORMATS:
        records = store.records(
            model=args.model, status=args.status, limit=args.limit, with_content=args.with_content, sweep_id=args.sweep
        )
        return export_records(records, args.format, with_content=args.with_content)
    # The table and Markdown forms need only the indexed columns: no JSON is parsed.
    rows = store.query(model=args.model, status=args.status, limit=args.limit, sweep_id=args.sweep)
    return export_rows(rows, args.format, width=width)


def _usage_problem(args: argparse.Namespace) -> str | None:
    if args.summary and (args.status or args.limit):
        return "--summary covers every finished turn: --status and --limit do not apply"
    if args.by != "model" and not args.summary:
        return "--by groups the comparison table: use it with --summary"
    if args.with_content and (args.summary or args.format not in CONTENT_FORMATS):
        return "--with-content needs --format json, jsonl or csv (and no --summary)"
    return None


def run_history(args: argparse.Namespace, store_path: Path, out: TextIO | None = None) -> int:
    """Print turns or the summary; 0 on success, 1 for an unusable store, 2 for bad options."""
    out = out or sys.stdout
    # On a terminal the table fits its width, naming the columns left out; to a file or pipe it
    # has every column, as wide as they need.
    width = shutil.get_terminal_size().columns if out.isatty() else None
    problem = _usage_problem(args)
    if problem:
        print(f"ollamon history: {problem}", file=sys.stderr)
        return 2
    try:
        with open_read_only(Path(store_path).expanduser()) as store:
            text = render(store, args, width)
            empty = not store.query(limit=1)
    except (StoreError, sqlite3.DatabaseError) as e:
        return unreadable("history", store_path, e)
    if empty:
        # On stderr: a script reading the table or CSV gets the same output as before.
        print(f"ollamon history: no turns recorded yet in {store_path}", file=sys.stderr)
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        # The reader (head, less) stopped early: nothing is wrong, and the interpreter must not
        # fail again flushing stdout at exit.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
