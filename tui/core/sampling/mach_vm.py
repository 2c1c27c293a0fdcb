"""macOS's memory counters straight from the kernel: host_statistics64 and sysctlbyname via ctypes.

What `vm_stat` and `sysctl` print, without starting either once a second. The layouts follow
xnu's headers: ``struct vm_statistics64`` (osfmk/mach/vm_statistics.h; filled by
``host_statistics64(host, HOST_VM_INFO64, ...)``, its count in 4-byte units) and
``struct xsw_usage`` (sys/sysctl.h; what ``vm.swapusage`` holds). psutil reads the same two.
The page counts are in the kernel's page size (``vm_kernel_page_size``, the size vm_stat's header
prints): a process's own page size differs from it under Rosetta (4 KiB against 16 KiB; see
gopsutil PR 1334).
"""

from __future__ import annotations

import ctypes
import json
from ctypes import c_int, c_size_t, c_uint32, c_uint64, c_void_p
from dataclasses import asdict, dataclass
from typing import Any, Protocol

HOST_VM_INFO64 = 4
KERN_SUCCESS = 0
PRESSURE_SYSCTL = "kern.memorystatus_vm_pressure_level"


class VmStatistics64(ctypes.Structure):
    """xnu's struct vm_statistics64, as host_statistics64(HOST_VM_INFO64) fills it."""

    _fields_ = [
        ("free_count", c_uint32),  # speculative pages included; vm_stat's "Pages free" leaves them out
        ("active_count", c_uint32),
        ("inactive_count", c_uint32),
        ("wire_count", c_uint32),
        ("zero_fill_count", c_uint64),
        ("reactivations", c_uint64),
        ("pageins", c_uint64),
        ("pageouts", c_uint64),
        ("faults", c_uint64),
        ("cow_faults", c_uint64),
        ("lookups", c_uint64),
        ("hits", c_uint64),
        ("purges", c_uint64),
        ("purgeable_count", c_uint32),
        ("speculative_count", c_uint32),
        ("decompressions", c_uint64),
        ("compressions", c_uint64),
        ("swapins", c_uint64),
        ("swapouts", c_uint64),
        ("compressor_page_count", c_uint32),
        ("throttled_count", c_uint32),
        ("external_page_count", c_uint32),  # vm_stat's "File-backed pages"
        ("internal_page_count", c_uint32),  # vm_stat's "Anonymous pages"
        ("total_uncompressed_pages_in_compressor", c_uint64),
    ]


VM_FIELDS = tuple(field[0] for field in VmStatistics64._fields_)

# HOST_VM_INFO64_COUNT: the struct's size in integer_t units (newer kernels append fields; asking
# for this many keeps them from writing past the end).
HOST_VM_INFO64_COUNT = ctypes.sizeof(VmStatistics64) // ctypes.sizeof(c_int)


class XswUsage(ctypes.Structure):
    """struct xsw_usage: swap in bytes, as sysctl vm.swapusage holds it."""

    _fields_ = [
        ("xsu_total", c_uint64),
        ("xsu_avail", c_uint64),
        ("xsu_used", c_uint64),
        ("xsu_pagesize", c_uint32),
        ("xsu_encrypted", c_int),  # boolean_t
    ]


@dataclass(frozen=True)
class MachCounters:
    """What the kernel said, raw: vm_statistics64's fields, its page size, hw.memsize, vm.swapusage
    and the pressure level (None when that sysctl failed)."""

    page_size: int
    vm: dict[str, int]
    memsize: int
    swap_total: int
    swap_used: int
    pressure_level: int | None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> MachCounters:
        data = json.loads(text)
        return cls(
            int(data["page_size"]),
            {str(k): int(v) for k, v in data["vm"].items()},
            int(data["memsize"]),
            int(data["swap_total"]),
            int(data["swap_used"]),
            None if data["pressure_level"] is None else int(data["pressure_level"]),
        )


class MachCounterSource(Protocol):
    """Anything that hands out the kernel's memory counters (the ctypes reader, or a fake)."""

    def read(self) -> MachCounters: ...


class MachKernel:
    """The counters through libSystem; nothing is loaded until the first read (so Linux can build one).

    `libc` stands in for libSystem (tests pass an object with the three functions); `page_size`
    for the read of ``vm_kernel_page_size``.
    """

    def __init__(self, libc: Any | None = None, page_size: int | None = None) -> None:
        self._libc = libc
        self._page_size = page_size
        self._host: int | None = None

    def read(self) -> MachCounters:
        libc = self._library()
        if self._host is None:
            # One send right for the reader's life: asking again every tick would leak one per tick.
            self._host = int(libc.mach_host_self())
        stats = VmStatistics64()
        count = c_uint32(HOST_VM_INFO64_COUNT)
        status = libc.host_statistics64(self._host, HOST_VM_INFO64, ctypes.byref(stats), ctypes.byref(count))
        if status != KERN_SUCCESS:
            raise OSError(f"host_statistics64(HOST_VM_INFO64) failed: kern_return_t {status}")
        swap = XswUsage()
        self._sysctl(libc, "vm.swapusage", swap)
        try:
            pressure: int | None = self._sysctl_int(libc, PRESSURE_SYSCTL)
        except OSError:
            pressure = None  # a missing pressure figure should not cost the memory figures
        return MachCounters(
            page_size=self._kernel_page_size(libc),
            vm={name: int(getattr(stats, name)) for name in VM_FIELDS},
            memsize=self._sysctl_int(libc, "hw.memsize"),
            swap_total=int(swap.xsu_total),
            swap_used=int(swap.xsu_used),
            pressure_level=pressure,
        )

    def _library(self) -> Any:
        if self._libc is None:
            self._libc = load_libsystem()
        return self._libc

    def _kernel_page_size(self, libc: Any) -> int:
        if self._page_size is None:
            self._page_size = int(c_size_t.in_dll(libc, "vm_kernel_page_size").value)
        return self._page_size

    @staticmethod
    def _sysctl(libc: Any, name: str, value: ctypes.Structure | ctypes.Array[ctypes.c_char]) -> int:
        """sysctlbyname into `value`; returns how many bytes the kernel wrote."""
        size = c_size_t(ctypes.sizeof(value))
        if libc.sysctlbyname(name.encode(), ctypes.byref(value), ctypes.byref(size), None, 0) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"sysctlbyname({name}) failed")
        return size.value

    @classmethod
    def _sysctl_int(cls, libc: Any, name: str) -> int:
        """An integer sysctl of whichever width the kernel gives (hw.memsize 8 bytes, the level 4)."""
        buffer = ctypes.create_string_buffer(8)
        written = cls._sysctl(libc, name, buffer)
        if written not in (4, 8):
            raise OSError(f"sysctlbyname({name}) gave {written} bytes, not an integer")
        return int.from_bytes(buffer.raw[:written], "little")


def load_libsystem() -> Any:
    """libSystem with the prototypes the reader calls (macOS only: raises OSError elsewhere)."""
    libc = ctypes.CDLL("/usr/lib/libSystem.dylib", use_errno=True)
    libc.mach_host_self.restype = c_uint32
    libc.mach_host_self.argtypes = []
    libc.host_statistics64.restype = c_int
    libc.host_statistics64.argtypes = [c_uint32, c_int, c_void_p, ctypes.POINTER(c_uint32)]
    libc.sysctlbyname.restype = c_int
    libc.sysctlbyname.argtypes = [ctypes.c_char_p, c_void_p, ctypes.POINTER(c_size_t), c_void_p, c_size_t]
    return libc
