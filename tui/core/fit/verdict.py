"""What the fit advisor says of a model, and how sure it is: light, for the widgets that mark the list."""

from __future__ import annotations

import enum


class Verdict(str, enum.Enum):
    FITS = "fits"
    SPILLS = "spills"
    SWAPS = "swaps"
    WONT_LOAD = "will_not_load"

    @property
    def label(self) -> str:
        return {
            "fits": "fits on GPU",
            "spills": "spills to CPU",
            "swaps": "will swap, likely to fail",
            "will_not_load": "will not load",
        }[self.value]

    @property
    def unfit(self) -> bool:
        """Worth a warning before loading (and skipping in a sweep): it swaps or never loads."""
        return self in (Verdict.SWAPS, Verdict.WONT_LOAD)


class Accuracy(str, enum.Enum):
    EXACT = "exact"  # Ollama's own rule on the model's exact tensor sizes
    ESTIMATE = "estimate"  # the runner decides at load time: about ±1 layer
    ROUGH = "rough"  # a generic formula or the file size stood in for missing facts
