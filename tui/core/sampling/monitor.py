"""Assemble the resource sampler from this machine's real sources, and judge an answer's cost."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tui.core.ollama.host import is_local

from tui.core.sampling.energy import Baseline, joules_per_token, net_energy, tokens_per_joule
from tui.core.sampling.footprint import footprint_reader
from tui.core.sampling.memory import memory_source
from tui.core.sampling.power.nvml import NvmlGpu
from tui.core.sampling.power.registry import PowerOptions, build_sources
from tui.core.sampling.processes import OllamaProcessFinder
from tui.core.records.schema import GpuInfo
from tui.core.sampling.sampler import Peaks, Sampler

# Swap growth during an answer below this is noise (page-outs of idle apps), not the model.
SWAP_GROWTH_WARNING = 64 * 1024 * 1024


@dataclass(frozen=True)
class MonitorOptions:
    """What the user asked for on the command line."""

    interval: float = 1.0
    power_command: str | None = None
    powermetrics: bool = False
    idle_watts: float | None = None


def build_sampler(
    options: MonitorOptions,
    *,
    platform: str = sys.platform,
    clock: Callable[[], float] = time.monotonic,
    host: str | None = None,
) -> Sampler:
    """The sampler with every source this platform offers, best power source first.

    With a local `host`, the process listening on its port counts as Ollama when none is named so.
    """
    power = build_sources(PowerOptions(command=options.power_command, powermetrics=options.powermetrics), platform)
    gpu = NvmlGpu() if platform.startswith("linux") else None
    port = urlsplit(host).port if host and is_local(host) else None
    finder = OllamaProcessFinder(footprint=footprint_reader(platform), port=port)
    return Sampler(memory_source(platform), finder, power, gpu, clock=clock, interval=options.interval)


def no_power_reason(sampler: Sampler) -> str:
    """Why no power source is in use, from the probes, in one line."""
    reasons = [f"{status.name}: {status.why}" for status in sampler.status()
               if status.kind == "power" and not status.available]
    return "; ".join(reasons) if reasons else "no power source on this platform"


@dataclass(frozen=True)
class AnswerCost:
    """What one answer cost the machine: peaks, swap growth and energy net of the idle baseline."""

    peaks: Peaks
    baseline_w: float | None
    net_energy_j: float | None
    j_per_token: float | None
    tokens_per_j: float | None

    @property
    def swap_growth(self) -> int | None:
        """Swap taken during the answer (bytes); the reviewer's failures came with swap."""
        peaks = self.peaks
        if peaks.swap_used_peak is None or peaks.swap_used_start is None:
            return None
        return peaks.swap_used_peak - peaks.swap_used_start

    @property
    def swapped(self) -> bool:
        growth = self.swap_growth
        return growth is not None and growth > SWAP_GROWTH_WARNING

    @property
    def net_mean_w(self) -> float | None:
        if self.peaks.watts_mean is None or self.baseline_w is None:
            return None
        return self.peaks.watts_mean - self.baseline_w


def answer_cost(peaks: Peaks, baseline: Baseline | None, eval_count: int | None) -> AnswerCost:
    """Net energy and J/token; blank (None), never zero, when a figure is missing."""
    baseline_w = baseline.watts if baseline else None
    net = net_energy(peaks.energy_j, baseline_w, peaks.energy_duration_s)
    return AnswerCost(peaks, baseline_w, net, joules_per_token(net, eval_count), tokens_per_joule(net, eval_count))


def nvml_gpu_facts() -> GpuInfo | None:
    """The NVIDIA GPU for a record's host facts, or None where NVML does not answer."""
    gpu = NvmlGpu()
    if not gpu.probe().available:
        return None
    try:
        reading = gpu.read(())
    except Exception:  # facts are best effort: a driver hiccup must not stop the app
        return None
    return GpuInfo(name=reading.name, vram_bytes=reading.memory_total)
