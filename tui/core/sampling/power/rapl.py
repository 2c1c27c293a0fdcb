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

from ..energy import counter_delta
from .base import Availability, CounterRate, PowerReadError, PowerReading, PowerSource

ROOT_ONLY = "energy_uj is root-only since CVE-2020-8694 (run as root or chmod)"
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
        self._rate = CounterRate(clock)
        self._previous: dict[Path, int] = {}
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
        current: dict[Path, int] = {}
        for zone in self.zones:
            try:
                current[zone.path] = int(self._read_text(zone.path / "energy_uj"))
            except PermissionError:
                raise PowerReadError(ROOT_ONLY) from None
            except (OSError, ValueError) as exc:
                raise PowerReadError(f"cannot read {zone.path / 'energy_uj'}: {exc}") from None
        delta_uj = self._delta_uj(current) if self._previous else None
        self._previous = current
        watts = self._rate.step(None if delta_uj is None else delta_uj / 1e6)
        return PowerReading(watts, self._rate.total_j, self.scope)

    def explain(self) -> list[str]:
        zones = ", ".join(z.name for z in self.zones) or "none"
        return [
            f"{self.scope}: RAPL energy_uj of zones {zones} summed; watts = the delta over the measured "
            "interval, a wrap adds max_energy_range_uj once; energy = the counters"
        ]

    def _delta_uj(self, current: dict[Path, int]) -> int | None:
        total = 0
        for path, value in current.items():
            previous = self._previous.get(path)
            if previous is None:
                return None
            wrap = self._wrap(path) if value < previous else None
            delta = counter_delta(previous, value, wrap)
            if delta is None:
                return None
            total += int(delta)
        return total

    def _wrap(self, path: Path) -> int | None:
        try:
            return int(self._read_text(path / "max_energy_range_uj"))
        except (OSError, ValueError):
            return None  # unknown range: the caller drops this interval
