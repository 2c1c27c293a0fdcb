"""One line under a sized table: how many columns the width left out, and where to see them."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.widgets import Static

from tui.ui.history.column_widths import ColumnWidths, hint


class ColumnsHint(Static):
    """Worded for its own width; hidden while every column is shown with its full header."""

    def __init__(self, reveals: Sequence[str], *, id: str | None = None) -> None:
        super().__init__("", id=id, classes="columns-hint")
        self._reveals = tuple(reveals)
        self._widths: ColumnWidths | None = None
        self.display = False

    def show(self, widths: ColumnWidths) -> None:
        """Say what these widths leave out."""
        self._widths = widths
        self.display = bool(widths.hidden or widths.notes)
        self._reword()

    def on_resize(self, _event: events.Resize) -> None:
        self._reword()

    def _reword(self) -> None:
        if self._widths is not None and self.content_size.width > 0:
            wording = hint(self._widths, self._reveals, self.content_size.width)
            self.update(Text(wording, no_wrap=True, overflow="ellipsis"))
