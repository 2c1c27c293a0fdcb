"""Markdown that grows as text streams in, the unfinished paragraph rendered as Markdown too.

Text goes through one `MarkdownStream`, which re-parses only from the last block on, and the
owner hands it text a few times a second rather than per token (see AssistantMessage.flush).
"""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream


class StreamedMarkdown(Markdown):
    """Write text as it comes; `close` waits until all of it is rendered."""

    def __init__(self, *, classes: str) -> None:
        super().__init__(classes=classes, open_links=False)
        self._stream: MarkdownStream | None = None

    async def write(self, text: str) -> None:
        """Append text; the stream renders it (and whatever came meanwhile) in the background."""
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        await self._stream.write(text)

    async def close(self) -> None:
        """Render what is left and stop streaming."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None

    async def clear(self) -> None:
        """Forget everything written (a lone </think> moved it to the thinking section)."""
        await self.close()
        await self.update("")
