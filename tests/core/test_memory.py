"""Memory readings: psutil on Linux, Activity Monitor's figures from the kernel's counters on macOS."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers.mach import FakeKernel, counters_from_vm_stat, parse_vm_stat
from tui.core.sampling.memory import (
    FORMULAS,
    LinuxMemory,
    MacMemory,
    MemoryReading,
    activity_monitor_used,
    memory_source,
    pressure_name,
    vm_stat_of,
)

GiB = 2**30

# A 16 GiB Apple Silicon Mac with a model loaded: 1,048,576 pages of 16 KiB.
VM_STAT = """\
Mach Virtual Memory Statistics: (page size of 16384 bytes)
Pages free:                               20000.
Pages active:                            400000.
Pages inactive:                          380000.
Pages speculative:                         8576.
Pages throttled:                              0.
Pages wired down:                        140000.
Pages purgeable:                          12000.
"Translation faults":                 237470735.
Pages copy-on-write:                    7614658.
Pages zero filled:                    116117838.
Pages reactivated:                      1839516.
Pages purged:                            664089.
File-backed pages:                       268576.
Anonymous pages:                         520000.
Pages stored in compressor:              402311.
Pages occupied by compressor:            100000.
Decompressions:                         2934117.
Compressions:                           5018584.
Pageins:                                3802540.
Pageouts:                                 47574.
Swapins:                                  12000.
Swapouts:                                 30211.
"""


def fake_psutil(
    total: int = 16 * GiB, available: int = 6 * GiB, swap_used: int = GiB, swap_total: int = 2 * GiB
) -> SimpleNamespace:
    return SimpleNamespace(
        virtual_memory=lambda: SimpleNamespace(total=total, available=available, used=1, free=1),
        swap_memory=lambda: SimpleNamespace(used=swap_used, total=swap_total),
    )


class TestVmStat:
    def test_page_size_from_the_header(self) -> None:
        """vm_stat's page size comes from its header, and every labelled count is read."""
        vm = parse_vm_stat(VM_STAT)
        assert vm.page_size == 16384
        assert vm.pages["Anonymous pages"] == 520000
        assert vm.pages["Translation faults"] == 237470735  # quoted labels too

    def test_activity_monitor_memory_used(self) -> None:
        """Memory used is all pages but free, file-backed and purgeable, as Activity Monitor counts."""
        # 1048576 pages − (free 20000 + file-backed 268576 + purgeable 12000); every page has a
        # category here, so it equals App (520000 − 12000) + wired 140000 + compressed 100000.
        assert activity_monitor_used(parse_vm_stat(VM_STAT), 16 * GiB) == 748000 * 16384

    def test_intel_page_size(self) -> None:
        """A 4096-byte page size from the header scales the same counts."""
        text = VM_STAT.replace("16384", "4096")
        assert activity_monitor_used(parse_vm_stat(text), 4 * GiB) == 748000 * 4096

    def test_missing_line_says_which(self) -> None:
        """A vm_stat without a needed line is an error that names the line."""
        text = "\n".join(line for line in VM_STAT.splitlines() if not line.startswith("File-backed"))
        with pytest.raises(ValueError, match="no 'File-backed pages' line"):
            activity_monitor_used(parse_vm_stat(text), 16 * GiB)

    def test_pages_that_do_not_fit_the_machine(self) -> None:
        """Pages that add up to more than the machine's memory are refused."""
        with pytest.raises(ValueError, match="do not fit"):
            activity_monitor_used(parse_vm_stat(VM_STAT), GiB)


CAPTURE_32GIB = (Path(__file__).resolve().parents[1] / "data" / "vm_stat_32gib.txt").read_text()


class TestActivityMonitorCapture:
    """The 32 GiB Mac mini of issue 12 (tests/data/vm_stat_32gib.md): Activity Monitor showed 27.27 GiB."""

    def test_formula_matches_activity_monitor(self) -> None:
        """On a real 32 GiB capture the formula gives the 27.27 GiB Activity Monitor showed."""
        assert activity_monitor_used(parse_vm_stat(CAPTURE_32GIB), 32 * GiB) / GiB == pytest.approx(27.27, abs=0.005)

    def test_the_sum_of_parts_reads_low_by_the_uncategorised_pages(self) -> None:
        """App + wired + compressed reads low by exactly the pages in no category."""
        vm = parse_vm_stat(CAPTURE_32GIB)
        parts = (
            vm.bytes("Anonymous pages")
            - vm.bytes("Pages purgeable")
            + vm.bytes("Pages wired down")
            + vm.bytes("Pages occupied by compressor")
        )
        assert parts / GiB == pytest.approx(26.50, abs=0.005)
        categorised = sum(
            vm.bytes(label)
            for label in (
                "Pages free",
                "Pages active",
                "Pages inactive",
                "Pages speculative",
                "Pages throttled",
                "Pages wired down",
                "Pages occupied by compressor",
            )
        )
        assert activity_monitor_used(vm, 32 * GiB) - parts == 32 * GiB - categorised

    def test_mac_reader_on_the_capture(self) -> None:
        """The Mac reader on the capture's kernel counters reports 27.27 GiB used, its formula named."""
        reading = MacMemory(FakeKernel(counters_from_vm_stat(CAPTURE_32GIB, 32 * GiB))).read()
        assert reading.used / GiB == pytest.approx(27.27, abs=0.005)
        formula = FORMULAS[reading.source]
        assert formula.name == "Activity Monitor's Memory Used" and "file-backed" in formula.arithmetic

    def test_not_vm_stat(self) -> None:
        """Output that is not vm_stat's is refused for its missing page size."""
        with pytest.raises(ValueError, match="page size"):
            parse_vm_stat("command not found")


@pytest.mark.parametrize(
    ("number", "level"), [(1, "normal"), (2, "warn"), (4, "critical"), (8, "level 8"), (None, None)]
)
def test_pressure_levels(number: int | None, level: str | None) -> None:
    """The kernel's pressure number reads as normal, warn, critical, 'level N', or None if unread."""
    assert pressure_name(number) == level


class TestKernelCounters:
    def test_vm_stat_labels_from_the_struct(self) -> None:
        """The struct's fields read as vm_stat prints them: free without speculative, file-backed as external."""
        counters = counters_from_vm_stat(VM_STAT, 16 * GiB)
        assert counters.vm["free_count"] == 20000 + 8576 and counters.vm["external_page_count"] == 268576
        pages = vm_stat_of(counters).pages
        printed = parse_vm_stat(VM_STAT).pages
        assert len(pages) == 11 and all(pages[label] == printed[label] for label in pages)

    def test_speculative_pages_count_as_used(self) -> None:
        """Speculative pages are in free_count but not in vm_stat's free, so they count as used (as before)."""
        counters = counters_from_vm_stat(VM_STAT, 16 * GiB)
        more_speculative = replace(
            counters,
            vm={
                **counters.vm,
                "free_count": counters.vm["free_count"] + 100,
                "speculative_count": counters.vm["speculative_count"] + 100,
            },
        )
        assert MacMemory(FakeKernel(more_speculative)).read().used == MacMemory(FakeKernel(counters)).read().used

    def test_missing_field_says_which(self) -> None:
        """Counters without a field the formula needs are an error naming the field."""
        counters = counters_from_vm_stat(VM_STAT, 16 * GiB)
        vm = {k: v for k, v in counters.vm.items() if k != "external_page_count"}
        with pytest.raises(ValueError, match="no external_page_count field"):
            MacMemory(FakeKernel(replace(counters, vm=vm))).read()


class TestReaders:
    def test_linux_used_is_total_minus_available(self) -> None:
        """On Linux memory used is total minus available, with swap and no pressure."""
        reading = LinuxMemory(fake_psutil()).read()
        assert reading == MemoryReading(10 * GiB, 16 * GiB, GiB, 2 * GiB, None, "psutil")

    def test_mac_reads_the_kernel_counters(self) -> None:
        """On a Mac one read of the kernel's counters gives used, total, swap and pressure."""
        kernel = FakeKernel(counters_from_vm_stat(VM_STAT, 16 * GiB, GiB, 2 * GiB, pressure_level=2))
        reading = MacMemory(kernel).read()
        assert reading == MemoryReading(748000 * 16384, 16 * GiB, GiB, 2 * GiB, "warn", "host_statistics64")
        assert kernel.reads == 1

    def test_mac_without_pressure(self) -> None:
        """An unreadable pressure level leaves the pressure unknown and the reading intact."""
        kernel = FakeKernel(counters_from_vm_stat(VM_STAT, 16 * GiB, pressure_level=None))
        reading = MacMemory(kernel).read()
        assert reading.pressure is None and reading.used == 748000 * 16384

    def test_mac_reader_runs_no_command(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The Mac reader starts no subprocess: vm_stat and sysctl are not run once a tick."""
        import subprocess

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError(f"ran {args}")

        monkeypatch.setattr(subprocess, "run", refuse)
        monkeypatch.setattr(subprocess, "Popen", refuse)
        assert MacMemory(FakeKernel(counters_from_vm_stat(VM_STAT, 16 * GiB))).read().used == 748000 * 16384

    def test_platform_choice(self) -> None:
        """macOS gets the kernel-counter reader; Linux gets psutil's."""
        assert isinstance(memory_source("darwin"), MacMemory)
        assert isinstance(memory_source("linux"), LinuxMemory)
