"""Energy arithmetic for answers: integration, counter deltas, idle baselines, J/token."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Protocol

from .power.base import PowerReading


def counter_delta(previous: float, current: float, wrap: float | None) -> float | None:
    """Increase of a counter that wraps at `wrap`; None when it cannot be known.

    A negative delta means one wrap: add the range once. Without a known range, or if the
    counter went backwards by more than one range (a reset), the interval is dropped; so is
    one with a negative reading, which no energy counter can have (an unreadable value).
    """
    if previous < 0 or current < 0:
        return None
    delta = current - previous
    if delta >= 0:
        return delta
    if wrap is None:
        return None
    delta += wrap
    return delta if delta >= 0 else None


def span_energy(readings: Sequence[tuple[float, PowerReading]]) -> tuple[float | None, float]:
    """(joules, seconds covered) of time-ordered (t, reading) pairs; (None, 0.0) when they span no
    time or a gap has no watts to estimate it from.

    Between two readings that both carry a counter value the energy is the counter's delta.
    Elsewhere (a source without counters, or a counter reading whose interval was dropped) it is
    estimated from the watts around it: the trapezoid between the nearest watts on either side,
    held flat where one side has none. A dropped interval is thus estimated, never counted as 0 J.
    """
    kept = [i for i, (_, p) in enumerate(readings) if p.energy_j is not None or p.watts is not None]
    if len(kept) < 2 or readings[kept[-1]][0] <= readings[kept[0]][0]:
        # Readings that span no time say nothing about energy: blank, not zero.
        return None, 0.0
    span = readings[kept[0] : kept[-1] + 1]
    watts = [p.watts for _, p in span]
    before, after = _held(watts), _held(watts[::-1])[::-1]  # the nearest watts on each side
    joules = 0.0
    for i, ((t0, p0), (t1, p1)) in enumerate(pairwise(span)):
        if p0.energy_j is not None and p1.energy_j is not None:
            joules += p1.energy_j - p0.energy_j
            continue
        w0, w1 = before[i], after[i + 1]
        if w0 is None:
            w0 = w1
        if w1 is None:
            w1 = w0
        if w0 is None or w1 is None:
            return None, 0.0  # a gap with no watts anywhere around it
        joules += (t1 - t0) * (w0 + w1) / 2
    return joules, span[-1][0] - span[0][0]


def _held(values: Sequence[float | None]) -> list[float | None]:
    """Each value, or the last one before it that is not None."""
    held: list[float | None] = []
    for value in values:
        held.append(value if value is not None else (held[-1] if held else None))
    return held


def net_energy(energy_j: float | None, idle_w: float | None, duration_s: float) -> float | None:
    """Energy above idle: E − P_idle × duration; None without energy or baseline."""
    if energy_j is None or idle_w is None:
        return None
    return energy_j - idle_w * duration_s


def joules_per_token(energy_j: float | None, eval_count: int | None) -> float | None:
    """J/token; None (never 0) when the energy or the count is missing or the count is zero."""
    if energy_j is None or not eval_count:
        return None
    return energy_j / eval_count


def tokens_per_joule(energy_j: float | None, eval_count: int | None) -> float | None:
    """Tokens/J; None when it would divide by zero, or by a missing or non-positive energy."""
    if energy_j is None or energy_j <= 0 or not eval_count:
        return None
    return eval_count / energy_j


class PowerSample(Protocol):
    """What a baseline needs of a sampler tick (the sampler's Sample has both)."""

    @property
    def t(self) -> float: ...

    @property
    def power(self) -> PowerReading | None: ...


@dataclass(frozen=True)
class Baseline:
    """Idle power of one source on one host: the energy over a quiet window, or set by hand."""

    source: str
    watts: float
    samples: int
    manual: bool = False

    @classmethod
    def from_samples(cls, source: str, samples: Iterable[PowerSample]) -> Baseline | None:
        """Mean power over a quiet window: its energy (the counters' delta where the source has
        them, else the integral of the watts) over its span; None if it spans no time.

        A median of ticks is wrong for counters that publish in batches (0, 2×, 0, 2× per tick)
        and for any bursty idle; energy over the window is what an answer's net energy subtracts.
        """
        readings = [(s.t, s.power) for s in samples if s.power is not None]
        energy, seconds = span_energy(readings)
        if energy is None or seconds <= 0 or energy < 0:
            return None
        return cls(source, energy / seconds, len(readings))


class BaselineStore:
    """Baselines remembered per (hostname, source name) in a small JSON file in `directory`."""

    FILENAME = "power_baselines.json"

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / self.FILENAME

    def get(self, host: str, source: str) -> Baseline | None:
        entries = self._load().get(host)
        entry = entries.get(source) if isinstance(entries, dict) else None
        if not isinstance(entry, dict):
            return None
        try:
            return Baseline(source, float(entry["watts"]), int(entry["samples"]), bool(entry["manual"]))
        except (KeyError, TypeError, ValueError):
            return None

    def set(self, host: str, baseline: Baseline) -> None:
        data = self._load()
        entry = asdict(baseline)
        del entry["source"]
        entries = data.get(host)
        data[host] = {**(entries if isinstance(entries, dict) else {}), baseline.source: entry}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a crash mid-write never leaves a truncated file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".baselines-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "hosts": data}, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            hosts = json.loads(self.path.read_text(encoding="utf-8")).get("hosts")
        except (OSError, ValueError, AttributeError):
            return {}
        return hosts if isinstance(hosts, dict) else {}
