"""The fake clocks the tests hand to the code under test: one that steps by itself, one the test moves."""

from __future__ import annotations

import itertools

# The wall-clock time every snapshot sees, so "unloads in 5 min" is exact on every run.
FROZEN_WALL = 1_760_000_000.0


def frozen_wall_clock() -> float:
    """A wall clock stopped at FROZEN_WALL."""
    return FROZEN_WALL


class StepClock:
    """Moves `step` seconds on every reading, the first reading being `start`.

    Use it where nobody drives time (an app, a session, a sampler's ticks): timers become
    deterministic without the test touching the clock.
    """

    def __init__(self, step: float = 0.05, start: float = 1000.0) -> None:
        self._ticks = itertools.count()
        self._step = step
        self._start = start

    def __call__(self) -> float:
        return self._start + next(self._ticks) * self._step


class ManualClock:
    """Reads `now`, which only the test moves (`clock.now += 2.0`).

    Use it where the test says when time passes (timers, power counters, the sampler). `timer`
    is a CPU-time reader for the sampler: each read costs `cpu_step` seconds of fake CPU time.
    """

    def __init__(self, now: float = 100.0, cpu_step: float = 0.003) -> None:
        self.now = now
        self.cpu = 0.0
        self._cpu_step = cpu_step

    def __call__(self) -> float:
        return self.now

    def timer(self) -> float:
        self.cpu += self._cpu_step
        return self.cpu
