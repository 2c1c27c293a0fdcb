"""The comparison table: one row per model and host, as record-schema.md defines it; by host, with
each host's hardware beside its name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from rich.text import Text

from tui.core.records.machines import hardware, places
from tui.core.records.rows import SummaryRow
from tui.core.records.schema import HostInfo
from tui.ui.history import cells
from tui.ui.history.column_widths import Column
from tui.ui.history.sized_table import SizedTable

# In table order; a narrow terminal leaves out the highest priority numbers first.
COLUMNS = (
    Column("model", "Model", 0),
    Column("host", "Host", 12),  # needed first when the rows come from more than one host
    Column("quant", "Quant", 14),
    Column("file", "File", 16),
    Column("loaded", "Loaded", 13),
    Column("processor", "Processor", 11),
    # The median over turns that loaded the model: the warm ones' few milliseconds would hide the cost.
    Column("load", "Load (cold, median)", 10, short="Load", note="Load: median of cold loads"),
    Column("total", "Total (median)", 3, short="Total", note="Total: median"),
    Column("chars_s", "chars/s", 4),
    Column("tok_s", "tok/s", 2),
    Column("mem", "Peak mem", 5),
    Column("swap", "Peak swap", 15),
    Column("net_w", "Net W", 7),
    Column("j_per_token", "J/token", 6),
    Column("ok", "ok", 8),
    Column("failed", "failed", 9),
)
# By host: the host beside the model, and its hardware before the figures that follow tok/s.
BY_HOST_COLUMNS = (
    COLUMNS[0],
    replace(COLUMNS[1], priority=1),
    Column("machine", "Machine", 5),
    *COLUMNS[2:],
)
REVEALS = ("a wider terminal shows them", "wider shows all")


def summary_cells(row: SummaryRow, place: str | None, machine: str | None = None) -> list[Text]:
    """One model's cells, in COLUMNS order (BY_HOST_COLUMNS with a `machine`); medians and peaks as
    SummaryRow defines them, the host as machines.places names it."""
    return [
        cells.label(row.model),
        cells.label(place),
        *([] if machine is None else [cells.label(machine)]),
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


class SummaryTable(SizedTable):
    """The rows of RecordStore.summary, in its order."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)

    def show(self, rows: Sequence[SummaryRow], machines: Mapping[str, HostInfo] | None = None) -> None:
        """Replace the rows; with `machines` (RecordStore.hosts()) by host, each with its hardware."""
        named = places(rows)
        if machines is None:
            # The same model on two hosts makes two rows that only the host tells apart.
            several_hosts = len(set(named)) > 1
            self.drop_rows([replace(c, priority=1) if c.key == "host" and several_hosts else c for c in COLUMNS])
            shown: list[str | None] = [None] * len(rows)
        else:
            self.drop_rows(BY_HOST_COLUMNS)
            shown = [hardware(machines.get(row.host_id or "")) for row in rows]
        lines = zip(rows, named, shown, strict=True)
        self.keep_rows((str(n), summary_cells(*line)) for n, line in enumerate(lines))
