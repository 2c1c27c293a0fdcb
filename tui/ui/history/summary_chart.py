"""One median speed (tok/s or chars/s) per model as horizontal bars, from the comparison rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

from textual_plotext import PlotextPlot

from tui.core.ollama.sanitize import strip_controls
from tui.core.records.machines import places
from tui.core.records.rows import SummaryRow

NAME_WIDTH = 24
Speed = Literal["eval_tok_s", "chars_s"]


def bar_labels(rows: Sequence[SummaryRow]) -> list[str]:
    """Each row's model name, with its host when the same model was measured on several hosts."""
    per_model = Counter(r.model for r in rows)
    labels = []
    for row, place in zip(rows, places(rows), strict=True):
        name = row.model or "(unknown model)"
        if per_model[row.model] > 1:
            name = f"{name} @ {place or '?'}"
        # plotext output is parsed as ANSI: a name must not bring escapes of its own.
        name = strip_controls(name).replace("\n", " ")
        labels.append(name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…")
    return labels


class SpeedBars(PlotextPlot):
    """Bars for the rows that have this median (a model without ok turns has none)."""

    def __init__(self, speed: Speed, title: str, color: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._speed = speed
        self._title = title
        self._color = color

    def show(self, rows: Sequence[SummaryRow]) -> None:
        """Redraw from these rows, in their order from the top."""
        labels = bar_labels(rows)
        shown = [(label, getattr(row, self._speed)) for label, row in zip(labels, rows, strict=True)]
        shown = [(label, value) for label, value in shown if value is not None]
        plt = self.plt
        plt.clear_data()
        plt.title(self._title)
        if shown:
            # plotext draws the first bar at the bottom; reversed, the chart reads like the table.
            names, values = zip(*reversed(shown), strict=True)
            plt.bar(list(names), list(values), orientation="horizontal", color=self._color, width=0.6)
        # Three rows a bar plus title and axes: a few models must not stretch into slabs.
        self.styles.max_height = max(8, 3 * len(shown) + 5)
        self.refresh()
