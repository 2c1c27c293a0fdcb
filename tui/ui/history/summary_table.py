"""The comparison table: one row per model and host, as record-schema.md defines it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from tui.core.records.store import SummaryRow
from tui.ui.history import cells

COLUMNS = (
    "Model",
    "Host",
    "Quant",
    "File",
    "Loaded",
    "Processor",
    "Load",
    "Total (median)",
    "chars/s",
    "tok/s",
    "Peak mem",
    "Peak swap",
    "Net W",
    "J/token",
    "ok",
    "failed",
)


def summary_cells(row: SummaryRow) -> list[Text]:
    """One model's cells, in COLUMNS order; medians and peaks as SummaryRow defines them."""
    return [
        cells.label(row.model),
        cells.label(row.host),
        cells.label(row.quant),
        cells.size(row.file_size_bytes),
        cells.size(row.loaded_size_bytes),
        cells.label(row.processor),
        cells.duration_ms(row.load_ms),
        cells.duration_ms(row.total_wall_ms),
        cells.decimal(row.chars_s),
        cells.decimal(row.eval_tok_s),
        cells.memory(row.mem_peak),
        cells.memory(row.swap_peak),
        cells.decimal(row.net_w),
        cells.decimal(row.j_per_token, 3),
        cells.number(str(row.ok)),
        Text(str(row.failed), justify="right", style="bold red" if row.failed else ""),
    ]


class SummaryTable(DataTable[Text]):
    """The rows of RecordStore.summary, in its order."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, rows: Sequence[SummaryRow]) -> None:
        """Replace the rows."""
        self.clear()
        for n, row in enumerate(rows):
            self.add_row(*summary_cells(row), key=str(n))
