"""A one-line bar chart on a fixed scale, so 0.4 of 25 GB does not look like a full bar."""

from __future__ import annotations

from collections.abc import Sequence

BARS = " ▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], top: float | None, width: int) -> str:
    """The last `width` values as bars from 0 to `top` (their maximum when top is None)."""
    shown = list(values)[-width:]
    scale = top if top else max(shown, default=0.0)
    if not shown or scale <= 0:
        return " " * width
    steps = len(BARS) - 1
    # A non-zero value always shows at least the lowest bar.
    cells = [BARS[min(steps, max(1 if value > 0 else 0, round(value / scale * steps)))] for value in shown]
    return "".join(cells).rjust(width)
