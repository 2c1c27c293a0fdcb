"""Which power sources exist on this platform, in order of preference, and which to read."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .base import Availability, PowerReadError, PowerReading, PowerSource, first_available


@dataclass(frozen=True)
class PowerOptions:
    """The user's power settings."""

    command: str | None = None
    command_timeout: float = 2.0
    powermetrics: bool = False  # opt-in: it needs a NOPASSWD sudo rule


def build_sources(options: PowerOptions = PowerOptions(), platform: str = sys.platform) -> list[PowerSource]:
    """Every source worth probing here, best first (a user's wall-power command beats all).

    Each platform's readers are imported here, not above: the app starts without the other's.
    """
    sources: list[PowerSource] = []
    if options.command:
        from .command import CommandSource

        sources.append(CommandSource(options.command, options.command_timeout))
    if platform == "darwin":
        from .ioreport import IOReportSource
        from .powermetrics import PowermetricsSource
        from .smc import SmcSource

        # SMC owns its own IOReport reader for the max(PSTR, CPU + GPU + ANE) floor, so whichever
        # of the two wins, the other's subscription is closed by select_power.
        sources += [SmcSource(platform, floor=IOReportSource(platform)), IOReportSource(platform)]
        if options.powermetrics:
            sources.append(PowermetricsSource(platform=platform))
    elif platform.startswith("linux"):
        from .battery import BatterySource
        from .hwmon import HwmonSource
        from .nvml import NvmlPowerSource
        from .rapl import RaplSource

        sources += [NvmlPowerSource(), RaplSource(), HwmonSource(), BatterySource()]
    return sources


class SummedSource(PowerSource):
    """Several component sources that measure disjoint parts, read as one (e.g. "GPU + package")."""

    def __init__(self, parts: Sequence[PowerSource]) -> None:
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.scope = " + ".join(p.scope for p in self.parts)
        self.covers = frozenset().union(*(p.covers for p in self.parts))

    def probe(self) -> Availability:
        for part in self.parts:
            availability = part.probe()
            if not availability.available:
                return Availability.no(f"{part.name}: {availability.why}")
        return Availability.ok(self.scope)

    def read(self) -> PowerReading:
        readings = []
        for part in self.parts:
            try:
                readings.append(part.read())
            except PowerReadError as exc:
                # A sum missing a part would be mislabelled: fail the whole reading instead.
                raise PowerReadError(f"{part.name}: {exc}") from None
        return PowerReading(
            _complete_sum([r.watts for r in readings]),
            _complete_sum([r.energy_j for r in readings]),
            self.scope,
            {p.name: r.watts for p, r in zip(self.parts, readings, strict=True) if r.watts is not None},
        )

    def close(self) -> None:
        for part in self.parts:
            part.close()

    def explain(self) -> list[str]:
        return [f"sum of {len(self.parts)} disjoint parts, blank unless every part reads:"] + [
            f"  {part.name}: {line}" for part in self.parts for line in part.explain()
        ]


def _complete_sum(values: list[float | None]) -> float | None:
    """The sum, or None if any part is missing (a partial sum would mislead)."""
    present = [v for v in values if v is not None]
    return sum(present) if len(present) == len(values) else None


def select_power(sources: Sequence[PowerSource]) -> tuple[PowerSource | None, list[tuple[str, Availability]]]:
    """The source to read, and every probe result.

    The first available source wins. If it measures only part of the machine, every later
    available source measuring other parts is added to it (RAPL package + NVIDIA GPU); a
    whole-system source is never summed with anything.

    Probing may open handles (an IOReport subscription, the SMC connection): every source not
    read is closed.
    """
    chosen, results = first_available(sources)
    parts: list[PowerSource] = [chosen] if chosen is not None else []
    if chosen is not None and "system" not in chosen.covers:
        covered = set(chosen.covers)
        for source, (_, availability) in zip(sources, results, strict=True):
            if (
                availability.available
                and source is not chosen
                and "system" not in source.covers
                and covered.isdisjoint(source.covers)
            ):
                parts.append(source)
                covered |= source.covers
    for source in sources:
        if not any(source is part for part in parts):
            _close_quietly(source)
    if not parts:
        return None, results
    return (parts[0] if len(parts) == 1 else SummedSource(parts)), results


def _close_quietly(source: PowerSource) -> None:
    try:
        source.close()
    except Exception:  # a source that cannot close must not stop the app from starting
        pass
