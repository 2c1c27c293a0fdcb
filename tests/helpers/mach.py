"""A Mac's kernel memory counters for tests: built from `vm_stat` text, handed out by a fake kernel."""

from __future__ import annotations

import re

from tui.core.sampling.mach_vm import VM_FIELDS, MachCounters
from tui.core.sampling.memory import VM_STAT_LABELS, VmStat

GiB = 2**30
_PAGE_SIZE = re.compile(r"page size of (\d+) bytes")
_COUNT = re.compile(r'^"?([^":]+?)"?:\s+(\d+)\.?\s*$')


def parse_vm_stat(text: str) -> VmStat:
    """Parse `vm_stat` output (the fixtures' captures); the page size comes from its header line."""
    lines = text.strip().splitlines()
    header = _PAGE_SIZE.search(lines[0]) if lines else None
    if header is None:
        raise ValueError("vm_stat output has no page size header")
    pages = {m.group(1): int(m.group(2)) for m in map(_COUNT.match, lines[1:]) if m}
    return VmStat(int(header.group(1)), pages)


def counters_from_vm_stat(
    text: str, memsize: int, swap_used: int = 0, swap_total: int = 0, pressure_level: int | None = 1
) -> MachCounters:
    """The vm_statistics64 fields that make vm_stat print `text` (vm_stat's mapping, run backwards)."""
    vm_stat = parse_vm_stat(text)
    vm = dict.fromkeys(VM_FIELDS, 0)
    for label, field in VM_STAT_LABELS.items():
        vm[field] = vm_stat.pages.get(label, 0)
    vm["free_count"] = vm_stat.pages["Pages free"] + vm["speculative_count"]
    return MachCounters(vm_stat.page_size, vm, memsize, swap_total, swap_used, pressure_level)


class FakeKernel:
    """Hands out the same counters on every read, counting the reads."""

    def __init__(self, counters: MachCounters) -> None:
        self.counters = counters
        self.reads = 0

    def read(self) -> MachCounters:
        self.reads += 1
        return self.counters
