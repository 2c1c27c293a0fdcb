"""Which of a table's columns fit a width: the most needed are kept, each shown whole, in table order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len


@dataclass(frozen=True)
class Column:
    """One column of a table; `priority` 0 is the last to be left out."""

    key: str
    header: str
    priority: int
    # A shorter header for when the full one would cost a column, and what it leaves unsaid.
    short: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ColumnWidths:
    """The columns shown (key and header, in table order), those left out, and the short headers' notes."""

    shown: tuple[tuple[str, str], ...]
    hidden: tuple[Column, ...]
    notes: tuple[str, ...]


def share_width(columns: Sequence[Column], widest: Mapping[str, int], width: int, padding: int) -> ColumnWidths:
    """The columns that fit `width` side by side, each as wide as its widest cell (`widest`) plus `padding`.

    Columns are taken most needed first, skipping one that does not fit for a narrower one that
    does; a full header replaces the short one wherever the room left allows.
    """

    def cost(column: Column, header: str) -> int:
        return max(widest.get(column.key, 0), cell_len(header)) + padding

    by_need = sorted(columns, key=lambda c: c.priority)
    headers = {c.key: c.short or c.header for c in columns}
    room = width
    chosen: set[str] = set()
    for column in by_need:
        needed = cost(column, headers[column.key])
        if needed <= room:
            chosen.add(column.key)
            room -= needed
    for column in by_need:
        if column.key in chosen and column.short:
            extra = cost(column, column.header) - cost(column, column.short)
            if extra <= room:
                headers[column.key] = column.header
                room -= extra
    return ColumnWidths(
        shown=tuple((c.key, headers[c.key]) for c in columns if c.key in chosen),
        hidden=tuple(c for c in columns if c.key not in chosen),
        notes=tuple(c.note for c in columns if c.key in chosen and c.note and headers[c.key] != c.header),
    )


def hint(widths: ColumnWidths, reveals: Sequence[str], width: int) -> str:
    """What the table leaves out, in the longest wording that fits `width` ("" when nothing is).

    `reveals` are ways of saying where the hidden columns can be seen, longest first.
    """
    hidden = len(widths.hidden)
    notes = " · ".join(widths.notes)
    if not hidden:
        return notes
    count = f"{hidden} column{'s' if hidden > 1 else ''} hidden"
    names = f"{count} ({', '.join(c.header for c in widths.hidden)})"
    wordings = [f"{what} · {reveal}" for what in (names, count) for reveal in reveals]
    wordings.append(count)
    if notes:
        wordings = [f"{notes} · {w}" for w in wordings] + wordings
    return next((w for w in wordings if cell_len(w) <= width), wordings[-1])
