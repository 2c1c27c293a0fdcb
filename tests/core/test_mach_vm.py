"""The ctypes layer under the Mac memory reader, against a fake libSystem (no Mac is needed)."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from tests.helpers.mach import GiB
from tui.core.sampling.mach_vm import (
    HOST_VM_INFO64,
    HOST_VM_INFO64_COUNT,
    VM_FIELDS,
    MachCounters,
    MachKernel,
    VmStatistics64,
    XswUsage,
)
from tui.core.sampling.memory import MacMemory


class FakeLibSystem:
    """mach_host_self, host_statistics64 and sysctlbyname, writing through the pointers they are given."""

    def __init__(self, sysctls: dict[str, bytes], vm: dict[str, int], status: int = 0) -> None:
        self.sysctls = sysctls
        self.vm = vm
        self.status = status
        self.hosts = 0
        self.calls: list[tuple[Any, ...]] = []

    def mach_host_self(self) -> int:
        self.hosts += 1
        return 0x103

    def host_statistics64(self, host: int, flavor: int, info: Any, count: Any) -> int:
        self.calls.append(("host_statistics64", host, flavor, count._obj.value))
        if self.status:
            return self.status
        for name, value in self.vm.items():
            setattr(info._obj, name, value)
        return 0

    def sysctlbyname(self, name: bytes, old: Any, size: Any, new: None, new_size: int) -> int:
        self.calls.append(("sysctlbyname", name.decode(), size._obj.value))
        value = self.sysctls.get(name.decode())
        if value is None or len(value) > size._obj.value:
            return -1
        ctypes.memmove(ctypes.addressof(old._obj), value, len(value))
        size._obj.value = len(value)
        return 0


def swap_usage(total: int, used: int) -> bytes:
    return bytes(XswUsage(total, total - used, used, 16384, 1))


def libsystem(**overrides: bytes) -> FakeLibSystem:
    sysctls = {
        "hw.memsize": (32 * GiB).to_bytes(8, "little"),
        "vm.swapusage": swap_usage(2 * GiB, GiB // 2),
        "kern.memorystatus_vm_pressure_level": (2).to_bytes(4, "little"),
        **overrides,
    }
    vm = {"free_count": 26385, "speculative_count": 10000, "external_page_count": 287600, "purgeable_count": 6000}
    return FakeLibSystem(sysctls, vm)


class TestLayouts:
    def test_vm_statistics64_is_the_kernels_size(self) -> None:
        """vm_statistics64 is 152 bytes, so HOST_VM_INFO64_COUNT is 38 integers, as xnu defines it."""
        assert ctypes.sizeof(VmStatistics64) == 152 and HOST_VM_INFO64_COUNT == 38 and HOST_VM_INFO64 == 4

    def test_vm_statistics64_offsets(self) -> None:
        """The fields the formula reads sit where xnu's header puts them (64-bit counters 8-aligned)."""
        offsets = {name: getattr(VmStatistics64, name).offset for name in VM_FIELDS}
        assert offsets["zero_fill_count"] == 16 and offsets["purges"] == 80
        assert offsets["purgeable_count"] == 88 and offsets["speculative_count"] == 92
        assert offsets["compressor_page_count"] == 128 and offsets["external_page_count"] == 136
        assert offsets["total_uncompressed_pages_in_compressor"] == 144

    def test_xsw_usage_layout(self) -> None:
        """xsw_usage holds three 64-bit byte counts, the page size and the encrypted flag: 32 bytes."""
        assert ctypes.sizeof(XswUsage) == 32 and XswUsage.xsu_used.offset == 16


class TestMachKernel:
    def test_reads_the_struct_and_the_sysctls(self) -> None:
        """One read asks host_statistics64 for 38 integers and reads memsize, swap and pressure by name."""
        libc = libsystem()
        counters = MachKernel(libc, page_size=16384).read()
        assert counters.page_size == 16384 and counters.memsize == 32 * GiB
        assert counters.vm["free_count"] == 26385 and counters.vm["external_page_count"] == 287600
        assert counters.vm["wire_count"] == 0 and len(counters.vm) == 24
        assert (counters.swap_total, counters.swap_used, counters.pressure_level) == (2 * GiB, GiB // 2, 2)
        assert libc.calls[0] == ("host_statistics64", 0x103, 4, 38)
        asked = [call[1] for call in libc.calls[1:]]
        assert asked == ["vm.swapusage", "kern.memorystatus_vm_pressure_level", "hw.memsize"]

    def test_host_port_is_taken_once(self) -> None:
        """The host port is asked for once, not once a tick (each ask is a send right that would leak)."""
        libc = libsystem()
        kernel = MachKernel(libc, page_size=16384)
        for _ in range(3):
            kernel.read()
        assert libc.hosts == 1

    def test_failed_host_statistics_is_an_error(self) -> None:
        """A kern_return_t other than success is an OSError naming the call."""
        libc = libsystem()
        libc.status = 5
        with pytest.raises(OSError, match=r"host_statistics64\(HOST_VM_INFO64\) failed: kern_return_t 5"):
            MachKernel(libc, page_size=16384).read()

    def test_missing_pressure_keeps_the_rest(self) -> None:
        """A pressure sysctl that fails leaves the level unknown, the other figures read."""
        libc = libsystem()
        del libc.sysctls["kern.memorystatus_vm_pressure_level"]
        counters = MachKernel(libc, page_size=16384).read()
        assert counters.pressure_level is None and counters.memsize == 32 * GiB

    def test_missing_memsize_is_an_error(self) -> None:
        """Without hw.memsize there is no total, and the read fails naming the sysctl."""
        libc = libsystem()
        del libc.sysctls["hw.memsize"]
        with pytest.raises(OSError, match=r"sysctlbyname\(hw.memsize\) failed"):
            MachKernel(libc, page_size=16384).read()

    def test_odd_width_integer_is_refused(self) -> None:
        """An integer sysctl that comes back neither 4 nor 8 bytes wide is an error, not a guess."""
        with pytest.raises(OSError, match="gave 2 bytes"):
            MachKernel(libsystem(**{"hw.memsize": b"\x01\x02"}), page_size=16384).read()

    def test_memory_reader_on_the_fake_kernel(self) -> None:
        """Through the ctypes layer the reader gives total − (free + file-backed + purgeable pages)."""
        reading = MacMemory(MachKernel(libsystem(), page_size=16384)).read()
        assert reading.used == 32 * GiB - (16385 + 287600 + 6000) * 16384
        assert (reading.swap_used, reading.swap_total, reading.pressure) == (GiB // 2, 2 * GiB, "warn")

    def test_nothing_is_loaded_until_read(self) -> None:
        """Building the Mac reader on Linux loads no library; only a read would."""
        MacMemory()  # would raise here if it opened libSystem


def test_counters_round_trip_through_json() -> None:
    """The counters a capture writes read back equal, pressure None included."""
    counters = MachCounters(16384, {"free_count": 1, "wire_count": 2}, 8 * GiB, GiB, 0, None)
    assert MachCounters.from_json(counters.to_json()) == counters
