"""A one-line bar chart on a fixed scale, so 0.4 of 25 GB does not look like a full bar."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

BARS = " ▁▂▃▄▅▆▇█"


def spark(values: Sequence[float], top: float | None, width: int, style: str = "") -> Text:
    """The last `width` values as bars from 0 to `top` (their maximum when top is None)."""
    shown = list(values)[-width:]
    scale = top if top else max(shown, default=0.0)
    if not shown or scale <= 0:
        return Text(" " * width)
    steps = len(BARS) - 1
    # A non-zero value always shows at least the lowest bar.
    cells = [BARS[min(steps, max(1 if value > 0 else 0, round(value / scale * steps)))] for value in shown]
    return Text("".join(cells).rjust(width), style=style, no_wrap=True)
