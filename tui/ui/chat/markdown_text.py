"""Streamed Markdown as one widget: each finished block is rendered once, the last on every write.

Textual's Markdown widget mounts a widget per block (a long answer: hundreds, all laid out on
every change), so a chat of long answers grew by megabytes an answer and slowed down.
Here an answer is one widget: blocks are split at blank lines outside code fences, each rendered
with Rich's Markdown at the widget's width; only line counts are kept for every block, and the
lines of a few recently drawn blocks (the ones on screen), so a finished answer costs its text.

While it grows, the widget keeps room for a few lines to come: a write that fits in that room
repaints only the lines it changed. A write that changes the height makes a new layout, which
moves every message on screen and repaints the whole chat, which at each write of a streamed
answer cost a noticeable share of a core (docs/performance.md).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict

from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from tui.perf.sized_by_layout import SizedByLayout

FENCES = ("```", "~~~")
# Blocks whose lines are kept: more than a screen's worth, so scrolling redraws none of them.
DRAWN_BLOCKS = 12
# While text comes, the height grows to the next multiple of a step: a sixth of the screen's
# height (8 lines at 48 rows, 4 at 24), at least ROOM_STEP.
ROOM_SHARE = 6
ROOM_STEP = 3


def split_blocks(text: str) -> tuple[list[str], str]:
    """The finished blocks of `text` (each ended by a blank line outside a code fence) and the rest."""
    blocks: list[str] = []
    start, fence, position = 0, False, 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith(FENCES):
            fence = not fence
        end = position + len(line)
        if not fence and not stripped and line.endswith("\n"):
            if text[start:position].strip():
                blocks.append(text[start:position])
            start = end  # blank lines between blocks belong to neither
        position = end
    return blocks, text[start:]


class MarkdownText(SizedByLayout, Widget):
    """Markdown that grows: `write` appends."""

    DEFAULT_CSS = "MarkdownText { height: auto; }"

    def __init__(self, *, classes: str) -> None:
        super().__init__(classes=classes)
        self._blocks: list[str] = []
        self._tail = ""
        self._width = 0
        self._heights: list[int] = []  # of the finished blocks, at _width
        # First line of each block (the tail last) and the total height; None after a change.
        self._starts: tuple[list[int], int] | None = None
        self._drawn: OrderedDict[int, list[Strip]] = OrderedDict()
        self._growing = True
        self._room = 0  # the height while growing: lines to come fit without a new layout

    def write(self, text: str) -> None:
        """Append Markdown; what it finishes is rendered once, the unfinished block on each write."""
        if not text:
            return
        width = self.content_size.width
        # Only a growing text repaints from here; a finished one is laid out again anyway.
        changed_from = self._tail_line(width) if width and self._growing else 0
        finished, self._tail = split_blocks(self._tail + text)
        # The old tail was drawn under the index the first newly finished block now has.
        for index in range(len(self._blocks), len(self._blocks) + len(finished) + 1):
            self._drawn.pop(index, None)
        self._blocks.extend(finished)
        self._starts = None
        if not width or not self._growing:
            self.refresh(layout=True)
            return
        height = self._layout(width)[1]
        if height > self._room:
            step = max(ROOM_STEP, self.screen.size.height // ROOM_SHARE)
            self._room = -(-height // step) * step
            self.refresh(layout=True)
        else:
            self.refresh(Region(0, changed_from, width, self._room - changed_from))

    def end(self) -> None:
        """No more text is coming: give back the room kept for it."""
        self._growing = False
        if self._room:
            self._room = 0
            self.refresh(layout=True)

    def _tail_line(self, width: int) -> int:
        """The first line the next write can change: where the unfinished block starts, or would."""
        starts, height = self._layout(width)
        if self._tail.strip():
            return starts[-1]
        return height + 1 if height else 0

    def release(self) -> None:
        """Drop the lines kept for drawing (a finished answer); the turn's end drops Textual's (forget_drawn)."""
        self._drawn.clear()

    def clear(self) -> None:
        """Forget everything written."""
        self._blocks, self._tail = [], ""
        self._heights.clear()
        self._starts = None
        self._drawn.clear()
        self._room = 0
        self.refresh(layout=True)

    def _source(self, index: int) -> str:
        return self._blocks[index] if index < len(self._blocks) else self._tail

    def _lines_of(self, index: int, source: str, width: int) -> list[Strip]:
        lines = self._drawn.get(index)
        if lines is None:
            style = self.rich_style
            options = self.app.console.options.update(width=width, height=None)
            rendered = self.app.console.render_lines(RichMarkdown(source, hyperlinks=False), options, style=style)
            lines = [Strip(Segment.adjust_line_length(line, width, style), width) for line in rendered]
            # Rich pads some blocks (lists, code) with empty lines: one blank between blocks is ours.
            while lines and not lines[-1].text.strip():
                lines.pop()
            while lines and not lines[0].text.strip():
                lines.pop(0)
            self._drawn[index] = lines
        self._drawn.move_to_end(index)
        while len(self._drawn) > DRAWN_BLOCKS:
            self._drawn.popitem(last=False)
        return lines

    def _layout(self, width: int) -> tuple[list[int], int]:
        """First line of each block (a blank line between blocks) and the height; finished blocks are counted once."""
        if width != self._width:
            self._width, self._heights, self._starts = width, [], None
            self._drawn.clear()
        if self._starts is None:
            for index in range(len(self._heights), len(self._blocks)):
                self._heights.append(len(self._lines_of(index, self._blocks[index], width)))
            heights = list(self._heights)
            if self._tail.strip():
                heights.append(len(self._lines_of(len(self._blocks), self._tail, width)))
            starts, line = [], 0
            for height in heights:
                starts.append(line)
                line += height + 1
            self._starts = (starts, max(0, line - 1))
        return self._starts

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(self._layout(width)[1], self._room)

    @property
    def shown(self) -> str:
        """The rendered lines as plain text (what a reader sees), at the widget's width."""
        height = self._layout(self.content_size.width)[1]
        return "\n".join(self.render_line(y).text.rstrip() for y in range(height))

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        starts, _height = self._layout(width)
        index = bisect_right(starts, y) - 1
        if index >= 0:
            lines = self._lines_of(index, self._source(index), width)
            if y - starts[index] < len(lines):
                return lines[y - starts[index]]
        return Strip.blank(width, self.rich_style)

    def notify_style_update(self) -> None:
        # A new colour (focus, theme) is in every drawn line: draw them again.
        self._drawn.clear()
        self._heights.clear()
        self._starts = None
        super().notify_style_update()
