"""One synchronous tick reads every resource source; rings keep the recent history.

The app calls `tick()` from its own timer or worker: the sampler has no threads or event loop.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from .energy import span_energy
from .memory import MemoryReading
from .power.base import Availability, PowerReading, PowerSource
from .power.nvml import GpuReading
from .power.registry import select_power
from .processes import OllamaProcesses, OllamaProcessFinder
from .ring import Ring

T = TypeVar("T")
N = TypeVar("N", int, float)

SERIES = ("mem_used", "swap_used", "ollama_rss", "watts", "ollama_cpu")


class MemorySource(Protocol):
    name: str

    def read(self) -> MemoryReading: ...


class ProcessSource(Protocol):
    name: str

    def read(self) -> OllamaProcesses: ...


class GpuSource(Protocol):
    name: str

    def probe(self) -> Availability: ...

    def read(self, pids: Collection[int]) -> GpuReading: ...


@dataclass(frozen=True)
class Reading:
    """Everything read in one tick; a reading is None when its source failed (see `errors`)."""

    t: float
    wall: float
    memory: MemoryReading | None
    ollama: OllamaProcesses | None
    power: PowerReading | None
    gpu: GpuReading | None
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def watts(self) -> float | None:
        return self.power.watts if self.power else None


@dataclass(frozen=True)
class Peaks:
    """What the machine did between two times: the `resources` and `power` figures of a record.

    Energy is the counter delta when the source is a counter, else the trapezoid integral of
    the watts, which also estimate a counter's dropped interval (energy.span_energy);
    `energy_duration_s` is the span it covers (use it for baseline subtraction).
    """

    samples: int
    mem_used_start: int | None
    mem_used_peak: int | None
    swap_used_start: int | None
    swap_used_peak: int | None
    ollama_rss_peak: int | None
    cpu_pct_mean: float | None
    gpu_util_pct_mean: float | None
    watts_peak: float | None
    watts_mean: float | None
    energy_j: float | None
    energy_duration_s: float


@dataclass(frozen=True)
class SourceStatus:
    """One source as `ollamon doctor` reports it."""

    kind: str
    name: str
    available: bool
    why: str
    chosen: bool = True


class Sampler:
    """Reads memory, the Ollama processes, power and the GPU once per tick()."""

    def __init__(
        self,
        memory_source: MemorySource,
        process_source: ProcessSource,
        power_sources: PowerSource | Sequence[PowerSource] = (),
        gpu_source: GpuSource | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.perf_counter,
        history_seconds: float = 600,
        interval: float = 1.0,
    ) -> None:
        self._memory = memory_source
        self._processes = process_source
        self._gpu = gpu_source
        self._clock, self._wall_clock, self._timer = clock, wall_clock, timer
        self.interval = interval
        candidates = [power_sources] if isinstance(power_sources, PowerSource) else list(power_sources)
        self.power, self._power_probes = select_power(candidates)
        self._gpu_probe = gpu_source.probe() if gpu_source else None
        size = max(2, math.ceil(history_seconds / interval) + 1)
        self.samples: Ring[Reading] = Ring(size)
        self.series: dict[str, Ring[float]] = {name: Ring(size) for name in SERIES}
        self.last_tick_cost = 0.0
        self._cost_total = 0.0
        self.ticks = 0

    def note_server(self, not_ollama: str | None) -> None:
        """Why the server at --host is not Ollama (its reply), or None once it answers as Ollama."""
        if isinstance(self._processes, OllamaProcessFinder):
            self._processes.not_ollama = not_ollama

    @property
    def mean_tick_cost(self) -> float:
        return self._cost_total / self.ticks if self.ticks else 0.0

    def tick(self) -> Reading:
        """Read every source once; a failing source leaves its reading None and says why."""
        started = self._timer()
        t, wall = self._clock(), self._wall_clock()
        errors: dict[str, str] = {}
        memory = _attempt("memory", self._memory.read, errors)
        ollama = _attempt("processes", self._processes.read, errors)
        power = _attempt("power", self.power.read, errors) if self.power else None
        gpu, gpu_source = None, self._gpu
        if gpu_source is not None and self._gpu_probe and self._gpu_probe.available:
            pids = ollama.pids if ollama else ()
            gpu = _attempt("gpu", lambda: gpu_source.read(pids), errors)
        sample = Reading(t, wall, memory, ollama, power, gpu, errors)
        self._record(sample)
        self.last_tick_cost = self._timer() - started
        self._cost_total += self.last_tick_cost
        self.ticks += 1
        return sample

    def _record(self, sample: Reading) -> None:
        self.samples.append(sample.t, sample)
        values = {
            "mem_used": sample.memory.used if sample.memory else None,
            "swap_used": sample.memory.swap_used if sample.memory else None,
            "ollama_rss": sample.ollama.rss if sample.ollama else None,
            "ollama_cpu": sample.ollama.cpu_percent if sample.ollama else None,
            "watts": sample.watts,
        }
        for name, value in values.items():
            if value is not None:  # gaps stay gaps: each point carries its own time
                self.series[name].append(sample.t, float(value))

    def window(self, t0: float, t1: float) -> list[Reading]:
        """The samples taken between t0 and t1 (monotonic seconds), inclusive."""
        return [sample for _, sample in self.samples.between(t0, t1)]

    def peaks(self, t0: float, t1: float) -> Peaks | None:
        """Peaks, means and energy over the samples between t0 and t1; None if there are none.

        A short answer may fall between two ticks: the app can call tick() at its start and end.
        """
        samples = self.window(t0, t1)
        if not samples:
            return None
        memory = [s.memory for s in samples if s.memory]
        ollama = [s.ollama for s in samples if s.ollama]
        powered = [(s.t, s.power) for s in samples if s.power]
        watts = [(t, p.watts) for t, p in powered if p.watts is not None]
        energy_j, duration = span_energy(powered)
        if energy_j is not None and duration > 0:
            mean_w: float | None = energy_j / duration
        else:
            mean_w = watts[0][1] if len(watts) == 1 else None
        return Peaks(
            samples=len(samples),
            mem_used_start=memory[0].used if memory else None,
            mem_used_peak=_max(m.used for m in memory),
            swap_used_start=memory[0].swap_used if memory else None,
            swap_used_peak=_max(m.swap_used for m in memory),
            ollama_rss_peak=_max(o.rss for o in ollama if o.rss is not None),
            cpu_pct_mean=_mean(o.cpu_percent for o in ollama),
            gpu_util_pct_mean=_mean(s.gpu.util_pct for s in samples if s.gpu),
            watts_peak=_max(w for _, w in watts),
            watts_mean=mean_w,
            energy_j=energy_j,
            energy_duration_s=duration,
        )

    def status(self) -> list[SourceStatus]:
        """Every source with whether it works and why not, as of the last tick and the probes."""
        last = self.samples.last()
        errors = last[1].errors if last else {}
        ollama = last[1].ollama if last else None
        statuses = [
            SourceStatus("memory", self._memory.name, "memory" not in errors, errors.get("memory", "")),
            SourceStatus(
                "processes",
                self._processes.name,
                "processes" not in errors,
                errors.get("processes") or (ollama.why if ollama and ollama.why else ""),
            ),
        ]
        chosen = set(self.power.name.split("+")) if self.power else set()
        for name, availability in self._power_probes:
            failing = name in chosen and "power" in errors
            why = errors["power"] if failing else availability.why
            statuses.append(SourceStatus("power", name, availability.available and not failing, why, name in chosen))
        if not self._power_probes:
            statuses.append(SourceStatus("power", "none", False, "no power source for this platform", False))
        if self._gpu is not None and self._gpu_probe is not None:
            statuses.append(
                SourceStatus(
                    "gpu",
                    self._gpu.name,
                    self._gpu_probe.available and "gpu" not in errors,
                    errors.get("gpu", self._gpu_probe.why),
                )
            )
        return statuses

    def close(self) -> None:
        """Stop what the power source runs (e.g. powermetrics)."""
        if self.power is not None:
            self.power.close()


def _attempt(kind: str, read: Callable[[], T], errors: dict[str, str]) -> T | None:
    try:
        return read()
    except Exception as exc:  # one broken source must not stop the others or the app
        errors[kind] = str(exc) or type(exc).__name__
        return None


def _max(values: Iterable[N]) -> N | None:
    found = list(values)
    return max(found) if found else None


def _mean(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.fmean(found) if found else None
