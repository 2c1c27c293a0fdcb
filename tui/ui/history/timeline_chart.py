"""A turn's sampler timeline as plotext charts: memory and swap in GiB, and watts."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from tui.core.records.schema import Sample

GIB = 2**30  # binary, like the memory figures beside the chart (memory_bytes)


def _series(samples: Sequence[Sample], index: int, scale: float = 1.0) -> tuple[list[float], list[float]]:
    """Seconds from the turn's start and the readings of one column, skipping missing ones."""
    points = [(s[0] / 1000, value / scale) for s in samples if (value := s[index]) is not None]
    return [t for t, _ in points], [v for _, v in points]


def has_watts(samples: Sequence[Sample]) -> bool:
    """Whether any reading of the turn measured power."""
    return any(s.watts is not None for s in samples)


# The legend's two lines take the top of the plot: the y axis reaches this share of the data's
# span above its highest reading, so no line runs under the legend.
LEGEND_HEADROOM = 0.35


class MemoryChart(PlotextPlot):
    """Used memory and swap over the turn."""

    def __init__(self, samples: Sequence[Sample], *, id: str | None = None) -> None:
        super().__init__(id=id)
        plt = self.plt
        plt.title("Memory and swap (GiB)")
        plt.xlabel("seconds")
        readings = []
        for index, name in ((1, "memory"), (2, "swap")):
            x, y = _series(samples, index, GIB)
            if x:
                plt.plot(x, y, label=name, marker="braille")
                readings += y
        if readings:
            low, high = min(readings), max(readings)
            span = (high - low) or (abs(high) or 1.0) * 0.1
            plt.ylim(low, high + span * LEGEND_HEADROOM)


class PowerChart(PlotextPlot):
    """Power readings over the turn."""

    def __init__(self, samples: Sequence[Sample], *, id: str | None = None) -> None:
        super().__init__(id=id)
        plt = self.plt
        plt.title("Power (W)")
        plt.xlabel("seconds")
        x, y = _series(samples, 4)
        if x:
            plt.plot(x, y, marker="braille")  # one line: the title names it, no legend over it
