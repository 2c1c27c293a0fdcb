"""The PROCESSOR column of `ollama ps`: where a loaded model's weights sit."""

from __future__ import annotations

import math


def processor_split(size: int, size_vram: int) -> str:
    """Format /api/ps `size` and `size_vram` exactly as `ollama ps` does."""
    if size_vram == 0:
        return "100% CPU"
    if size_vram == size:
        return "100% GPU"
    if size_vram > size or size == 0:
        return "Unknown"
    # Ollama rounds half away from zero; Python's round() is half-to-even.
    cpu = math.floor((size - size_vram) / size * 100 + 0.5)
    return f"{cpu}%/{100 - cpu}% CPU/GPU"
