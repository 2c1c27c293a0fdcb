"""The one resource monitor: it owns the sampler, its background ticks, marks, answer costs and
the idle baseline. The panels render what it holds; the chat session, `doctor` and `bench` use it.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tui.core.ollama.host import is_local
from tui.core.sampling.energy import Baseline, BaselineStore, joules_per_token, net_energy, tokens_per_joule
from tui.core.sampling.footprint import footprint_reader
from tui.core.sampling.memory import memory_source
from tui.core.sampling.power.nvml import NvmlGpu
from tui.core.sampling.power.registry import PowerOptions, build_sources
from tui.core.sampling.processes import OllamaProcessFinder
from tui.core.sampling.sampler import Peaks, Reading, Sampler

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

    With a local `host`, the process listening on its port (and its descendants) is Ollama; names are the fallback.
    """
    power = build_sources(PowerOptions(command=options.power_command, powermetrics=options.powermetrics), platform)
    gpu = NvmlGpu() if platform.startswith("linux") else None
    port = urlsplit(host).port if host and is_local(host) else None
    finder = OllamaProcessFinder(footprint=footprint_reader(platform), port=port)
    return Sampler(memory_source(platform), finder, power, gpu, clock=clock, interval=options.interval)


def no_power_reason(sampler: Sampler) -> str:
    """Why no power source is in use, from the probes, in one line."""
    reasons = [
        f"{status.name}: {status.why}" for status in sampler.status() if status.kind == "power" and not status.available
    ]
    return "; ".join(reasons) if reasons else "no power source on this platform"


@dataclass(frozen=True)
class AnswerCost:
    """What one answer cost the machine: peaks, swap growth and energy net of the idle baseline."""

    peaks: Peaks
    baseline_w: float | None
    net_energy_j: float | None
    j_per_token: float | None  # net of the idle baseline
    tokens_per_j: float | None
    gross_j_per_token: float | None = None  # all the energy the machine drew, as a wall meter sees it

    @property
    def swap_growth(self) -> int | None:
        """Swap taken during the answer (bytes); the Mac mini M4 16 GB sweep's failures came with swap."""
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
    return AnswerCost(
        peaks,
        baseline_w,
        net,
        joules_per_token(net, eval_count),
        tokens_per_joule(net, eval_count),
        joules_per_token(peaks.energy_j, eval_count),
    )


@dataclass(frozen=True)
class PowerContext:
    """Which power source a turn was measured with, or why there was none."""

    source: str | None
    scope: str | None
    why: str


ReadingListener = Callable[[Reading], None]


class BaselineInterrupted(Exception):
    """A prompt was sent while idle power was being measured: the old baseline stays."""


class ResourceMonitor:
    """One sampler, ticked by one thread at a time under a lock; None sampler means sampling is off.

    `start()` runs the periodic ticks in a daemon thread and calls the listener after each (from
    that thread: a UI must hand the call to its own loop). `mark()` takes a reading now, for the
    start and end of an answer, so even a short answer has two readings.
    """

    def __init__(
        self,
        sampler: Sampler | None,
        *,
        baseline: Baseline | None = None,
        baselines: BaselineStore | None = None,
        hostname: str | None = None,
    ) -> None:
        self.sampler = sampler
        self.baseline = baseline
        self._baselines = baselines
        self._hostname = hostname or socket.gethostname()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._measuring: asyncio.Task[Baseline | None] | None = None

    @classmethod
    def with_saved_baseline(
        cls,
        sampler: Sampler | None,
        *,
        idle_watts: float | None = None,
        baselines: BaselineStore | None = None,
        hostname: str | None = None,
    ) -> ResourceMonitor:
        """`--idle-watts` wins; else what was measured before on this host with this source."""
        monitor = cls(sampler, baselines=baselines, hostname=hostname)
        power = sampler.power if sampler else None
        if power is not None:
            if idle_watts is not None:
                monitor.baseline = Baseline(power.name, idle_watts, 0, manual=True)
            elif baselines is not None:
                monitor.baseline = baselines.get(monitor._hostname, power.name)
        return monitor

    @property
    def interval(self) -> float | None:
        return self.sampler.interval if self.sampler else None

    @property
    def power_why(self) -> str:
        """Why there is no power figure (empty when a source is in use)."""
        if self.sampler is None:
            return "resource sampling is off"
        return "" if self.sampler.power else no_power_reason(self.sampler)

    def power_context(self) -> PowerContext:
        power = self.sampler.power if self.sampler else None
        return PowerContext(power.name if power else None, power.scope if power else None, self.power_why)

    def tick(self) -> Reading | None:
        """Read every source once (blocking: call it off an event loop)."""
        if self.sampler is None:
            return None
        with self._lock:
            return self.sampler.tick()

    def last(self) -> Reading | None:
        found = self.sampler.samples.last() if self.sampler else None
        return found[1] if found else None

    def start(self, listener: ReadingListener | None = None) -> None:
        """Tick every interval in a daemon thread until `stop()`."""
        if self.sampler is None or self._thread is not None:
            return
        self._stop.clear()
        interval = self.sampler.interval

        def run() -> None:
            while True:
                sample = self.tick()
                if listener is not None and sample is not None:
                    try:
                        listener(sample)
                    except Exception:  # a listener going away (the app quitting) must not kill sampling
                        pass
                if self._stop.wait(interval):
                    return

        self._thread = threading.Thread(target=run, name="ollamon-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background ticks (waits for a tick in progress)."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def close(self) -> None:
        """Stop ticking and what the power source runs (e.g. powermetrics)."""
        self.stop()
        if self.sampler is not None:
            self.sampler.close()

    async def mark(self) -> float | None:
        """Take a reading now and return its time on the sampler's clock."""
        sample = await asyncio.to_thread(self.tick)
        return sample.t if sample else None

    def cost(self, t0: float | None, t1: float | None, eval_count: int | None) -> AnswerCost | None:
        """Peaks and energy of an answer between two marks."""
        if self.sampler is None or t0 is None or t1 is None:
            return None
        peaks = self.sampler.peaks(t0, t1)
        return answer_cost(peaks, self.baseline, eval_count) if peaks else None

    def window(self, t0: float | None, t1: float | None) -> list[Reading]:
        """The readings between two marks."""
        if self.sampler is None or t0 is None or t1 is None:
            return []
        return self.sampler.window(t0, t1)

    @property
    def measuring(self) -> bool:
        return self._measuring is not None and not self._measuring.done()

    def interrupt_baseline(self) -> bool:
        """A prompt was sent: an idle measurement in progress would be polluted, so it stops."""
        if not self.measuring:
            return False
        assert self._measuring is not None
        self._measuring.cancel()
        return True

    async def measure_baseline(self, seconds: float) -> Baseline | None:
        """Idle power over `seconds`, remembered for this host; None if no reading came in.

        Raises ValueError when there is no power source, BaselineInterrupted when a prompt was
        sent meanwhile (a polluted baseline is never stored).
        """
        sampler = self.sampler
        if sampler is None or sampler.power is None:
            raise ValueError(f"no power source to measure: {self.power_why}")
        task = asyncio.ensure_future(self._measure(sampler, seconds))
        self._measuring = task
        try:
            return await task
        except asyncio.CancelledError:
            if task.cancelled() and not _current_cancelling():
                raise BaselineInterrupted("a prompt was sent while measuring idle power") from None
            raise
        finally:
            self._measuring = None

    async def _measure(self, sampler: Sampler, seconds: float) -> Baseline | None:
        assert sampler.power is not None
        start = await self.mark()
        await asyncio.sleep(seconds)
        end = await self.mark()
        if start is None or end is None:
            return None
        baseline = Baseline.from_samples(sampler.power.name, sampler.window(start, end))
        if baseline is None:
            return None
        self.baseline = baseline
        if self._baselines is not None:
            self._baselines.set(self._hostname, baseline)
        return baseline


def _current_cancelling() -> bool:
    """Whether the task running now was itself asked to stop (not just the measurement)."""
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())
