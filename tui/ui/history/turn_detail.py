"""One stored turn in full: its figures, its memory and power timeline, and its text if kept."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import ClassVar

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Collapsible, Markdown, Static

from tui.core import units
from tui.core.fit.check import cpu_share
from tui.core.ollama.sanitize import strip_controls
from tui.core.records.schema import Record, Status
from tui.perf.keys_footer import KeysFooter
from tui.ui.history import cells
from tui.ui.history.timeline_chart import MemoryChart, PowerChart, has_watts

Figure = tuple[str, str | None]


def _ms(value: float | None) -> str | None:
    return None if value is None else units.milliseconds(value)


def _bytes(value: int | None) -> str | None:
    return None if value is None else units.human_bytes(value)


def _memory(value: int | None) -> str | None:
    return None if value is None else units.memory_bytes(value)


def _rate(value: float | None, unit: str) -> str | None:
    return None if value is None else units.per_second(value, unit)


def _num(value: float | int | None, fmt: str = "{}", unit: str = "") -> str | None:
    return None if value is None else fmt.format(value) + unit


def time_figures(record: Record) -> list[Figure]:
    t = record.timing_ms
    return [
        ("first token", _ms(t.ttft)),
        ("thinking", _ms(t.thinking)),
        ("answer", _ms(t.answer)),
        ("total", _ms(t.total_wall)),
        # As the Timers panel: the load as timed here (an explicit load's wall time), then Ollama's own figure.
        ("model load", _ms(t.load)),
        ("Ollama load", _ms(record.load.ollama_load_ms)),
        ("prompt eval", _ms(t.prompt_eval)),
        ("eval", _ms(t.eval)),
        ("Ollama total", _ms(t.total_server)),
    ]


def count_figures(record: Record) -> list[Figure]:
    c, r = record.counts, record.rates
    note = " (estimated)" if c.estimated else ""
    # Only servers that say how many prompt tokens came from their cache (0.30.1+) get that line.
    cached = [] if c.prompt_cached_tokens is None else [("  of them cached", _num(c.prompt_cached_tokens))]
    return [
        ("prompt tokens", _num(c.prompt_tokens)),
        *cached,
        ("eval tokens", _num(c.eval_tokens, unit=note)),
        ("thinking chars", _num(c.thinking_chars)),
        ("answer chars", _num(c.answer_chars)),
        ("eval rate", _rate(r.eval_tok_s, "tok")),
        ("prompt rate", _rate(r.prompt_tok_s, "tok")),
        ("chars/s", _num(r.chars_s, "{:.1f}")),
        ("answer chars/s", _num(r.answer_chars_s, "{:.1f}")),
        ("done reason", c.done_reason),
    ]


def prediction(record: Record) -> str | None:
    """The CPU share the fit advisor predicted beside Ollama's, `22% · Ollama 26%`; None without a prediction."""
    predicted = record.load.predicted
    guess = cpu_share(predicted.get("processor")) if isinstance(predicted, dict) else None
    if guess is None:
        return None
    observed = cpu_share(record.load.processor)
    # "CPU" in the label: the line fits the Load box at 80 columns.
    return f"{guess.removesuffix(' CPU')} · Ollama {observed.removesuffix(' CPU') if observed else cells.MISSING}"


def load_figures(record: Record) -> list[Figure]:
    load, model = record.load, record.model
    cold = None if load.cold is None else ("cold (loaded)" if load.cold else "in memory")
    # Only turns that kept a prediction get the line: older records look as they did.
    predicted = prediction(record)
    return [
        ("model was", cold),
        ("load time", _ms(load.load_ms)),
        ("file size", _bytes(model.file_size_bytes)),
        ("loaded size", _bytes(load.ps_size_bytes)),
        ("in GPU memory", _bytes(load.ps_vram_bytes)),
        ("processor", load.processor),
        *([("CPU predicted", predicted)] if predicted else []),
        ("parameters", model.parameter_size),
        # The context the model ran with (Ollama's /api/ps), as the Processor panel shows it; then its maximum.
        ("context used", _num(load.context_length, unit=" tokens")),
        ("max context", _num(model.context_length, unit=" tokens")),
    ]


def resource_figures(record: Record) -> list[Figure]:
    res = record.resources
    # Start and peak on lines of their own: "18.6 GiB → 23.3 GiB" on one wraps in a box of 80 columns' grid.
    return [
        ("memory at start", _memory(res.mem_used_start_bytes)),
        ("memory peak", _memory(res.mem_used_peak_bytes)),
        ("swap at start", _memory(res.swap_used_start_bytes)),
        ("swap peak", _memory(res.swap_used_peak_bytes)),
        ("Ollama RSS peak", _memory(res.ollama_rss_peak_bytes)),
        ("CPU mean", _num(res.cpu_pct_mean, "{:.0f}", " %")),
        ("GPU busy mean", _num(res.gpu_util_pct_mean, "{:.0f}", " %")),
        ("reading every", _ms(res.interval_ms)),
    ]


def power_figures(record: Record) -> list[Figure]:
    p = record.power
    if p.source is None:
        return [("power", "n/a")]  # why: the chat's Power panel and `ollamon doctor`
    return [
        # Apart: "command" and "wall (command)" on one line wrapped in a box of 120 columns' grid.
        ("source", p.source),
        *([("measures", p.scope)] if p.scope else []),
        ("idle baseline", _num(p.baseline_w, "{:.1f}", " W")),
        ("mean", _num(p.mean_w, "{:.1f}", " W")),
        ("peak", _num(p.peak_w, "{:.1f}", " W")),
        ("net of idle", _num(p.net_mean_w, "{:.1f}", " W")),
        ("energy", _num(p.energy_j, "{:.1f}", " J")),
        ("net energy", _num(p.net_energy_j, "{:.1f}", " J")),
        ("J/token (gross)", _num(p.gross_j_per_token, "{:.3f}")),
        ("J/token (net)", _num(p.j_per_token, "{:.3f}")),
        ("tokens/J", _num(p.tokens_per_j, "{:.2f}")),
    ]


def figure_grid(figures: Iterable[Figure]) -> Table:
    """Label and value per line; a value from the record is literal text, "—" when missing."""
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(justify="right")
    for name, value in figures:
        shown = Text(cells.MISSING, style="dim") if value is None else Text(strip_controls(value))
        grid.add_row(name, shown)
    return grid


def heading(record: Record, tz: tzinfo | None, width: int | None = None) -> Text:
    """Status, model, quantization, host and when: what a person checks first.

    Within `width` a line breaks only between the parts, never inside one (a date, "turn 3 of its chat").
    """
    parts = [
        record.model.name or "(unknown model)",
        record.model.quantization,
        record.host.hostname and f"on {record.host.hostname}",
        cells.long_time(record.started_at, tz),
        record.turn_index is not None and f"turn {record.turn_index + 1} of its chat",
        record.warmup and "warm-up",
    ]
    text = cells.status(record.status)
    text.stylize("bold")
    text.append("  ")
    line = text.cell_len  # cells on the line so far
    for n, part in enumerate(strip_controls(str(p)).replace("\n", " ") for p in parts if p):
        if n == 0:
            joint = ""
        elif width is not None and line + len(" · ") + cell_len(part) > width:
            joint, line = "\n", 0
        else:
            joint = " · "
        text.append(joint + part, style="bold")
        line += cell_len(joint.strip("\n") + part)
    return text


class TurnHeading(Widget):
    """The heading, its lines broken for the width it is laid out in."""

    DEFAULT_CSS = "TurnHeading { height: auto; }"

    def __init__(self, record: Record, tz: tzinfo | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._record = record
        self._tz = tz

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(heading(self._record, self._tz, width).split())

    def render(self) -> Text:
        return heading(self._record, self._tz, self.content_size.width or None)


class TurnDetailScreen(ModalScreen[None]):
    """Everything stored about one turn; escape goes back to the history."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f2", "close", "Back to history")]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 (an instance attribute in Textual)

    def __init__(self, record: Record, *, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.record = record
        self._tz = tz

    def compose(self) -> ComposeResult:
        record = self.record
        with VerticalScroll(id="turn-detail"):
            yield TurnHeading(record, self._tz, id="turn-heading")
            if record.status is not Status.OK and record.error:
                kind = f"{record.error_kind.value}: " if record.error_kind else ""
                yield Static(Text(kind + strip_controls(record.error)), id="turn-error")
            with Grid(id="turn-figures"):
                for name, title, figures in (
                    ("time", "Time", time_figures(record)),
                    ("counts", "Tokens and characters", count_figures(record)),
                    ("load", "Load", load_figures(record)),
                    ("resources", "Resources", resource_figures(record)),
                    ("power", "Power", power_figures(record)),
                ):
                    box = Static(figure_grid(figures), id=f"{name}-figures", classes="figure-box")
                    box.border_title = title
                    yield box
            yield from self._charts()
            yield from self._content()
        yield KeysFooter()

    def _charts(self) -> ComposeResult:
        samples = self.record.samples
        if not samples:
            yield Static("No timeline stored for this turn.", classes="turn-note")
            return
        with Horizontal(id="turn-charts"):
            yield MemoryChart(samples, id="memory-chart")
            if has_watts(samples):
                yield PowerChart(samples, id="power-chart")
            else:
                yield Static(Text("No power readings in this turn."), id="no-power", classes="turn-note")

    def _content(self) -> ComposeResult:
        record = self.record
        if record.prompt is None and record.thinking is None and record.answer is None:
            yield Static("Prompt and answer were not kept for this turn.", classes="turn-note")
            return
        yield Static("Prompt", classes="turn-section")
        yield Static(Text(strip_controls(record.prompt or "")), id="turn-prompt")
        if record.thinking:
            with Collapsible(title="Thinking", collapsed=True, id="turn-thinking"):
                yield Markdown(strip_controls(record.thinking), open_links=False)
        yield Static("Answer", classes="turn-section")
        yield Markdown(strip_controls(record.answer or "*(no answer)*"), open_links=False, id="turn-answer")

    def on_mount(self) -> None:
        self.query_one("#turn-detail").focus()

    def action_close(self) -> None:
        """Back to the history table."""
        self.dismiss()
