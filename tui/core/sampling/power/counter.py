"""Energy counters to watts and a running total, dropping an interval that is not energy."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from ..energy import counter_delta


class CounterRate:
    """Energy counters (one value per part, e.g. per zone or GPU) to watts and a running total.

    A reading's interval is dropped (`step` returns None and says why) when a part's counter
    moved in a way that is not energy: a fall no known wrap explains, a negative value, or more
    than `max_watts` over the interval. The last good sample is kept after a dropped one, so a
    single corrupt value loses one interval and the next step reads across both; the dropped
    sample is tried as a start too, so a counter that really was reset or jumped reads again
    from its new value on the next step.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_watts: float = math.inf) -> None:
        self._clock = clock
        self._max_watts = max_watts
        self._good: tuple[float, dict[str, float]] | None = None  # the last sample counted from
        self._dropped: tuple[float, dict[str, float]] | None = None  # the newest dropped sample
        self.total_j = 0.0
        self.interval: float | None = None  # seconds covered by the last counted step
        self.why = ""  # why the last step was dropped, or empty

    def step(
        self, joules: Mapping[str, float], wrap: Callable[[str], float | None] = lambda part: None
    ) -> float | None:
        """Record each part's counter now (in joules; `wrap(part)` is its range, read only on a
        fall); return the watts since the sample counted from, None on the first step or a drop."""
        now, values = self._clock(), dict(joules)
        self.interval, self.why = None, ""
        if self._good is None:
            self._good = (now, values)
            return None
        for start in (self._good, self._dropped):
            if start is None:
                continue
            delta, self.why = self._delta(start, now, values, wrap)
            if delta is not None:
                self._good, self._dropped = (now, values), None
                self.total_j += delta
                self.interval = now - start[0]
                return delta / self.interval
        self._dropped = (now, values)
        return None

    def _delta(
        self,
        start: tuple[float, Mapping[str, float]],
        now: float,
        values: Mapping[str, float],
        wrap: Callable[[str], float | None],
    ) -> tuple[float | None, str]:
        """The joules since `start` summed over the parts, or None and why they are not energy."""
        seconds = now - start[0]
        if seconds <= 0:
            return None, "no time passed since the last sample"
        total = 0.0
        for part, value in values.items():
            previous = start[1].get(part)
            if previous is None:
                return None, f"{part} appeared"
            if value < 0:
                return None, f"{part} read a negative counter ({value:g} J)"
            delta = counter_delta(previous, value, wrap(part) if value < previous else None)
            if delta is None:
                return None, f"{part} fell from {previous:g} J to {value:g} J, which no known wrap explains"
            if delta / seconds > self._max_watts:
                return None, f"{part} read {delta / seconds:.0f} W, more than it can draw"
            total += delta
        return total, ""
