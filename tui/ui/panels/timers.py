"""Live timers of the current turn, then Ollama's own figures as `ollama run --verbose` names them."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from tui.core import units
from tui.core.chat.timers import TurnTimes
from tui.core.ollama.stats import DoneStats
from tui.ui.panels.figures import FigurePanel, Row


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


class TimersPanel(FigurePanel):
    """The side-column panel; a live tick redraws only the figures that moved."""

    def show(self, state: TimersState) -> None:
        """Render `state`."""
        rows = [Row("state", state.phase)]
        rows.append(Row("model load", units.seconds(state.load_s)))
        times = state.times
        if times is not None:
            rows.append(Row("first token", units.seconds(times.ttft)))
            rows.append(Row("thinking", units.seconds(times.thinking) if times.thinking is not None else "—"))
            rows.append(Row("answer", units.seconds(times.answer) if times.answer is not None else "—"))
            rows.append(Row("total", units.seconds(times.total)))
            rows.append(Row("chars/s", units.per_second(times.chars_per_s, "ch").removesuffix(" ch/s")))
            if state.stats is None:
                rows.append(Row("tokens/s (live)", _number(state.live_tokens_per_s)))
        stats = state.stats
        if stats is not None:
            rows.append(Row("", ""))
            rows.append(Row("Ollama", "", "bold"))
            rows.append(Row("total duration", units.nanoseconds(stats.total_duration)))
            rows.append(Row("load duration", units.nanoseconds(stats.load_duration)))
            rows.append(Row("prompt eval count", units.count(stats.prompt_eval_count, "tokens")))
            if stats.prompt_eval_cached_count is not None:
                # The rate below counts only the tokens evaluated, not those the cache served.
                rows.append(Row("  of them cached", units.count(stats.prompt_eval_cached_count, "tokens")))
            rows.append(Row("prompt eval rate", units.per_second(stats.prompt_eval_rate, "tokens")))
            rows.append(Row("eval count", units.count(stats.eval_count, "tokens")))
            rows.append(Row("eval duration", units.nanoseconds(stats.eval_duration)))
            rows.append(Row("eval rate", units.per_second(stats.eval_rate, "tokens")))
        self.show_rows(rows)


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
