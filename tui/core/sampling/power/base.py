"""The interface every power source implements, and the counter-to-watts arithmetic they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Availability:
    """Whether a source can be read here, and why not when it cannot."""

    available: bool
    why: str = ""

    @classmethod
    def ok(cls, why: str = "") -> Availability:
        return cls(True, why)

    @classmethod
    def no(cls, why: str) -> Availability:
        return cls(False, why)


@dataclass(frozen=True)
class PowerReading:
    """One reading: watts now, and the cumulative energy when the source is a counter.

    `watts` is None on a counter's first read (no interval yet) or a dropped interval.
    `energy_j` is the energy accumulated since this source's first read, wrap-corrected and
    monotonic, so the energy of any span is the difference of two readings; None for sources
    that only give instantaneous power, and for a reading whose interval was dropped (the
    interval ending at this reading is not in the total; a span that holds it estimates it from
    the watts around it, see energy.span_energy).
    `note` says what is odd about this reading (a frozen rail, a dropped interval), or is empty.
    """

    watts: float | None
    energy_j: float | None
    scope: str
    components: Mapping[str, float] = field(default_factory=dict)
    note: str = ""


class PowerReadError(Exception):
    """A read failed; the message is the reason shown to the user."""


class PowerSource(ABC):
    """A reader of power for this machine or part of it."""

    name: str
    scope: str
    # The parts of the machine the readings include. Sources with disjoint parts can be summed
    # (see registry.select_power); "system" means the whole machine and is never summed.
    covers: frozenset[str] = frozenset({"system"})

    @abstractmethod
    def probe(self) -> Availability:
        """Say whether read() can work here, without side effects beyond a cheap check."""

    @abstractmethod
    def read(self) -> PowerReading:
        """Read now; raise PowerReadError with the reason on failure."""

    def close(self) -> None:  # noqa: B027 -- a no-op default, not abstract: most sources hold nothing
        """Release processes or handles the source holds."""

    def explain(self) -> list[str]:
        """For `doctor`: which rails the figure sums and how its watts and energy are computed."""
        return [f"{self.scope}: instantaneous watts each tick; energy is their trapezoid integral"]


def first_available(
    sources: Iterable[PowerSource],
) -> tuple[PowerSource | None, list[tuple[str, Availability]]]:
    """Probe every source (for `doctor`) and return the first available one with all results."""
    chosen: PowerSource | None = None
    results: list[tuple[str, Availability]] = []
    for source in sources:
        availability = probe_safely(source)
        results.append((source.name, availability))
        if chosen is None and availability.available:
            chosen = source
    return chosen, results


def probe_safely(source: PowerSource) -> Availability:
    """Probe, turning an unexpected exception into an unavailable result rather than a crash."""
    try:
        return source.probe()
    except Exception as exc:  # a broken reader must not take the app down
        return Availability.no(f"probe failed: {type(exc).__name__}: {exc}")
