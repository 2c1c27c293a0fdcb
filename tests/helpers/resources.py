"""Deterministic resource sources for app tests and snapshots: scripted readings, one a second."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.helpers.clocks import StepClock
from tui.core.sampling.memory import MemoryReading
from tui.core.sampling.power.base import Availability, PowerReading, PowerSource
from tui.core.sampling.processes import OllamaProcesses
from tui.core.sampling.sampler import Sampler

GB = 1_000_000_000


def sampler_clock() -> StepClock:
    """The sampler's monotonic clock: one second between ticks, the first at 5001 s."""
    return StepClock(step=1.0, start=5001.0)


class Script:
    """Values in order; the last one repeats."""

    def __init__(self, values: Sequence[Any]) -> None:
        self._values = list(values)
        self._index = 0

    def next(self) -> Any:
        value = self._values[min(self._index, len(self._values) - 1)]
        self._index += 1
        return value


class FakeMemory:
    name = "fake-memory"

    def __init__(
        self,
        used_gb: Sequence[float],
        swap_gb: Sequence[float],
        total_gb: float = 16.0,
        swap_total_gb: float = 4.0,
        pressure: str | None = None,
    ) -> None:
        self._used, self._swap = Script(used_gb), Script(swap_gb)
        self._total, self._swap_total, self._pressure = total_gb, swap_total_gb, pressure

    def read(self) -> MemoryReading:
        return MemoryReading(
            int(self._used.next() * GB),
            int(self._total * GB),
            int(self._swap.next() * GB),
            int(self._swap_total * GB),
            self._pressure,
            "fake",
        )


class FakeProcesses:
    name = "fake-processes"

    def __init__(self, rss_gb: Sequence[float], cpu: Sequence[float | None]) -> None:
        self._rss, self._cpu = Script(rss_gb), Script(cpu)

    def read(self) -> OllamaProcesses:
        return OllamaProcesses(int(self._rss.next() * GB), self._cpu.next(), 2, (101, 102), 101)


class FakePower(PowerSource):
    """A wall meter that reads the scripted watts."""

    name = "fake-meter"
    scope = "wall (fake meter)"

    def __init__(self, watts: Sequence[float] | None, why: str = "unplugged") -> None:
        self._watts = Script(watts) if watts else None
        self._why = why

    def probe(self) -> Availability:
        return Availability.ok() if self._watts else Availability.no(self._why)

    def read(self) -> PowerReading:
        assert self._watts is not None
        return PowerReading(self._watts.next(), None, self.scope)


@dataclass
class Scenario:
    """A machine's recent history, ticked into a sampler before the app starts."""

    used_gb: Sequence[float]
    swap_gb: Sequence[float]
    rss_gb: Sequence[float]
    watts: Sequence[float] | None
    cpu: Sequence[float | None] = (None, 12.0, 85.0)


NORMAL = Scenario(
    used_gb=[9.1, 9.2, 9.4, 11.8, 12.6, 12.7, 12.6, 12.7],
    swap_gb=[0.2] * 8,
    rss_gb=[0.1, 0.1, 0.1, 5.2, 5.9, 6.0, 6.0, 6.0],
    watts=[5, 5, 6, 18, 31, 33, 32, 30],
)
SWAPPING = Scenario(
    used_gb=[13.0, 14.2, 15.1, 15.6, 15.9, 15.9, 15.8, 15.9],
    swap_gb=[0.4, 0.9, 1.8, 2.7, 3.5, 4.0, 4.1, 4.1],
    rss_gb=[0.1, 4.0, 8.1, 9.0, 9.3, 9.3, 9.3, 9.3],
    watts=[5, 9, 22, 30, 34, 33, 34, 32],
)
NO_POWER = Scenario(used_gb=NORMAL.used_gb, swap_gb=NORMAL.swap_gb, rss_gb=NORMAL.rss_gb, watts=None)


def scenario_sampler(scenario: Scenario, ticks: int = 8) -> Sampler:
    """A sampler whose history holds `ticks` readings, one a second; later ticks go on the same way."""
    sampler = Sampler(
        FakeMemory(scenario.used_gb, scenario.swap_gb),
        FakeProcesses(scenario.rss_gb, scenario.cpu),
        [FakePower(scenario.watts, why="fake meter unplugged (USB)")],
        clock=sampler_clock(),
        wall_clock=lambda: 1_700_000_000.0,
        timer=lambda: 0.0,
    )
    for _ in range(ticks):
        sampler.tick()
    return sampler
