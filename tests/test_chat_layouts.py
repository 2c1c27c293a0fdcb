"""A streamed answer that grows costs the chat one layout, not the two Textual would make."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.app import App, ComposeResult

from tui.ui.chat.chat_view import ChatView
from tui.ui.chat.markdown_text import ROOM_SHARE, MarkdownText
from tui.ui.chat.messages import AssistantMessage

SIZE = (60, 30)


class OneChat(App[None]):
    CSS = "AssistantMessage { height: auto; }"

    def compose(self) -> ComposeResult:
        yield ChatView()


def _counting(calls: list[int], layout: Callable[..., None]) -> Callable[..., None]:
    def counted(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        layout(*args, **kwargs)

    return counted


async def test_an_answer_growing_past_its_room_is_laid_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer growing past its room makes the screen lay out once, not once per widget that grew."""
    app = OneChat()
    async with app.run_test(size=SIZE) as pilot:
        chat = app.query_one(ChatView)
        reply = AssistantMessage("m")
        await chat.add(reply)
        reply.add_answer("first words")
        await reply.flush()
        await pilot.pause()
        layouts: list[int] = []
        # No public hook sees a layout pass: count calls of the screen's private one.
        monkeypatch.setattr(app.screen, "_refresh_layout", _counting(layouts, app.screen._refresh_layout))
        height = reply.size.height
        # More lines than the room keeps: the text, its message and the chat all grow.
        reply.add_answer("".join(f"\n\nline {n}" for n in range(SIZE[1] // ROOM_SHARE + 1)))
        await reply.flush()
        for _ in range(5):
            await pilot.pause(0.05)
        assert reply.size.height > height
        assert "line 5" in reply.query_one(".answer-text", MarkdownText).shown
        assert len(layouts) == 1
