"""The PROCESSOR column of `ollama ps`: where a loaded model's weights sit."""

from __future__ import annotations

import math


def cpu_percent(size: int, size_vram: int) -> int | None:
    """The CPU share `ollama ps` prints, in whole percent; None when the sizes make no sense."""
    if size_vram == 0:
        return 100
    if size_vram > size or size == 0:
        return None
    # Ollama rounds half away from zero; Python's round() is half-to-even.
    return math.floor((size - size_vram) / size * 100 + 0.5)


def processor_split(size: int, size_vram: int) -> str:
    """Format /api/ps `size` and `size_vram` exactly as `ollama ps` does."""
    if size_vram == 0:
        return "100% CPU"
    if size_vram == size:
        return "100% GPU"
    cpu = cpu_percent(size, size_vram)
    if cpu is None:
        return "Unknown"
    return f"{cpu}%/{100 - cpu}% CPU/GPU"
