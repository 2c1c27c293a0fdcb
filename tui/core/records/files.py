"""The store's file: where it lives, created private (0600), recognised as ours before SQLite
opens it, and copied aside before a migration."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import platformdirs

APPLICATION_ID = 0x4F4C4D4E  # "OLMN" in the SQLite header: how we recognise our own files.
BUSY_TIMEOUT_S = 5.0
SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(Exception):
    """The file cannot be used as a record store; it has not been touched."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def data_dir() -> Path:
    """ollamon's folder in the user's data directory: the default store, the host id, the idle baselines."""
    return platformdirs.user_data_path("ollamon")


def default_path() -> Path:
    """Where the app keeps its records on this OS."""
    return data_dir() / "records.sqlite"


def create_private(path: Path) -> bool:
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


def check_header(path: Path) -> None:
    """Refuse anything but an empty file or an SQLite file of ours, by reading bytes only."""
    try:
        with open(path, "rb") as f:
            header = f.read(100)
    except OSError as e:
        raise StoreError(path, f"cannot read the file ({e.strerror})") from e
    if not header:
        return
    if not header.startswith(SQLITE_MAGIC):
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


def backup_path(path: Path, version: int) -> Path:
    candidate = path.with_name(f"{path.name}.v{version}.bak")
    n = 2
    while candidate.exists():  # never overwrite an earlier backup
        candidate = path.with_name(f"{path.name}.v{version}.{n}.bak")
        n += 1
    return candidate


def backup(path: Path, version: int) -> None:
    target = backup_path(path, version)
    create_private(target)
    # A second connection: the backup API cannot read through one that holds the write lock.
    # Ours holds it, so nobody can commit: the copy is exactly the file before migrating.
    source, copy = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
