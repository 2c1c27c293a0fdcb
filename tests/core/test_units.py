"""Memory in binary units (as Activity Monitor and btop), model sizes in Ollama's decimal ones."""

from __future__ import annotations

from tui.core.units import human_bytes, memory_bytes


def test_a_16_gib_mac_reads_as_activity_monitor_does() -> None:
    """Memory reads in binary units as Activity Monitor shows it; None reads n/a."""
    assert memory_bytes(16 * 2**30) == "16.0 GiB"
    assert memory_bytes(round(15.92 * 2**30)) == "15.9 GiB"  # not "17.1 GB"
    assert memory_bytes(1023.9 * 2**20) == "1023.9 MiB" and memory_bytes(512) == "512 B"
    assert memory_bytes(None) == "n/a"


def test_model_sizes_stay_decimal_as_ollama_ps_prints_them() -> None:
    """Model sizes read in decimal GB and MB as `ollama ps` prints them."""
    assert human_bytes(5_225_387_923) == "5.2 GB" and human_bytes(815_319_791) == "815.3 MB"


def test_a_pair_names_a_shared_unit_once() -> None:
    """A used/total pair names a shared unit once and each unit when they differ."""
    from tui.core.units import memory_pair

    assert memory_pair(127.8 * 2**30, 127.9 * 2**30) == "127.8 / 127.9 GiB"
    assert memory_pair(1023.9 * 2**20, 63.9 * 2**30) == "1023.9 MiB / 63.9 GiB"
