"""The history table of turns, newest first, filled a page at a time as the reader nears its end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from tui.core.records.rows import RecordRow
from tui.ui.history import cells
from tui.ui.history.column_widths import Column
from tui.ui.history.sized_table import SizedTable

# In table order; a narrow terminal leaves out the highest priority numbers first (80 columns
# keep time to J/token but chars/s, load, quant and swap).
COLUMNS = (
    Column("time", "Time", 0),
    Column("model", "Model", 1),
    Column("quant", "Quant", 10),
    Column("status", "Status", 2),
    Column("total", "Total", 4),
    Column("tok_s", "tok/s", 3),
    Column("chars_s", "chars/s", 8),
    Column("load", "Load", 9),
    Column("mem", "Peak mem", 5),
    Column("swap", "Peak swap", 11),
    Column("net_w", "Net W", 7),
    Column("j_per_token", "J/token", 6),
)
# Where the columns the width leaves out can be seen, longest wording first.
REVEALS = (
    "Enter on a turn or a wider terminal shows them",
    "Enter or a wider terminal shows them",
    "Enter shows every figure",
)
MODEL_WIDTH = 24
# Ask for the next page this many rows before the last loaded one.
NEAR_END_ROWS = 40


def row_cells(row: RecordRow, tz: tzinfo | None) -> list[Text]:
    """One turn's cells, in COLUMNS order."""
    model = cells.label(row.model)
    model.truncate(MODEL_WIDTH, overflow="ellipsis")
    return [
        cells.short_time(row.started_at, tz),
        model,
        cells.label(row.quant),
        cells.status(row.status),
        cells.duration_ms(row.total_wall_ms),
        cells.decimal(row.eval_tok_s),
        cells.decimal(row.chars_s),
        cells.duration_ms(row.load_ms),
        cells.memory(row.mem_peak),
        cells.memory(row.swap_peak),
        cells.decimal(row.net_w),
        cells.decimal(row.j_per_token, 3),
    ]


class TurnsTable(SizedTable):
    """Rows keyed by record_id; posts NearEnd when the cursor or scroll nears the last row."""

    @dataclass
    class NearEnd(Message):
        """The reader is close to the last loaded row: time to load the next page."""

        table: TurnsTable

        @property
        def control(self) -> TurnsTable:
            return self.table

    def __init__(self, *, tz: tzinfo | None = None, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)
        self._tz = tz
        # Set by whoever loads pages: True once a short page showed nothing more is stored.
        self.exhausted = False

    def reset(self) -> None:
        """Empty the table for a new filter."""
        self.drop_rows()
        self.exhausted = False

    def append(self, rows: Sequence[RecordRow]) -> None:
        """Add a page below the rows already shown; a row shown before is skipped."""
        self.keep_rows((row.record_id, row_cells(row, self._tz)) for row in rows)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._check_near_end(event.cursor_row)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_near_end(round(new_value) + self.scrollable_content_region.height)

    def _check_near_end(self, row: int) -> None:
        if not self.exhausted and self.row_count and row >= self.row_count - NEAR_END_ROWS:
            self.post_message(self.NearEnd(self))
