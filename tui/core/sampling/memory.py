"""System memory and swap, measured the way each OS's own monitor shows them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import psutil

from tui.core.sampling.mach_vm import MachCounters, MachCounterSource, MachKernel

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


# vm_stat's label for each vm_statistics64 field, as vm_stat.c prints them ("Pages free" leaves the
# speculative pages out of free_count).
VM_STAT_LABELS = {
    "Pages active": "active_count",
    "Pages inactive": "inactive_count",
    "Pages speculative": "speculative_count",
    "Pages throttled": "throttled_count",
    "Pages wired down": "wire_count",
    "Pages purgeable": "purgeable_count",
    "File-backed pages": "external_page_count",
    "Anonymous pages": "internal_page_count",
    "Pages stored in compressor": "total_uncompressed_pages_in_compressor",
    "Pages occupied by compressor": "compressor_page_count",
}


def vm_stat_of(counters: MachCounters) -> VmStat:
    """The kernel's counters as `vm_stat` would print them, so one formula serves both."""
    vm = counters.vm
    try:
        pages = {label: vm[field] for label, field in VM_STAT_LABELS.items()}
        pages["Pages free"] = vm["free_count"] - vm["speculative_count"]
    except KeyError as missing:
        raise ValueError(f"vm_statistics64 has no {missing.args[0]} field") from None
    return VmStat(counters.page_size, pages)


@dataclass(frozen=True)
class Formula:
    """How a reader computes "used": the name a person knows it by, and the arithmetic."""

    name: str
    arithmetic: str


# How each reader's "used" is computed, by reader name, for `doctor`.
FORMULAS = {
    "host_statistics64": Formula(
        "Activity Monitor's Memory Used",
        "hw.memsize − (free + file-backed + purgeable pages) × page size, "
        "from host_statistics64(HOST_VM_INFO64) as vm_stat labels them (free = free_count − speculative_count)",
    ),
    "psutil": Formula("free's used", "total − available (psutil, as `free` shows it)"),
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
        raise ValueError(f"free, file-backed and purgeable pages do not fit in {total} bytes of memory")
    return used


def pressure_name(level: int | None) -> str | None:
    """kern.memorystatus_vm_pressure_level as normal/warn/critical (None when it could not be read)."""
    if level is None:
        return None
    return PRESSURE_LEVELS.get(level, f"level {level}")


class LinuxMemory:
    """psutil's figures, with used = total − available (what `free` calls available)."""

    name = "psutil"

    def __init__(self, psutil_module: ModuleType | Any = psutil) -> None:
        self._psutil = psutil_module

    def read(self) -> MemoryReading:
        vm, swap = self._psutil.virtual_memory(), self._psutil.swap_memory()
        return MemoryReading(vm.total - vm.available, vm.total, swap.used, swap.total, None, self.name)


def mac_reading(counters: MachCounters, source: str = "host_statistics64") -> MemoryReading:
    """A reading from the kernel's counters: Activity Monitor's Memory Used, vm.swapusage's swap."""
    used = activity_monitor_used(vm_stat_of(counters), counters.memsize)
    return MemoryReading(
        used, counters.memsize, counters.swap_used, counters.swap_total, pressure_name(counters.pressure_level), source
    )


class MacMemory:
    """Activity Monitor's Memory Used, swap and pressure from the kernel's counters (no subprocess)."""

    name = "host_statistics64"

    def __init__(self, kernel: MachCounterSource | None = None) -> None:
        self._kernel = kernel if kernel is not None else MachKernel()

    def read(self) -> MemoryReading:
        return mac_reading(self._kernel.read(), self.name)


def memory_source(platform: str = sys.platform) -> LinuxMemory | MacMemory:
    """The memory reader for this platform (psutil's figures outside macOS)."""
    return MacMemory() if platform == "darwin" else LinuxMemory()
