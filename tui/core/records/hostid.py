"""This machine's host id: a random identifier made once and kept in the user's data directory,
so every store on the machine stamps its turns with the same one, whatever the host name says."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path

from tui.core.records.files import data_dir

FILE_NAME = "host-id"
_ID = re.compile(r"[0-9a-f]{32}")


def machine_id(directory: Path | None = None, *, create: bool = True) -> str | None:
    """The id in `directory`/host-id, made there on first use when `create`; None when it cannot be
    read or made (a read-only or broken data directory: the store keeps one of its own then)."""
    path = (directory or data_dir()) / FILE_NAME
    found = _read(path)
    if found is not None or not create:
        return found
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _publish(path, uuid.uuid4().hex)
    except OSError:
        return None
    return _read(path)  # another process may have won the race: its id is the one


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return text if _ID.fullmatch(text) else None


def _publish(path: Path, value: str) -> None:
    """Write `value` to `path` whole or not at all, never over an id already there."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value + "\n")
        # A hard link appears complete and fails where the name exists: the first writer wins.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
