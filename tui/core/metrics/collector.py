"""What a scrape answers, as two prometheus_client collectors: the live one (identity, Ollama's
state, the monitor's latest reading, read at scrape time) and the per-model totals of recorded
turns, kept apart because only the live part changes at every scrape."""

from __future__ import annotations

import platform
from collections.abc import Iterator

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)

from tui import __version__
from tui.core.metrics.feed import TurnFeed
from tui.core.metrics.probe import OllamaProbe, ServerView
from tui.core.metrics.turns import ModelTotals
from tui.core.records.schema import HostInfo
from tui.core.sampling.monitor import ResourceMonitor
from tui.core.sampling.sampler import Reading

MODEL = ("model",)

COUNTER_HELP = {
    "input_tokens": "Prompt tokens of local turns (Ollama's prompt_eval_count).",
    "output_tokens": "Generated tokens of local turns, thinking included (Ollama's eval_count).",
    "output_characters": "Thinking and answer characters (Unicode code points) of local turns.",
    "eval_seconds": "Time Ollama spent generating the output tokens (eval_duration) of local turns.",
    "energy_joules": "Energy this machine drew during local turns, as a wall meter sees it.",
    "net_energy_joules": "Energy above the idle baseline during local turns.",
}
HISTOGRAM_HELP = {
    "time_to_first_token_seconds": "Prompt sent to first thinking or answer text (ok turns; includes a cold load).",
    "load_seconds": "Loading the model, for ok turns that loaded it.",
    "thinking_seconds": "First thinking text to first answer text (ok turns of thinking models).",
    "answer_seconds": "First answer text to the end of the answer (ok turns).",
    "turn_duration_seconds": "Sending a prompt to the last chunk of its answer (ok turns).",
    "time_per_output_token_seconds": "Generation time per output token, 1 / tokens per second (ok turns).",
}


class LiveCollector:
    """Asks Ollama and reads the monitor's latest reading when collected, and says whether the
    turn feed's last update could read the store."""

    def __init__(self, monitor: ResourceMonitor, probe: OllamaProbe, feed: TurnFeed, host: HostInfo) -> None:
        self._monitor = monitor
        self._probe = probe
        self._feed = feed
        self._host = host

    def collect(self) -> Iterator[Metric]:
        view = self._probe.look()
        yield from self._identity(view)
        yield from _ollama(view)
        yield from _reading(self._monitor.last())
        yield from _power(self._monitor)
        yield _gauge(
            "ollamon_store_up", "1 when the record store could be read at this scrape, else 0.", not self._feed.problem
        )

    def _identity(self, view: ServerView) -> Iterator[Metric]:
        yield InfoMetricFamily(
            "ollamon_build",
            "ollamon's version and Python's.",
            {"version": __version__, "python": platform.python_version()},
        )
        host = self._host
        gpu = host.gpu.name if host.gpu and host.gpu.name else ""
        labels = {"hostname": host.hostname or "", "chip": host.chip or "", "gpu": gpu, "os": host.os or ""}
        yield InfoMetricFamily(
            "ollamon_host", "This machine and the Ollama version last seen.", {**labels, "ollama_version": view.version}
        )


def _gauge(name: str, help_text: str, value: float | None) -> GaugeMetricFamily:
    """A gauge without labels; no sample at all when the value is unknown (unknown is not 0)."""
    family = GaugeMetricFamily(name, help_text)
    if value is not None:
        family.add_metric((), float(value))
    return family


def _ollama(view: ServerView) -> Iterator[Metric]:
    yield _gauge("ollamon_up", "1 when Ollama answered /api/version and /api/ps at this scrape, else 0.", view.up)
    size = GaugeMetricFamily("ollamon_model_memory_bytes", "Memory a loaded model takes (/api/ps size).", labels=MODEL)
    vram = GaugeMetricFamily("ollamon_model_vram_bytes", "Of that, GPU memory (/api/ps size_vram).", labels=MODEL)
    share = GaugeMetricFamily(
        "ollamon_model_gpu_ratio",
        "Share of a loaded model on the GPU (0 to 1; `ollama ps` 100% GPU is 1).",
        labels=MODEL,
    )
    for model in view.running:
        size.add_metric((model.name,), model.size)
        vram.add_metric((model.name,), model.size_vram)
        if model.size > 0:
            share.add_metric((model.name,), min(model.size_vram / model.size, 1.0))
    yield from (size, vram, share)


def _reading(reading: Reading | None) -> Iterator[Metric]:
    memory = reading.memory if reading else None
    ollama = reading.ollama if reading else None
    gpu = reading.gpu if reading else None
    cpu = ollama.cpu_percent if ollama else None
    util = gpu.util_pct if gpu else None
    yield _gauge(
        "ollamon_reading_timestamp_seconds",
        "When the latest resource reading was taken (Unix time).",
        reading.wall if reading else None,
    )
    yield _gauge(
        "ollamon_memory_used_bytes",
        "Memory in use, as the OS's own monitor counts it.",
        memory.used if memory else None,
    )
    yield _gauge("ollamon_memory_total_bytes", "Physical memory.", memory.total if memory else None)
    yield _gauge("ollamon_swap_used_bytes", "Swap in use.", memory.swap_used if memory else None)
    yield _gauge("ollamon_swap_total_bytes", "Swap size.", memory.swap_total if memory else None)
    yield _gauge(
        "ollamon_ollama_memory_bytes",
        "Memory of the Ollama server and its runners together.",
        ollama.rss if ollama else None,
    )
    yield _gauge(
        "ollamon_ollama_cpu_ratio",
        "CPU the Ollama processes use, in cores (1 = one core busy).",
        None if cpu is None else cpu / 100,
    )
    yield _gauge(
        "ollamon_ollama_processes", "Ollama processes found (server and runners).", ollama.count if ollama else None
    )
    yield _gauge(
        "ollamon_power_watts",
        "Power the machine (or the parts the source covers) draws now.",
        reading.watts if reading else None,
    )
    yield _gauge(
        "ollamon_gpu_memory_used_bytes", "NVIDIA GPU memory in use, all devices.", gpu.memory_used if gpu else None
    )
    yield _gauge("ollamon_gpu_memory_total_bytes", "NVIDIA GPU memory, all devices.", gpu.memory_total if gpu else None)
    yield _gauge("ollamon_gpu_utilization_ratio", "NVIDIA GPU load (0 to 1).", None if util is None else util / 100)


def _power(monitor: ResourceMonitor) -> Iterator[Metric]:
    context = monitor.power_context()
    info = GaugeMetricFamily(
        "ollamon_power_info", "The power source in use and what it covers.", labels=("source", "scope")
    )
    if context.source is not None:
        info.add_metric((context.source, context.scope or ""), 1)
    yield info
    baseline = monitor.baseline
    yield _gauge(
        "ollamon_idle_power_watts", "The idle baseline subtracted for net energy.", baseline.watts if baseline else None
    )


class TurnsCollector:
    """The counters and histograms of one model's turns."""

    def __init__(self, model: str, totals: ModelTotals) -> None:
        self._model = model
        self._totals = totals

    def collect(self) -> Iterator[Metric]:
        model, totals = (self._model,), self._totals
        yield _by_status("ollamon_turns_total", "Finished local turns by model and status.", model, totals.turns)
        yield _by_status(
            "ollamon_cloud_turns_total",
            "Finished turns of cloud models (computed on another host; in no other figure).",
            model,
            totals.cloud_turns,
        )
        for name, help_text in COUNTER_HELP.items():
            counter = CounterMetricFamily(f"ollamon_{name}", help_text, labels=MODEL)
            if name in totals.counters:
                counter.add_metric(model, totals.counters[name])
            yield counter
        for name, help_text in HISTOGRAM_HELP.items():
            histogram = HistogramMetricFamily(f"ollamon_{name}", help_text, labels=MODEL)
            if totals.turns:  # a local model: zero counts until an ok turn
                observed = totals.histograms[name]
                histogram.add_metric(model, observed.cumulative(), observed.total)
            yield histogram


def _by_status(name: str, help_text: str, model: tuple[str], counts: dict[str, int]) -> CounterMetricFamily:
    counter = CounterMetricFamily(name, help_text, labels=("model", "status"))
    for status, count in sorted(counts.items()):
        counter.add_metric((*model, status), count)
    return counter
