"""Intel/AMD RAPL energy counters through the Linux powercap sysfs tree.

Zone choice: the sum of every `package-N` zone plus the `dram` zones, labelled "package" or
"package + DRAM". `psys` (platform) is used only when no package zone exists: it overlaps the
packages, so it is never added to them, and on many desktops it reads zero or is missing, so it
would make figures incomparable between machines. `core`/`uncore` are parts of a package and
are skipped. Only `intel-rapl:*` is read: `intel-rapl-mmio:*` repeats package-0 on some laptops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .base import Availability, PowerReadError, PowerReading, PowerSource
from .counter import CounterRate

ROOT_ONLY = "energy_uj is root-only since CVE-2020-8694 (run as root or chmod)"
# No CPU package, DRAM or platform rail draws this: a bigger step is a corrupt value, not energy.
MAX_ZONE_WATTS = 2000.0
_COVERS = {
    "package": frozenset({"cpu"}),
    "package + DRAM": frozenset({"cpu", "dram"}),
    "platform (RAPL psys)": frozenset({"cpu", "dram", "platform"}),
}


@dataclass(frozen=True)
class RaplZone:
    """One powercap zone directory and its `name`."""

    path: Path
    name: str


def choose_zones(zones: list[RaplZone]) -> tuple[list[RaplZone], str]:
    """The zones to sum and the honest label of their sum (see the module docstring)."""
    packages = [z for z in zones if z.name.startswith("package-")]
    if packages:
        dram = [z for z in zones if z.name == "dram"]
        return packages + dram, "package + DRAM" if dram else "package"
    psys = [z for z in zones if z.name == "psys"]
    return psys, "platform (RAPL psys)"


def _read_text(path: Path) -> str:
    return path.read_text()


class RaplSource(PowerSource):
    """Sum of the chosen RAPL zones' energy counters, as watts over each tick."""

    name = "rapl"

    def __init__(
        self,
        root: Path = Path("/sys/class/powercap"),
        clock: Callable[[], float] = time.monotonic,
        read_text: Callable[[Path], str] = _read_text,
    ) -> None:
        self._root = Path(root)
        self._read_text = read_text
        self._rate = CounterRate(clock, MAX_ZONE_WATTS)
        self.zones, self.scope = choose_zones(self._discover())
        self.covers = _COVERS[self.scope]

    def _discover(self) -> list[RaplZone]:
        zones = []
        for path in sorted(self._root.glob("intel-rapl:*")):
            try:
                zones.append(RaplZone(path, self._read_text(path / "name").strip()))
            except OSError:
                continue
        return zones

    def probe(self) -> Availability:
        if not self._root.is_dir():
            return Availability.no(f"no powercap tree at {self._root}")
        if not self.zones:
            return Availability.no("no RAPL package or psys zone")
        for zone in self.zones:
            try:
                int(self._read_text(zone.path / "energy_uj"))
            except PermissionError:
                return Availability.no(ROOT_ONLY)
            except (OSError, ValueError) as exc:
                return Availability.no(f"cannot read {zone.path / 'energy_uj'}: {exc}")
        return Availability.ok(self.scope)

    def read(self) -> PowerReading:
        if not self.zones:
            raise PowerReadError("no RAPL package or psys zone")
        current: dict[str, float] = {}
        for zone in self.zones:
            try:
                current[zone.path.name] = int(self._read_text(zone.path / "energy_uj")) / 1e6
            except PermissionError:
                raise PowerReadError(ROOT_ONLY) from None
            except (OSError, ValueError) as exc:
                raise PowerReadError(f"cannot read {zone.path / 'energy_uj'}: {exc}") from None
        watts = self._rate.step(current, self._wrap_j)
        if self._rate.why:
            return PowerReading(None, None, self.scope, note=f"interval dropped: {self._rate.why}")
        return PowerReading(watts, self._rate.total_j, self.scope)

    def explain(self) -> list[str]:
        zones = ", ".join(z.name for z in self.zones) or "none"
        return [
            f"{self.scope}: RAPL energy_uj of zones {zones} summed; watts = the delta over the measured "
            "interval, a wrap adds max_energy_range_uj once; energy = the counters; an interval with an "
            f"unexplained fall or over {MAX_ZONE_WATTS:.0f} W in a zone is dropped (the answer's energy "
            "estimates it from the watts around it)"
        ]

    def _wrap_j(self, zone: str) -> float | None:
        try:
            return int(self._read_text(self._root / zone / "max_energy_range_uj")) / 1e6
        except (OSError, ValueError):
            return None  # unknown range: the interval is dropped
