"""A machine described on the command line instead of measured: light, a default of the chat session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.core.fit.inputs import GpuKind


@dataclass(frozen=True)
class WhatIf:
    """A machine described on the command line instead of measured (bytes; None: not given)."""

    ram: int | None = None
    gpu_memory: int | None = None  # what the GPU may use with nothing loaded
    gpu_free: int | None = None  # what it has free right now
    gpu: GpuKind | None = None
    version: str | None = None

    @property
    def describes_machine(self) -> bool:
        return any(v is not None for v in (self.ram, self.gpu_memory, self.gpu_free, self.gpu))


# The default: measure the machine Ollama runs on (when that is this one).
MEASURE_HERE = WhatIf()
