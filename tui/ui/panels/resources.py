"""Memory, processor and power panels: they render a sampler reading and Ollama's /api/ps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from tui.core.ollama.models import LoadedModel
from tui.core.sampling.monitor import AnswerCost
from tui.core.sampling.processor import processor_split
from tui.core.sampling.sampler import Reading
from tui.core.units import human_bytes, memory_bytes, memory_pair
from tui.ui.panels.figures import FigurePanel, Row
from tui.ui.panels.spark import spark

if TYPE_CHECKING:
    from tui.core.fit.estimate import Fit


@dataclass(frozen=True)
class ResourceView:
    """Everything the resource panels show; the app builds it from the sampler and /api/ps."""

    sample: Reading | None = None
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
    # Why /api/ps cannot be asked now (Ollama unreachable, or not Ollama): what is loaded is unknown.
    loaded_unknown: str | None = None


def _gb(value: float | None) -> str:
    return human_bytes(value)


def _percent(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else ""


SPARK_WIDTH = 22
# Why there is no power reading is said here only, briefly: `ollamon doctor` lists each source
# it tried and what failed (the record keeps the full reason too).
NO_POWER_NOTE = "no power sensor here — see `ollamon doctor`"


class ResourcePanel(FigurePanel):
    """A bordered panel of label/value rows, then notes that wrap."""


class MemoryPanel(ResourcePanel):
    """System memory and swap with their history; the Ollama processes beside /api/ps size."""

    def show(self, view: ResourceView) -> None:
        """Render `view`."""
        sample = view.sample
        memory = sample.memory if sample else None
        rows: list[Row] = []
        notes: list[str] = []
        if memory is None:
            rows.append(Row("memory", "n/a"))
            notes.append(sample.errors.get("memory", "no reading yet") if sample else "no reading yet")
        else:
            rows.append(Row("used", f"{memory_pair(memory.used, memory.total)} {_percent(memory.used, memory.total)}"))
            rows.append(Row("", spark(view.mem_history, memory.total, SPARK_WIDTH), value_style="green"))
            rows.append(Row("swap", memory_pair(memory.swap_used, memory.swap_total)))
            if memory.swap_total:
                rows.append(Row("", spark(view.swap_history, memory.swap_total, SPARK_WIDTH), value_style="red"))
            if memory.pressure:
                rows.append(Row("pressure", memory.pressure))
        ollama = sample.ollama if sample else None
        loaded_size = sum(model.size for model in view.loaded) or None
        if ollama is not None and ollama.count:
            rows.append(Row(f"Ollama {ollama.memory_measure}", f"{memory_bytes(ollama.rss)} ({ollama.count} proc)"))
            if ollama.found_by:
                # "listening on :11434" fits the row; a fallback's reason goes to the notes.
                how, _, why = ollama.found_by.partition(" (")
                rows.append(Row("  found", how))
                if why:
                    notes.append(f"Ollama found {how}: {why.removesuffix(')')}")
        elif ollama is not None:
            rows.append(Row(f"Ollama {ollama.memory_measure}", "n/a"))
            notes.append(ollama.why or "no Ollama process here")
        if loaded_size:
            rows.append(Row("loaded (ps)", _gb(loaded_size)))
        cost = view.cost
        if cost is not None:
            peaks = cost.peaks
            rows.append(Row("last answer", "peaks", "bold"))
            rows.append(Row("  memory", memory_bytes(peaks.mem_used_peak)))
            swap = memory_bytes(peaks.swap_used_peak)
            if cost.swapped:
                rows.append(Row("  swap", f"{swap} (+{memory_bytes(cost.swap_growth)})", value_style="red"))
            else:
                rows.append(Row("  swap", swap))
            rows.append(Row("  Ollama RSS", memory_bytes(peaks.ollama_rss_peak)))
        if view.swap_warning:
            rows.append(Row("⚠ swap", "growing", "bold red", "red"))
            notes.append(view.swap_warning)
        self.show_rows(rows, notes)


class ProcessorPanel(ResourcePanel):
    """Where each loaded model sits (the `ollama ps` split), how busy Ollama and the GPU are."""

    def show(self, view: ResourceView) -> None:
        """Render `view`."""
        rows: list[Row] = []
        notes: list[str] = []
        if view.loaded_unknown:
            # The last /api/ps would show a model that may be long gone, unloading "in 4 min" forever.
            rows.append(Row("loaded", "unknown"))
            notes.append(f"{view.loaded_unknown}: what it has loaded is not known")
        elif not view.loaded:
            rows.append(Row("loaded", "none"))
        # Beyond two models the context and unload rows would push the panel off one screen.
        detailed = len(view.loaded) <= 2
        for model in view.loaded:
            rows.append(Row(model.name, processor_split(model.size, model.size_vram), "bold"))
            fit = view.predictions.get(model.name)
            if fit is not None:
                rows.append(Row("  predicted", fit.processor))
            rows.append(Row("  size/VRAM", f"{_gb(model.size)} / {_gb(model.size_vram)}"))
            if model.context_length and detailed:
                rows.append(Row("  context", f"{model.context_length} tokens"))
            if model.expires_at and view.now and detailed:
                rows.append(Row("  unloads", _expiry(model.expires_at, view.now)))
        sample = view.sample
        ollama = sample.ollama if sample else None
        if ollama is not None and ollama.cpu_percent is not None:
            rows.append(Row("Ollama CPU", f"{ollama.cpu_percent:.0f}%"))
        gpu = sample.gpu if sample else None
        if gpu is not None:
            util = f"{gpu.util_pct:.0f}% · " if gpu.util_pct is not None else ""
            rows.append(Row("GPU", f"{util}{memory_bytes(gpu.memory_used)} / {memory_bytes(gpu.memory_total)}"))
            if gpu.process_memory:
                rows.append(Row("  Ollama VRAM", memory_bytes(gpu.processes_memory)))
        elif view.gpu_why:
            rows.append(Row("GPU", "n/a"))
            notes.append(view.gpu_why)
        self.show_rows(rows, notes)


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
        rows: list[Row] = []
        sample = view.sample
        watts = sample.watts if sample else None
        if view.power_scope is None:
            rows.append(Row("power", "n/a"))
            self.show_rows(rows, [NO_POWER_NOTE])
            return
        rows.append(Row("now", f"{watts:.1f} W" if watts is not None else "…"))
        rows.append(Row("", spark(view.watts_history, None, SPARK_WIDTH), value_style="yellow"))
        rows.append(Row("source", view.power_scope))
        if view.baseline_w is not None:
            rows.append(Row("idle", f"{view.baseline_w:.1f} W"))
            if watts is not None:
                rows.append(Row("above idle", f"{watts - view.baseline_w:+.1f} W"))
        else:
            rows.append(Row("idle", "not measured (f5)"))
        cost = view.cost
        if cost is not None:
            peaks = cost.peaks
            rows.append(Row("last answer", "", "bold"))
            rows.append(Row("  peak / mean", f"{_watts(peaks.watts_peak)} / {_watts(peaks.watts_mean)}"))
            if cost.net_mean_w is not None:
                rows.append(Row("  above idle", f"{cost.net_mean_w:+.1f} W"))
            rows.append(Row("  energy", _joules(peaks.energy_j)))
            rows.append(Row("  net energy", _joules(cost.net_energy_j)))
            gross = cost.gross_j_per_token
            rows.append(Row("  J/token", f"{gross:.2f} gross" if gross is not None else "—"))
            if cost.j_per_token is not None:
                rows.append(Row("  J/token net", f"{cost.j_per_token:.2f}"))
        self.show_rows(rows)


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
