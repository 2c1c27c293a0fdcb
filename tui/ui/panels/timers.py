"""Live timers of the current turn, then Ollama's own figures as `ollama run --verbose` names them."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.core import units
from tui.core.chat.timers import TurnTimes
from tui.core.ollama.stats import DoneStats


@dataclass(frozen=True)
class TimersState:
    """Everything the timers show; the app builds it from core objects."""

    phase: str = "idle"
    load_s: float | None = None
    times: TurnTimes | None = None
    stats: DoneStats | None = None

    @property
    def live_tokens_per_s(self) -> float | None:
        """Chunks per second of generation so far (a chunk is about one token)."""
        times = self.times
        if times is None or not times.chunks:
            return None
        span = (times.thinking or 0.0) + (times.answer or 0.0)
        return times.chunks / span if span > 0 else None


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    return grid


class TimersPanel(Static):
    """The side-column panel."""

    _rows = 0

    def show(self, state: TimersState) -> None:
        """Render `state`."""
        grid = _grid()
        grid.add_row("state", Text(state.phase))
        grid.add_row("model load", units.seconds(state.load_s))
        times = state.times
        if times is not None:
            grid.add_row("first token", units.seconds(times.ttft))
            grid.add_row("thinking", units.seconds(times.thinking) if times.thinking is not None else "—")
            grid.add_row("answer", units.seconds(times.answer) if times.answer is not None else "—")
            grid.add_row("total", units.seconds(times.total))
            grid.add_row("chars/s", units.per_second(times.chars_per_s, "ch").removesuffix(" ch/s"))
            if state.stats is None:
                grid.add_row("tokens/s (live)", _number(state.live_tokens_per_s))
        stats = state.stats
        if stats is not None:
            grid.add_row("", "")
            grid.add_row(Text("Ollama", style="bold"), "")
            grid.add_row("total duration", units.nanoseconds(stats.total_duration))
            grid.add_row("load duration", units.nanoseconds(stats.load_duration))
            grid.add_row("prompt eval count", units.count(stats.prompt_eval_count, "tokens"))
            grid.add_row("prompt eval rate", units.per_second(stats.prompt_eval_rate, "tokens"))
            grid.add_row("eval count", units.count(stats.eval_count, "tokens"))
            grid.add_row("eval duration", units.nanoseconds(stats.eval_duration))
            grid.add_row("eval rate", units.per_second(stats.eval_rate, "tokens"))
        # Re-layout the screen only when the panel's height changes: live ticks keep it.
        self.update(grid, layout=grid.row_count != self._rows)
        self._rows = grid.row_count


class TimersLine(Static):
    """One-line form for narrow terminals, where the side column is hidden.

    What does not fit is left out whole, least needed first (chars/s, load, thinking), so the
    line never ends in a figure without its unit.
    """

    _state = TimersState()

    def show(self, state: TimersState) -> None:
        """Render `state` compactly."""
        self._state = state
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        state, times = self._state, self._state.times
        # (rank, text): a lower rank stays longer.
        parts: list[tuple[int, str]] = [(0, state.phase)]
        if state.load_s is not None:
            parts.append((4, f"load {units.seconds(state.load_s)}"))
        if times is not None:
            if times.ttft is not None:
                parts.append((2, f"first token {units.seconds(times.ttft)}"))
            if times.thinking is not None:
                parts.append((3, f"think {units.seconds(times.thinking)}"))
            parts.append((2, f"answer {units.seconds(times.answer)}"))
            parts.append((1, f"total {units.seconds(times.total)}"))
            if times.chars_per_s is not None:
                parts.append((5, f"{times.chars_per_s:.1f} ch/s"))
        rate = state.stats.eval_rate if state.stats else state.live_tokens_per_s
        if rate is not None:
            parts.append((1, f"{rate:.1f} tok/s"))
        width = self.content_size.width
        while width and len(parts) > 1 and len(" · ".join(text for _, text in parts)) > width:
            parts.remove(max(parts, key=lambda part: part[0]))
        self.update(Text(" · ".join(text for _, text in parts), no_wrap=True, overflow="ellipsis"), layout=False)


def _number(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "n/a"
