"""A chat's Markdown export as a new file: a readable name, and never over an existing file."""

from __future__ import annotations

import re
from pathlib import Path

from tui.core.records.rows import ChatRow

_NOT_WORD = re.compile(r"[^\w]+")
SLUG_LENGTH = 40


def file_stem(session: ChatRow) -> str:
    """chat-2025-03-01-why-is-the-sky-blue: the day it began and its title, safe in any folder."""
    day = session.created_at[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", session.created_at[:10]) else ""
    slug = _NOT_WORD.sub("-", (session.title or "").lower()).strip("-_")[:SLUG_LENGTH].strip("-_")
    return "-".join(part for part in ("chat", day, slug) if part)


def write_new(directory: Path, stem: str, text: str) -> Path:
    """Write `text` to directory/stem.md, or stem-2.md and so on if that name is taken."""
    n = 1
    while True:
        path = directory / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
        try:
            with open(path, "x", encoding="utf-8") as f:  # "x": fails instead of overwriting
                f.write(text)
            return path
        except FileExistsError:
            n += 1
