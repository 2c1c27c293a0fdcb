"""How the comparison table names the machines its rows ran on: a host name that two machines may
share, and the hardware that tells a Mac mini from a GPU box."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tui.core.records.rows import SummaryRow
from tui.core.records.schema import HostInfo
from tui.core.units import memory_bytes

# Enough of a random host id to tell two machines of one name apart.
SHORT_ID = 8


def places(rows: Sequence[SummaryRow]) -> list[str | None]:
    """Where each row's answers were computed: the host's name, with the start of its id where two
    hosts share that name; a cloud model's remote host (and, with several hosts in the table, the
    host that asked it)."""
    ids_by_name: dict[str | None, set[str | None]] = defaultdict(set)
    for row in rows:
        ids_by_name[row.host].add(row.host_id)
    several_hosts = len({row.host_id for row in rows}) > 1

    def host(row: SummaryRow) -> str | None:
        if len(ids_by_name[row.host]) > 1 and row.host_id:
            return f"{row.host or '?'} ({row.host_id[:SHORT_ID]})"
        return row.host

    def place(row: SummaryRow) -> str | None:
        if row.remote_host is None:
            return host(row)
        return f"{row.remote_host} (cloud, via {host(row)})" if several_hosts else f"{row.remote_host} (cloud)"

    return [place(row) for row in rows]


def hardware(host: HostInfo | None) -> str:
    """The machine in a few words: chip (or model), GPU and its memory, RAM; "" when nothing is known."""
    if host is None:
        return ""
    parts = [host.chip or host.machine_model or ""]
    if host.gpu is not None and host.gpu.name:
        parts.append(host.gpu.name + (f" {memory_bytes(host.gpu.vram_bytes)}" if host.gpu.vram_bytes else ""))
    if host.ram_bytes:
        parts.append(f"{memory_bytes(host.ram_bytes)} RAM")
    return " · ".join(part for part in parts if part)
