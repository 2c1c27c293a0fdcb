"""System memory and swap, measured the way each OS's own monitor shows them."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import psutil

Run = Callable[[Sequence[str]], str]

PRESSURE_LEVELS = {1: "normal", 2: "warn", 4: "critical"}


@dataclass(frozen=True)
class MemoryReading:
    """Bytes of memory and swap in use, and macOS's memory pressure when known."""

    used: int
    total: int
    swap_used: int
    swap_total: int
    pressure: str | None
    source: str


@dataclass(frozen=True)
class VmStat:
    """Parsed `vm_stat` output: the page size and page counts by label."""

    page_size: int
    pages: dict[str, int]

    def bytes(self, label: str) -> int:
        try:
            return self.pages[label] * self.page_size
        except KeyError:
            raise ValueError(f"vm_stat output has no {label!r} line") from None


_PAGE_SIZE = re.compile(r"page size of (\d+) bytes")
_COUNT = re.compile(r'^"?([^":]+?)"?:\s+(\d+)\.?\s*$')


def parse_vm_stat(text: str) -> VmStat:
    """Parse `vm_stat` output; the page size comes from its header line."""
    lines = text.strip().splitlines()
    header = _PAGE_SIZE.search(lines[0]) if lines else None
    if header is None:
        raise ValueError("vm_stat output has no page size header")
    pages = {m.group(1): int(m.group(2)) for m in map(_COUNT.match, lines[1:]) if m}
    return VmStat(int(header.group(1)), pages)


# How each reader's "used" is computed, by reader name, for `doctor`.
FORMULAS = {
    "vm_stat": "total − (free + file-backed + purgeable pages) from vm_stat, as Activity Monitor's Memory Used",
    "psutil": "total − available (psutil, as `free` shows it)",
}


def activity_monitor_used(vm: VmStat, total: int) -> int:
    """Activity Monitor's "Memory Used" in bytes: every page of `total` bytes except the free,
    file-backed (cache) and purgeable ones.

    The sum of its parts (App Memory + Wired + Compressed) reads 2–3 % low: vm_stat lists some
    pages under no category, and Activity Monitor counts them as used (on a 32 GiB capture
    27.27 GiB shown, 26.50 GiB by the parts; see tests/data/vm_stat_32gib.txt).
    """
    idle = vm.bytes("Pages free") + vm.bytes("File-backed pages") + vm.bytes("Pages purgeable")
    used = total - idle
    if not 0 <= used <= total:
        raise ValueError(f"vm_stat pages do not fit in {total} bytes of memory")
    return used


def parse_pressure(text: str) -> str | None:
    """`sysctl -n kern.memorystatus_vm_pressure_level` output as normal/warn/critical."""
    try:
        level = int(text.strip())
    except ValueError:
        return None
    return PRESSURE_LEVELS.get(level, f"level {level}")


def run_command(argv: Sequence[str]) -> str:
    """Stdout of a short command; raises on failure or after 2 s."""
    return subprocess.run(
        list(argv), capture_output=True, text=True, check=True, timeout=2, stdin=subprocess.DEVNULL
    ).stdout


class LinuxMemory:
    """psutil's figures, with used = total − available (what `free` calls available)."""

    name = "psutil"

    def __init__(self, psutil_module: ModuleType | Any = psutil) -> None:
        self._psutil = psutil_module

    def read(self) -> MemoryReading:
        vm, swap = self._psutil.virtual_memory(), self._psutil.swap_memory()
        return MemoryReading(vm.total - vm.available, vm.total, swap.used, swap.total, None, self.name)


class MacMemory:
    """Activity Monitor's Memory Used from `vm_stat`; swap from psutil; pressure from sysctl."""

    name = "vm_stat"

    def __init__(self, psutil_module: ModuleType | Any = psutil, run: Run = run_command) -> None:
        self._psutil = psutil_module
        self._run = run

    def read(self) -> MemoryReading:
        total = self._psutil.virtual_memory().total
        used = activity_monitor_used(parse_vm_stat(self._run(["vm_stat"])), total)
        try:
            pressure = parse_pressure(self._run(["sysctl", "-n", "kern.memorystatus_vm_pressure_level"]))
        except (OSError, subprocess.SubprocessError):
            pressure = None  # a missing pressure figure should not cost the memory figures
        swap = self._psutil.swap_memory()
        return MemoryReading(used, total, swap.used, swap.total, pressure, self.name)


def memory_source(platform: str = sys.platform) -> LinuxMemory | MacMemory:
    """The memory reader for this platform (psutil's figures outside macOS)."""
    return MacMemory() if platform == "darwin" else LinuxMemory()
