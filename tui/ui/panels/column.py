"""The resource side of the screen: samples the machine in a thread and renders the panels."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from tui.core.ollama.models import LoadedModel
from tui.core.sampling.energy import Baseline
from tui.core.sampling.monitor import SWAP_GROWTH_WARNING, AnswerCost, ResourceMonitor
from tui.core.sampling.processor import processor_split
from tui.core.units import memory_bytes
from tui.ui.panels.resources import MemoryPanel, PowerPanel, ProcessorPanel, RemoteNote, ResourceView

if TYPE_CHECKING:
    from tui.core.fit.estimate import Fit

# Sparkline points kept on screen: a panel is about this many cells wide.
SPARK_POINTS = 36


class ResourceLine(Static):
    """One line of resources for narrow terminals, where the panels are hidden."""

    def show(self, view: ResourceView) -> None:
        """Render `view` compactly."""
        parts = []
        sample = view.sample
        if sample and sample.memory:
            parts.append(f"mem {memory_bytes(sample.memory.used)}/{memory_bytes(sample.memory.total)}")
            parts.append(f"swap {memory_bytes(sample.memory.swap_used)}")
        if view.loaded_unknown:
            parts.append("ps unknown")
        for model in view.loaded[:1]:
            fit = view.predictions.get(model.name)
            ps = processor_split(model.size, model.size_vram)
            parts.append(f"ps {ps} · predicted {fit.processor}" if fit else ps)
        watts = sample.watts if sample else None
        parts.append(f"{watts:.1f} W" if watts is not None else "power n/a")
        if view.swap_warning:
            parts.append(f"⚠ {view.swap_warning}")
        self.update(Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"), layout=False)


class ResourceColumn(Vertical):
    """Renders the resource monitor's latest reading and what /api/ps says is loaded."""

    class Sampled(Message):
        """The monitor took a reading (posted from its thread); a burst collapses into one redraw."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ResourceColumn.Sampled)

    def __init__(
        self,
        monitor: ResourceMonitor,
        *,
        line: ResourceLine,
        wall_clock: Callable[[], float] = time.time,
        remote_host: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.monitor = monitor
        self.sampler = monitor.sampler
        self.loaded: Sequence[LoadedModel] = ()
        self.loaded_unknown: str | None = None
        self.predictions: Mapping[str, Fit] = {}
        self.cost: AnswerCost | None = None
        self._line = line
        self._wall_clock = wall_clock
        self.remote_host = remote_host
        self._turn_swap_start: int | None = None

    @property
    def baseline(self) -> Baseline | None:
        return self.monitor.baseline

    def compose(self) -> ComposeResult:
        yield RemoteNote(id="remote-note")
        processor = ProcessorPanel(id="processor")
        processor.border_title = "Processor"
        memory = MemoryPanel(id="memory")
        memory.border_title = "Memory"
        power = PowerPanel(id="power")
        power.border_title = "Power"
        yield processor
        yield memory
        yield power

    def on_mount(self) -> None:
        self.refresh_view()

    def on_resource_column_sampled(self, _message: Sampled) -> None:
        self.refresh_view()

    def show_loaded(self, loaded: Sequence[LoadedModel]) -> None:
        """What /api/ps says is in memory now."""
        self.loaded, self.loaded_unknown = loaded, None
        self.refresh_view()

    def show_loaded_unknown(self, why: str) -> None:
        """/api/ps cannot be asked (`why`): forget the last answer rather than show it as current."""
        self.loaded, self.loaded_unknown = (), why
        self.refresh_view()

    def show_predictions(self, predictions: Mapping[str, Fit]) -> None:
        """The fit advisor's latest predictions, shown beside /api/ps for each loaded model."""
        self.predictions = predictions
        self.refresh_view()

    def turn_started(self) -> None:
        """Remember swap at the start, to warn if the answer pushes memory into swap."""
        self.cost = None
        self._turn_swap_start = self._swap_now()

    def turn_ended(self, cost: AnswerCost | None) -> None:
        """Show the finished answer's peaks and energy."""
        self._turn_swap_start = None
        self.cost = cost
        self.refresh_view()

    def forget_last_answer(self) -> None:
        """A new or reopened chat: the last answer's peaks and energy were another chat's."""
        self.cost = None
        self.refresh_view()

    def _swap_now(self) -> int | None:
        last = self.sampler.samples.last() if self.sampler else None
        memory = last[1].memory if last else None
        return memory.swap_used if memory else None

    def _swap_warning(self) -> str | None:
        now, start = self._swap_now(), self._turn_swap_start
        if now is not None and start is not None and now - start > SWAP_GROWTH_WARNING:
            return f"+{memory_bytes(now - start)} swap during this answer"
        if self.cost is not None and self.cost.swapped:
            return f"+{memory_bytes(self.cost.swap_growth)} swap during the last answer"
        return None

    def view(self) -> ResourceView:
        """What the panels show now."""
        sampler = self.sampler
        last = sampler.samples.last() if sampler else None
        series = sampler.series if sampler else {}

        def recent(name: str) -> list[float]:
            ring = series.get(name)
            return ring.values()[-SPARK_POINTS:] if ring else []

        power = sampler.power if sampler else None
        gpu_why = None
        if sampler is not None:
            gpu_why = next((s.why for s in sampler.status() if s.kind == "gpu" and not s.available), None)
        return ResourceView(
            sample=last[1] if last else None,
            mem_history=recent("mem_used"),
            swap_history=recent("swap_used"),
            watts_history=recent("watts"),
            loaded=self.loaded,
            now=datetime.fromtimestamp(self._wall_clock(), UTC),
            power_scope=power.scope if power else None,
            baseline_w=self.baseline.watts if self.baseline else None,
            cost=self.cost,
            swap_warning=self._swap_warning(),
            remote_host=self.remote_host,
            gpu_why=gpu_why,
            predictions=self.predictions,
            loaded_unknown=self.loaded_unknown,
        )

    def refresh_view(self) -> None:
        """Render every panel from the latest reading."""
        view = self.view()
        self.query_one(RemoteNote).show(view)
        self.query_one(ProcessorPanel).show(view)
        self.query_one(MemoryPanel).show(view)
        self.query_one(PowerPanel).show(view)
        self._line.show(view)
