"""Memory, processor and power panels: they render a sampler reading and Ollama's /api/ps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.core.fit import Fit
from tui.core.ollama.models import LoadedModel
from tui.core.sampling.monitor import AnswerCost
from tui.core.sampling.processor import processor_split
from tui.core.sampling.sampler import Sample
from tui.core.units import human_bytes, memory_bytes, memory_pair
from tui.ui.panels.spark import spark


@dataclass(frozen=True)
class ResourceView:
    """Everything the resource panels show; the app builds it from the sampler and /api/ps."""

    sample: Sample | None = None
    mem_history: Sequence[float] = ()
    swap_history: Sequence[float] = ()
    watts_history: Sequence[float] = ()
    loaded: Sequence[LoadedModel] = ()
    now: datetime | None = None
    power_scope: str | None = None
    baseline_w: float | None = None
    cost: AnswerCost | None = None
    swap_warning: str | None = None
    remote_host: str | None = None
    gpu_why: str | None = None
    # The fit advisor's latest prediction per model, shown beside what /api/ps says.
    predictions: Mapping[str, Fit] = field(default_factory=dict)


def _grid() -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    # A long model name is cut rather than squeezing the figures beside it out of the panel.
    grid.add_column(style="dim", no_wrap=True, min_width=11, max_width=18, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True, overflow="ellipsis")
    return grid


def _gb(value: float | None) -> str:
    return human_bytes(value)


def _percent(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else ""


SPARK_WIDTH = 22
# Why there is no power reading is said here only, briefly: `ollamon doctor` lists each source
# it tried and what failed (the record keeps the full reason too).
NO_POWER_NOTE = "no power sensor here — see `ollamon doctor`"


class ResourcePanel(Static):
    """A bordered panel of label/value rows, then notes that wrap."""

    _shape: tuple[int, tuple[str, ...]] = (0, ())

    def _set(self, grid: Table, notes: Sequence[str] = ()) -> None:
        # Re-layout only when the panel's shape changes: most ticks only change figures.
        shape = (grid.row_count, tuple(notes))
        renderable = Group(grid, *(Text(note, style="dim italic") for note in notes)) if notes else grid
        self.update(renderable, layout=shape != self._shape)
        self._shape = shape


class MemoryPanel(ResourcePanel):
    """System memory and swap with their history; the Ollama processes beside /api/ps size."""

    def show(self, view: ResourceView) -> None:
        """Render `view`."""
        sample = view.sample
        memory = sample.memory if sample else None
        grid = _grid()
        notes: list[str] = []
        if memory is None:
            grid.add_row("memory", "n/a")
            notes.append(sample.errors.get("memory", "no reading yet") if sample else "no reading yet")
        else:
            grid.add_row("used", f"{memory_pair(memory.used, memory.total)} {_percent(memory.used, memory.total)}")
            grid.add_row("", spark(view.mem_history, memory.total, SPARK_WIDTH, "green"))
            grid.add_row("swap", memory_pair(memory.swap_used, memory.swap_total))
            if memory.swap_total:
                grid.add_row("", spark(view.swap_history, memory.swap_total, SPARK_WIDTH, "red"))
            if memory.pressure:
                grid.add_row("pressure", memory.pressure)
        ollama = sample.ollama if sample else None
        loaded_size = sum(model.size for model in view.loaded) or None
        if ollama is not None and ollama.count:
            grid.add_row(f"Ollama {ollama.memory_measure}", f"{memory_bytes(ollama.rss)} ({ollama.count} proc)")
        elif ollama is not None:
            grid.add_row(f"Ollama {ollama.memory_measure}", "n/a")
            notes.append(ollama.why or "no Ollama process here")
        if loaded_size:
            grid.add_row("loaded (ps)", _gb(loaded_size))
        cost = view.cost
        if cost is not None:
            peaks = cost.peaks
            grid.add_row(Text("last answer", style="bold"), "peaks")
            grid.add_row("  memory", memory_bytes(peaks.mem_used_peak))
            swap = memory_bytes(peaks.swap_used_peak)
            grid.add_row(
                "  swap", Text(f"{swap} (+{memory_bytes(cost.swap_growth)})", style="red") if cost.swapped else swap
            )
            grid.add_row("  Ollama RSS", memory_bytes(peaks.ollama_rss_peak))
        if view.swap_warning:
            grid.add_row(Text("⚠ swap", style="bold red"), Text("growing", style="red"))
            notes.append(view.swap_warning)
        self._set(grid, notes)


class ProcessorPanel(ResourcePanel):
    """Where each loaded model sits (the `ollama ps` split), how busy Ollama and the GPU are."""

    def show(self, view: ResourceView) -> None:
        """Render `view`."""
        grid = _grid()
        if not view.loaded:
            grid.add_row("loaded", "none")
        # Beyond two models the context and unload rows would push the panel off one screen.
        detailed = len(view.loaded) <= 2
        for model in view.loaded:
            grid.add_row(Text(model.name, style="bold"), Text(processor_split(model.size, model.size_vram)))
            fit = view.predictions.get(model.name)
            if fit is not None:
                grid.add_row("  predicted", Text(fit.processor))
            grid.add_row("  size/VRAM", f"{_gb(model.size)} / {_gb(model.size_vram)}")
            if model.context_length and detailed:
                grid.add_row("  context", f"{model.context_length} tokens")
            if model.expires_at and view.now and detailed:
                grid.add_row("  unloads", _expiry(model.expires_at, view.now))
        sample = view.sample
        ollama = sample.ollama if sample else None
        if ollama is not None and ollama.cpu_percent is not None:
            grid.add_row("Ollama CPU", f"{ollama.cpu_percent:.0f}%")
        gpu = sample.gpu if sample else None
        if gpu is not None:
            util = f"{gpu.util_pct:.0f}% · " if gpu.util_pct is not None else ""
            grid.add_row("GPU", f"{util}{memory_bytes(gpu.memory_used)} / {memory_bytes(gpu.memory_total)}")
            if gpu.process_memory:
                grid.add_row("  Ollama VRAM", memory_bytes(gpu.processes_memory))
            self._set(grid)
        elif view.gpu_why:
            grid.add_row("GPU", "n/a")
            self._set(grid, [view.gpu_why])
        else:
            self._set(grid)


def _expiry(expires_at: datetime, now: datetime) -> str:
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    seconds = (expires_at - now).total_seconds()
    if seconds > 10 * 365 * 86400:
        return "never"
    if seconds <= 0:
        return "now"
    # Whole minutes, as `ollama ps` says "4 minutes from now".
    return f"in {int(seconds // 60)} min" if seconds >= 60 else f"in {int(seconds)} s"


class PowerPanel(ResourcePanel):
    """Watts now with history, the idle baseline and net draw, energy of the last answer."""

    def show(self, view: ResourceView) -> None:
        """Render `view`; "n/a" and the reason when no source works."""
        grid = _grid()
        sample = view.sample
        watts = sample.watts if sample else None
        if view.power_scope is None:
            grid.add_row("power", "n/a")
            self._set(grid, [NO_POWER_NOTE])
            return
        grid.add_row("now", f"{watts:.1f} W" if watts is not None else "…")
        grid.add_row("", spark(view.watts_history, None, SPARK_WIDTH, "yellow"))
        grid.add_row("source", Text(view.power_scope))
        if view.baseline_w is not None:
            grid.add_row("idle", f"{view.baseline_w:.1f} W")
            if watts is not None:
                grid.add_row("above idle", f"{watts - view.baseline_w:+.1f} W")
        else:
            grid.add_row("idle", "not measured (f5)")
        cost = view.cost
        if cost is not None:
            peaks = cost.peaks
            grid.add_row(Text("last answer", style="bold"), "")
            grid.add_row("  peak / mean", f"{_watts(peaks.watts_peak)} / {_watts(peaks.watts_mean)}")
            if cost.net_mean_w is not None:
                grid.add_row("  above idle", f"{cost.net_mean_w:+.1f} W")
            grid.add_row("  energy", _joules(peaks.energy_j))
            grid.add_row("  net energy", _joules(cost.net_energy_j))
            gross = cost.gross_j_per_token
            grid.add_row("  J/token", f"{gross:.2f} gross" if gross is not None else "—")
            if cost.j_per_token is not None:
                grid.add_row("  J/token net", f"{cost.j_per_token:.2f}")
        self._set(grid)


def _watts(value: float | None) -> str:
    return f"{value:.1f} W" if value is not None else "n/a"


def _joules(value: float | None) -> str:
    return f"{value:.0f} J" if value is not None else "—"


class RemoteNote(Static):
    """Said once, plainly, when the readings describe this machine and not the Ollama host."""

    def show(self, view: ResourceView) -> None:
        """Visible only for a remote Ollama."""
        self.display = view.remote_host is not None
        if view.remote_host:
            self.update(Text(f"Panels show this machine, not the Ollama host {view.remote_host}."))
