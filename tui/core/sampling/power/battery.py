"""Laptop system draw from the battery while it discharges (Linux power_supply sysfs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import Availability, PowerReadError, PowerReading, PowerSource

NOT_DISCHARGING = "charging/full: battery power is not system draw"


def _read_text(path: Path) -> str:
    return path.read_text()


class BatterySource(PowerSource):
    """Sum of `power_now` (µW), or `current_now` × `voltage_now`, over discharging batteries."""

    name = "battery"
    scope = "battery"

    def __init__(
        self, root: Path = Path("/sys/class/power_supply"), read_text: Callable[[Path], str] = _read_text
    ) -> None:
        self._root = Path(root)
        self._read_text = read_text

    def _batteries(self) -> list[Path]:
        return sorted(self._root.glob("BAT*"))

    def _discharging(self, batteries: list[Path]) -> list[Path]:
        found = []
        for battery in batteries:
            try:
                if self._read_text(battery / "status").strip() == "Discharging":
                    found.append(battery)
            except OSError:
                continue
        return found

    def _watts(self, battery: Path) -> float:
        # Some drivers report discharge as negative power or current: the draw is the magnitude.
        try:
            return abs(int(self._read_text(battery / "power_now"))) / 1e6
        except (OSError, ValueError):
            pass
        try:
            current_ua = int(self._read_text(battery / "current_now"))
            voltage_uv = int(self._read_text(battery / "voltage_now"))
        except (OSError, ValueError) as exc:
            raise PowerReadError(f"{battery.name}: no power_now and no current_now × voltage_now ({exc})") from None
        return abs(current_ua * voltage_uv) / 1e12

    def explain(self) -> list[str]:
        return [
            "battery: power_now (else current_now × voltage_now) of each discharging BAT*, each tick; "
            "energy is the trapezoid integral of the watts"
        ]

    def probe(self) -> Availability:
        batteries = self._batteries()
        if not batteries:
            return Availability.no("no battery")
        discharging = self._discharging(batteries)
        if not discharging:
            return Availability.no(NOT_DISCHARGING)
        try:
            for battery in discharging:
                self._watts(battery)
        except PowerReadError as exc:
            return Availability.no(str(exc))
        return Availability.ok("discharging")

    def read(self) -> PowerReading:
        discharging = self._discharging(self._batteries())
        if not discharging:
            raise PowerReadError(NOT_DISCHARGING)
        parts = {battery.name: self._watts(battery) for battery in discharging}
        return PowerReading(sum(parts.values()), None, self.scope, parts)
