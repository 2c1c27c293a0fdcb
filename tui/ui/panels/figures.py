"""A bordered panel of label/value rows and notes that wrap, drawn as plain Content.

The side column is redrawn on every reading, so a panel costs nothing when its rows did not
change, and asks for a new layout only when its height may change. Rows are laid out by hand
(label left, value right) because a Rich table measures every cell on every render.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

# A label keeps at least this many cells before its value is cut.
LABEL_MIN = 11
ELLIPSIS = "…"


class Row(NamedTuple):
    """One figure: a dim label, a right-aligned value, each with an optional style."""

    label: str
    value: str
    label_style: str = "dim"
    value_style: str = ""


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, ending in an ellipsis when it was cut."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1) + ELLIPSIS if width > 1 else text[:width]


def row_line(row: Row, width: int) -> Content:
    """The row in exactly `width` cells: the value keeps its room, a long label is cut first."""
    label, value = row.label, row.value
    if cell_len(label) + 1 + cell_len(value) > width:
        label = _cut(label, max(min(cell_len(label), LABEL_MIN), width - 1 - cell_len(value)))
        value = _cut(value, max(0, width - cell_len(label) - 1))
    gap = max(0, width - cell_len(label) - cell_len(value))
    return Content.assemble((label, row.label_style), " " * gap, (value, row.value_style))


class FigurePanel(Widget):
    """Shows what `show` was last given; unchanged rows cost no render."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: tuple[Row, ...] = ()
        self._notes: tuple[str, ...] = ()

    @property
    def rows(self) -> tuple[Row, ...]:
        return self._rows

    def show_rows(self, rows: Sequence[Row], notes: Sequence[str] = ()) -> None:
        """Draw these rows and notes, if they differ from what is on screen."""
        rows, notes = tuple(rows), tuple(notes)
        if rows == self._rows and notes == self._notes:
            return
        # Same row count and notes: the height stays, so only this panel is redrawn.
        reshaped = len(rows) != len(self._rows) or notes != self._notes
        self._rows, self._notes = rows, notes
        self.refresh(layout=reshaped)

    def plain_text(self, width: int | None = None) -> str:
        """What the panel shows, as plain text at its width or `width` (a hidden panel has none)."""
        return self._content(self.content_size.width if width is None else width).plain

    def render(self) -> Content:
        return self._content(self.content_size.width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # Measured at the width being laid out, not the width on screen: after a resize the rows
        # drawn for the old width would wrap at the new one and keep the panel stretched.
        return len(self._content(width).wrap(width)) if width else 0

    def _content(self, width: int) -> Content:
        lines = [row_line(row, width) for row in self._rows]
        lines.extend(Content.styled(note, "dim italic") for note in self._notes)
        return Content("\n").join(lines)
