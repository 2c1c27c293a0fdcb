"""AMD GPU power from the amdgpu hwmon driver (µW)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import Availability, PowerReadError, PowerReading, PowerSource


def _read_text(path: Path) -> str:
    return path.read_text()


class HwmonSource(PowerSource):
    """Sum of every amdgpu card's `power1_average`, else `power1_input`."""

    name = "hwmon"
    scope = "GPU (amdgpu)"
    # On an APU the amdgpu figure can include the CPU cores, overlapping RAPL's package.
    covers = frozenset({"amdgpu"})

    def __init__(self, root: Path = Path("/sys/class/hwmon"), read_text: Callable[[Path], str] = _read_text) -> None:
        self._root = Path(root)
        self._read_text = read_text
        self._found: list[Path] | None = None

    def _cards(self) -> list[Path]:
        if self._found is None:
            self._found = self._discover()
        return self._found

    def _discover(self) -> list[Path]:
        cards = []
        for path in sorted(self._root.glob("hwmon*")):
            try:
                if self._read_text(path / "name").strip() == "amdgpu":
                    cards.append(path)
            except OSError:
                continue
        return cards

    def _card_watts(self, card: Path) -> float:
        # Newer kernels offer only power1_input; some cards fail power1_average with EINVAL.
        errors = []
        for filename in ("power1_average", "power1_input"):
            try:
                return int(self._read_text(card / filename)) / 1e6
            except (OSError, ValueError) as exc:
                errors.append(f"{filename}: {exc}")
        raise PowerReadError(f"{card.name} has no readable power: {'; '.join(errors)}")

    def explain(self) -> list[str]:
        return [
            f"{self.scope}: power1_average (else power1_input) of each amdgpu hwmon card summed, each tick; "
            "energy is the trapezoid integral of the watts"
        ]

    def probe(self) -> Availability:
        cards = self._cards()
        if not cards:
            return Availability.no("no amdgpu hwmon device")
        try:
            for card in cards:
                self._card_watts(card)
        except PowerReadError as exc:
            return Availability.no(str(exc))
        return Availability.ok(f"{len(cards)} amdgpu card(s)")

    def read(self) -> PowerReading:
        cards = self._cards()
        if not cards:
            raise PowerReadError("no amdgpu hwmon device")
        parts = {card.name: self._card_watts(card) for card in cards}
        return PowerReading(sum(parts.values()), None, self.scope, parts)
