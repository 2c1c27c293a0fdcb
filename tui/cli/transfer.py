"""`ollamon export` and `ollamon import`: records carried between stores and machines.

Export reads the store read-only and writes one self-describing JSON line per record
(core.records.transfer). Import reads every file to the end first, JSON Lines exports and other
ollamon stores alike, and stores nothing unless all of them are whole; then it adds their records
in one transaction, each keeping its host. A record already stored (by its id) is stored once.
Running turns are left out: their writer may still finish them, and a later import brings them.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tui.cli.history import open_read_only, unreadable
from tui.core.records.files import SQLITE_MAGIC, StoreError
from tui.core.records.schema import Record, Status
from tui.core.records.store import RecordStore
from tui.core.records.transfer import Refused, checked_lines, export_line, read_lines

# An older store's turns get their host id when it is upgraded: that must happen where they ran.
_UPGRADE_THERE = "start `ollamon --db FILE` once on the machine that wrote it to upgrade it, then retry"


def run_export(args: argparse.Namespace, store_path: Path, out: TextIO | None = None) -> int:
    """Write the records as JSON Lines to stdout or `-o FILE`; 0, or 1 for an unusable store or file."""
    content = not args.no_content
    try:
        with open_read_only(store_path) as store:
            records = store.each_record(model=args.model, status=args.status, sweep_id=args.sweep, with_content=content)
            lines = (export_line(record, with_content=content) for record in records)
            if args.output is None:
                _write(lines, out or sys.stdout)
                return 0
            count = _write_file(lines, Path(args.output))
    except (StoreError, sqlite3.DatabaseError) as e:
        return unreadable("export", store_path, e)
    except OSError as e:
        print(f"ollamon export: {args.output}: cannot write it ({e.strerror or e})", file=sys.stderr)
        return 1
    print(f"exported {_records(count)} to {args.output}", file=out or sys.stdout)
    return 0


def _write(lines: Iterator[str], out: TextIO) -> int:
    count = 0
    for line in lines:
        out.write(line)
        count += 1
    out.flush()
    return count


def _write_file(lines: Iterator[str], path: Path) -> int:
    """Into a new file beside `path`, renamed over it when whole: a failed export leaves no half file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as f:
            count = _write(lines, f)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


@dataclass(frozen=True)
class _Source:
    """One file to import: an export (JSON Lines) or another store, and how many running turns it holds."""

    path: Path
    is_store: bool
    running: int

    def records(self) -> Iterator[Record]:
        """Its finished records; Refused when it no longer reads as it did."""
        records = _store_records(self.path) if self.is_store else read_lines(self.path)
        return (r for r in records if r.status is not Status.RUNNING)


def _store_records(path: Path) -> Iterator[Record]:
    try:
        with open_read_only(path, _UPGRADE_THERE) as store:
            for record in store.each_record(with_content=True):
                if not record.host.host_id:
                    raise Refused(f"{path}: damaged: turn {record.record_id} has no host id")
                yield record
    except StoreError as e:
        raise Refused(str(e)) from e
    except (sqlite3.DatabaseError, ValueError) as e:
        raise Refused(f"{path}: damaged: cannot read its records ({e})") from e


def _examine(path: Path) -> _Source:
    """Read the whole file once, so that nothing is stored unless every file is whole."""
    try:
        with open(path, "rb") as f:
            is_store = f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError as e:
        raise Refused(f"{path}: cannot read it ({e.strerror or e})") from e
    if is_store:
        running = sum(record.status is Status.RUNNING for record in _store_records(path))
    else:
        running = sum(doc.get("status") == Status.RUNNING.value for doc in checked_lines(path))
    return _Source(path, is_store, running)


def run_import(args: argparse.Namespace, store_path: Path, out: TextIO | None = None) -> int:
    """Add the files' records to the store; 0, or 1 when a file or the store cannot be used (nothing stored)."""
    out = out or sys.stdout
    try:
        sources = [_examine(Path(name)) for name in args.files]
    except Refused as e:
        print(f"ollamon import: {e}; nothing was imported", file=sys.stderr)
        return 1
    try:
        with RecordStore.open(store_path) as store:
            counts = store.merge_records(source.records() for source in sources)
    except StoreError as e:
        print(f"ollamon import: {e}", file=sys.stderr)
        return 1
    except Refused as e:  # a file that changed since it was read: the transaction was rolled back
        print(f"ollamon import: {e}; nothing was imported", file=sys.stderr)
        return 1
    except sqlite3.Error as e:
        print(f"ollamon import: {store_path}: cannot store the records ({e}); nothing was imported", file=sys.stderr)
        return 1
    for source, (added, present) in zip(sources, counts, strict=True):
        notes = [f"{present} already present"]
        if source.running:
            notes.append(f"{source.running} still running, left out")
        print(f"imported {_records(added)} ({', '.join(notes)}) from {source.path}", file=out)
    return 0


def _records(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"
