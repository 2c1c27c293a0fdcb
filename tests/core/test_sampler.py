"""The sampler with a fake clock and fake sources: rings, windows, peaks, energy, cost, status."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from tests.core.test_processes import FakeProcess
from tests.helpers.clocks import ManualClock
from tui.core.chat.events import TurnEnded
from tui.core.chat.recorder import finish_record, timeline
from tui.core.chat.timers import TurnTimes
from tui.core.records.schema import LoadInfo, Record
from tui.core.sampling.memory import MemoryReading
from tui.core.sampling.monitor import PowerContext, answer_cost
from tui.core.sampling.power.base import Availability, PowerReadError, PowerReading, PowerSource
from tui.core.sampling.power.nvml import GpuReading
from tui.core.sampling.processes import OllamaProcesses, OllamaProcessFinder
from tui.core.sampling.ring import Ring
from tui.core.sampling.sampler import Sampler, SourceStatus

GiB = 2**30


class Memory:
    name = "fake-memory"

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.fail = False

    def read(self) -> MemoryReading:
        if self.fail:
            raise OSError("vm_stat failed")
        t = self.clock.now
        return MemoryReading(int((8 + t) * GiB), 16 * GiB, int(t) * GiB // 10, 2 * GiB, None, self.name)


class Processes:
    name = "fake-processes"

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def read(self) -> OllamaProcesses:
        t = self.clock.now
        cpu = None if t == 0 else 100.0 * t
        return OllamaProcesses(int(t * 100) * 2**20, cpu, 2, (100, 201), 100)


class Watts(PowerSource):
    name = "fake-power"
    scope = "wall (command)"

    def __init__(self, clock: ManualClock, counter: bool = False) -> None:
        self.clock, self.counter = clock, counter
        self.energy = 0.0

    def probe(self) -> Availability:
        return Availability.ok()

    def read(self) -> PowerReading:
        t = self.clock.now
        if t == 13:
            raise PowerReadError("plug offline")
        watts = 10.0 + t
        if self.counter:
            self.energy += watts  # one joule-per-watt step per tick second, for easy sums
            return PowerReading(watts, self.energy, self.scope)
        return PowerReading(watts, None, self.scope)


class Missing(PowerSource):
    name = "missing"
    scope = "GPU"

    def probe(self) -> Availability:
        return Availability.no("no device")

    def read(self) -> PowerReading:
        raise PowerReadError("no device")


class Gpu:
    name = "fake-gpu"

    def __init__(self) -> None:
        self.asked: list[set[int]] = []

    def probe(self) -> Availability:
        return Availability.ok()

    def read(self, pids: Collection[int]) -> GpuReading:
        self.asked.append(set(pids))
        return GpuReading("Fake GPU", 4 * GiB, 24 * GiB, 60.0, {201: 3 * GiB})


def make(clock: ManualClock, counter: bool = False, history_seconds: float = 600) -> Sampler:
    return Sampler(
        Memory(clock),
        Processes(clock),
        [Missing(), Watts(clock, counter)],
        Gpu(),
        clock=clock,
        wall_clock=lambda: 1.7e9 + clock.now,
        timer=clock.timer,
        history_seconds=history_seconds,
    )


def run(sampler: Sampler, clock: ManualClock, times: list[float]) -> None:
    for t in times:
        clock.now = t
        sampler.tick()


def test_tick_reads_everything_and_measures_its_cost() -> None:
    """A tick reads memory, processes, power and GPU into one sample and times its own cost."""
    clock = ManualClock(0.0)
    sampler = make(clock)
    clock.now = 2.0
    sample = sampler.tick()
    assert sample.t == 2.0 and sample.wall == 1.7e9 + 2.0
    assert sample.memory is not None and sample.memory.used == 10 * GiB
    assert sample.ollama is not None and sample.ollama.pids == (100, 201)
    assert sample.watts == 12.0 and sample.power is not None and sample.power.scope == "wall (command)"
    assert sample.gpu is not None and sample.gpu.process_memory == {201: 3 * GiB}
    assert sampler.last_tick_cost == pytest.approx(0.003)
    sampler.tick()
    assert sampler.mean_tick_cost == pytest.approx(0.003) and sampler.ticks == 2


def test_gpu_is_asked_about_the_ollama_pids() -> None:
    """The GPU source is asked about exactly the Ollama processes' pids."""
    clock = ManualClock(0.0)
    gpu = Gpu()
    Sampler(Memory(clock), Processes(clock), gpu_source=gpu, clock=clock).tick()
    assert gpu.asked == [{100, 201}]


def test_rings_are_bounded_by_the_history() -> None:
    """Samples and series keep only the last history_seconds of ticks."""
    clock = ManualClock(0.0)
    sampler = make(clock, history_seconds=10)
    run(sampler, clock, [float(t) for t in range(30)])
    assert len(sampler.samples) == 11
    last = sampler.samples.last()
    assert last is not None and last[0] == 29.0
    assert [t for t, _ in sampler.series["mem_used"]] == [float(t) for t in range(19, 30)]
    assert sampler.series["watts"].values()[-1] == 39.0


def test_missing_values_leave_gaps_in_their_series() -> None:
    """A value a tick could not give is left out of its series, not stored as zero."""
    clock = ManualClock(0.0)
    sampler = make(clock)
    run(sampler, clock, [0.0, 1.0])
    assert [t for t, _ in sampler.series["ollama_cpu"]] == [1.0]  # None at t=0 (not primed yet)
    assert len(sampler.series["ollama_rss"]) == 2


def test_window_and_peaks_over_uneven_ticks() -> None:
    """A window's starts, peaks, means and trapezoid energy follow uneven tick spacing."""
    clock = ManualClock(0.0)
    sampler = make(clock)
    run(sampler, clock, [0.0, 1.0, 2.0, 2.5, 4.0, 5.0, 9.0])
    assert [s.t for s in sampler.window(1.0, 4.0)] == [1.0, 2.0, 2.5, 4.0]
    peaks = sampler.peaks(1.0, 4.0)
    assert peaks is not None and peaks.samples == 4
    assert peaks.mem_used_start == 9 * GiB and peaks.mem_used_peak == 12 * GiB
    assert peaks.swap_used_start == GiB // 10 and peaks.swap_used_peak == 4 * GiB // 10
    assert peaks.ollama_rss_peak == 400 * 2**20
    assert peaks.cpu_pct_mean == pytest.approx((100 + 200 + 250 + 400) / 4)
    assert peaks.gpu_util_pct_mean == 60.0
    assert peaks.watts_peak == 14.0
    # Trapezoid: 1 s × 11.5 + 0.5 s × 12.25 + 1.5 s × 13.25 = 37.5 J over 3 s.
    assert peaks.energy_j == pytest.approx(37.5) and peaks.energy_duration_s == 3.0
    assert peaks.watts_mean == pytest.approx(12.5)


def test_counter_sources_give_energy_as_a_counter_delta() -> None:
    """A source with an energy counter gives the window's energy as the counter's delta."""
    clock = ManualClock(0.0)
    sampler = make(clock, counter=True)
    run(sampler, clock, [0.0, 1.0, 2.0, 3.0])
    peaks = sampler.peaks(1.0, 3.0)
    assert peaks is not None
    assert peaks.energy_j == pytest.approx(12.0 + 13.0) and peaks.energy_duration_s == 2.0


def test_peaks_of_an_empty_window_and_of_a_single_sample() -> None:
    """An empty window has no peaks; a single sample has watts but no energy."""
    clock = ManualClock(0.0)
    sampler = make(clock)
    run(sampler, clock, [0.0, 5.0])
    assert sampler.peaks(1.0, 4.0) is None
    single = sampler.peaks(5.0, 5.0)
    assert single is not None and single.energy_j is None and single.watts_mean == 15.0


def test_a_failing_source_does_not_stop_the_others() -> None:
    """A failing source leaves its value empty and its error recorded; the other sources still read."""
    clock = ManualClock(0.0)
    memory = Memory(clock)
    sampler = Sampler(memory, Processes(clock), [Watts(clock)], clock=clock)
    memory.fail = True
    clock.now = 13.0
    sample = sampler.tick()
    assert sample.memory is None and sample.power is None and sample.ollama is not None
    assert sample.errors == {"memory": "vm_stat failed", "power": "plug offline"}
    assert SourceStatus("memory", "fake-memory", False, "vm_stat failed") in sampler.status()


def test_status_lists_every_probed_source() -> None:
    """Status lists every source probed, with the power source chosen among them."""
    clock = ManualClock(0.0)
    sampler = make(clock)
    sampler.tick()
    assert sampler.status() == [
        SourceStatus("memory", "fake-memory", True, ""),
        SourceStatus("processes", "fake-processes", True, ""),
        SourceStatus("power", "missing", False, "no device", chosen=False),
        SourceStatus("power", "fake-power", True, "", chosen=True),
        SourceStatus("gpu", "fake-gpu", True, ""),
    ]


def test_no_power_source() -> None:
    """Without a power source ticks have no watts and status says there is none for this platform."""
    clock = ManualClock(0.0)
    sampler = Sampler(Memory(clock), Processes(clock), clock=clock)
    assert sampler.power is None and sampler.tick().watts is None
    assert SourceStatus("power", "none", False, "no power source for this platform", False) in sampler.status()


def test_ring_readers_iterate_a_snapshot() -> None:
    """Appending while a reader iterates (another thread, in the app) does not break the reader."""
    ring: Ring[int] = Ring(3)
    for i in range(5):
        ring.append(float(i), i)
    assert ring.maxlen == 3 and ring.values() == [2, 3, 4]
    for t, value in ring:
        ring.append(t + 10, value)  # the live deque would raise "mutated during iteration"
    assert list(ring) == [(12.0, 2), (13.0, 3), (14.0, 4)]
    assert ring.between(12.5, 14.0) == [(13.0, 3), (14.0, 4)]


def test_a_turn_without_an_ollama_reading_stores_null_not_zero() -> None:
    """A turn while the server was gone (a restart) records its Ollama memory as null, never 0 B."""
    clock = ManualClock(0.0)
    server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=300 * 2**20)
    processes: list[FakeProcess] = []
    finder = OllamaProcessFinder(lambda: list(processes))
    sampler = Sampler(Memory(clock), finder, clock=clock, wall_clock=lambda: 1.7e9 + clock.now, timer=clock.timer)
    run(sampler, clock, [0.0, 1.0, 2.0])  # the server is restarting: no Ollama process
    peaks = sampler.peaks(0.0, 2.0)
    assert peaks is not None and peaks.samples == 3
    assert peaks.ollama_rss_peak is None and peaks.cpu_pct_mean is None
    assert [sample.ollama_rss for sample in timeline(sampler.window(0.0, 2.0), 0.0)] == [None, None, None]
    record = Record()
    times = TurnTimes(None, None, 1.0, 2.0, 0, 10, 3)
    ended = TurnEnded("hi", "m", times, None, None, False, answer_cost(peaks, None, 3), LoadInfo(), "", "x", None)
    finish_record(
        record, ended, load=LoadInfo(), power=PowerContext(None, None, "none"), interval_s=1.0, keep_content=False
    )
    assert record.resources.ollama_rss_peak_bytes is None
    assert record.to_json_dict()["resources"]["ollama_rss_peak_bytes"] is None

    processes.append(server)  # back up: the peak is its reading, the gap before it stays a gap
    run(sampler, clock, [3.0])
    peaks = sampler.peaks(0.0, 3.0)
    assert peaks is not None and peaks.ollama_rss_peak == 300 * 2**20
