"""A DataTable that shows the columns its width holds, chosen again whenever that width changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import DataTable

from tui.ui.history.column_widths import Column, ColumnWidths, share_width


class SizedTable(DataTable[Text]):
    """Rows keep a cell for every column, so a column left out at one width is back at a wider one.

    Posts ColumnsSized whenever the columns shown change, for a hint to say what is left out.
    """

    @dataclass
    class ColumnsSized(Message):
        table: SizedTable
        widths: ColumnWidths

        @property
        def control(self) -> SizedTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self._layout = tuple(columns)
        self._index = {column.key: n for n, column in enumerate(columns)}
        self._cells: dict[str, list[Text]] = {}
        self._widest = dict.fromkeys(self._index, 0)
        # None until the table has a width to fit.
        self.widths: ColumnWidths | None = None

    def keep_rows(self, rows: Iterable[tuple[str, list[Text]]]) -> None:
        """Add rows (a key and a cell per column, in column order) below those shown; a known key is skipped."""
        new = [(key, row) for key, row in rows if key not in self._cells]
        for key, row in new:
            self._cells[key] = row
            for column, cell in zip(self._layout, row, strict=True):
                self._widest[column.key] = max(self._widest[column.key], cell.cell_len)
        if not self._share_width() and self.widths is not None:
            for key, row in new:
                self.add_row(*self._shown(row), key=key)

    def drop_rows(self, columns: Sequence[Column] | None = None) -> None:
        """Empty the table; `columns`, when given, are its columns from the next rows on (other
        priorities that depend on the rows, or other columns altogether)."""
        if columns is not None:
            if [c.key for c in columns] != [c.key for c in self._layout]:
                self.widths = None  # chosen afresh for the new columns when rows come
            self._layout = tuple(columns)
            self._index = {column.key: n for n, column in enumerate(columns)}
        self._cells.clear()
        self._widest = dict.fromkeys(self._index, 0)
        # Columns added afresh: a cleared DataTable keeps each column as wide as its widest old cell.
        self.clear(columns=True)
        self._add_columns()

    def on_resize(self, _event: events.Resize) -> None:
        self._share_width()

    def _room(self) -> int:
        """The width the columns may take: less the vertical scrollbar when the rows will need one."""
        rows = len(self._cells) + (1 if self.show_header else 0)
        scrollbar = self.styles.scrollbar_size_vertical if rows > self.size.height else 0
        return self.size.width - scrollbar

    def _share_width(self) -> bool:
        """Choose the columns for the present width; True when they changed and the rows were laid out again."""
        width = self._room()
        if width <= 0:  # not laid out yet, or in a tab that is not shown
            return False
        widths = share_width(self._layout, self._widest, width, 2 * self.cell_padding)
        if widths == self.widths:
            return False
        self.widths = widths
        row = self.cursor_row
        self.clear(columns=True)
        self._add_columns()
        for key, cells in self._cells.items():
            self.add_row(*self._shown(cells), key=key)
        if self.row_count:
            self.move_cursor(row=min(row, self.row_count - 1), animate=False)
        self.post_message(self.ColumnsSized(self, widths))
        return True

    def _add_columns(self) -> None:
        for key, header in self.widths.shown if self.widths else ():
            self.add_column(Text(header), key=key)

    def _shown(self, row: list[Text]) -> list[Text]:
        assert self.widths is not None
        return [row[self._index[key]] for key, _ in self.widths.shown]
