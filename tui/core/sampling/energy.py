"""Energy arithmetic for answers: integration, counter deltas, idle baselines, J/token."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


def integrate_watts(points: Sequence[tuple[float, float]]) -> float | None:
    """Joules under (t seconds, watts) points by the trapezoid rule; None with fewer than two."""
    if len(points) < 2:
        return None
    return sum((t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in zip(points, points[1:]))


def counter_delta(previous: float, current: float, wrap: float | None) -> float | None:
    """Increase of a counter that wraps at `wrap`; None when it cannot be known.

    A negative delta means one wrap: add the range once. Without a known range, or if the
    counter went backwards by more than one range (a reset), the interval is dropped.
    """
    delta = current - previous
    if delta >= 0:
        return delta
    if wrap is None:
        return None
    delta += wrap
    return delta if delta >= 0 else None


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


@dataclass(frozen=True)
class Baseline:
    """Idle power of one source on one host: the median over a quiet window, or set by hand."""

    source: str
    watts: float
    samples: int
    manual: bool = False

    @classmethod
    def from_watts(cls, source: str, watts: Iterable[float]) -> Baseline | None:
        """The median of the same source's readings over a quiet window; None if there are none."""
        values = list(watts)
        if not values:
            return None
        return cls(source, statistics.median(values), len(values))


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
