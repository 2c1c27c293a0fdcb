"""The PROCESSOR column, formatted exactly as `ollama ps` prints it."""

from __future__ import annotations

import pytest

from tui.core.sampling.processor import processor_split


@pytest.mark.parametrize(
    ("size", "size_vram", "expected"),
    [
        (1000, 0, "100% CPU"),
        (0, 0, "100% CPU"),
        (1000, 1000, "100% GPU"),
        (1000, 1001, "Unknown"),
        (0, 5, "Unknown"),
        (100, 74, "26%/74% CPU/GPU"),
        (1000, 745, "26%/74% CPU/GPU"),  # 25.5 rounds up (half away from zero)
        (1000, 735, "27%/73% CPU/GPU"),  # 26.5 rounds up, where round() would give 26
        (1000, 995, "1%/99% CPU/GPU"),  # 0.5 rounds up
        (1000, 996, "0%/100% CPU/GPU"),
        (1000, 5, "100%/0% CPU/GPU"),
    ],
)
def test_processor_split(size: int, size_vram: int, expected: str) -> None:
    """The CPU/GPU split reads as `ollama ps` prints it; a VRAM share it cannot be is Unknown."""
    assert processor_split(size, size_vram) == expected
