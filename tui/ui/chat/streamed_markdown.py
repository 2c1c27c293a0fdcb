"""Markdown that grows a whole block at a time, with the block still being written as plain text.

Each Markdown append re-parses and re-lays out the document; doing that only when a paragraph
ends, and showing the unfinished paragraph in a cheap Static, keeps streaming light.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream


class StreamedMarkdown(Vertical):
    """Write text as it comes; `close` renders what is left."""

    def __init__(self, *, classes: str) -> None:
        super().__init__(classes=classes)
        self._stream: MarkdownStream | None = None
        self._tail = ""

    def compose(self) -> ComposeResult:
        yield Markdown(open_links=False)
        yield Static(classes="tail")

    def on_mount(self) -> None:
        self.query_one(".tail", Static).display = False

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    async def write(self, text: str) -> None:
        """Append text: finished blocks go to the Markdown, the rest waits as plain text."""
        self._tail += text
        cut = self._tail.rfind("\n\n")
        if cut >= 0:
            done, self._tail = self._tail[: cut + 2], self._tail[cut + 2 :]
            await self._markdown_stream().write(done)
        tail = self.query_one(".tail", Static)
        tail.update(Content(self._tail))
        tail.display = bool(self._tail)

    async def close(self) -> None:
        """Render the unfinished block too and stop streaming."""
        if self._tail:
            await self._markdown_stream().write(self._tail)
            self._tail = ""
            self.query_one(".tail", Static).display = False
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None

    async def clear(self) -> None:
        """Forget everything written (a lone </think> moved it to the thinking section)."""
        await self.close()
        await self.markdown.update("")

    def _markdown_stream(self) -> MarkdownStream:
        if self._stream is None:
            self._stream = Markdown.get_stream(self.markdown)
        return self._stream
