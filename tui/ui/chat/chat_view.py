"""The scrolling conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.widget import Widget

from tui.perf.sized_by_layout import SizedByLayout
from tui.ui.chat.messages import AssistantMessage, UserMessage

if TYPE_CHECKING:
    from tui.core.records.schema import Record


class ChatView(SizedByLayout, VerticalScroll):
    """Holds the message widgets and follows new output while the user stays at the bottom."""

    async def add(self, widget: Widget) -> None:
        """Append a message and keep it in view."""
        await self.mount(widget)
        self.anchor()

    async def replay(self, records: list[Record]) -> None:
        """Show a past chat's turns as they ended, with each turn's figures beneath."""
        from tui.core.records.export import turn_figures  # not needed before a reopen
        from tui.core.records.schema import Status

        for record in records:
            await self.mount(UserMessage(record.prompt if record.prompt is not None else "(prompt not kept)"))
            reply = AssistantMessage(record.model.name or "")
            await self.mount(reply)
            if record.thinking:
                reply.add_thinking(record.thinking)
            reply.add_answer(record.answer or "")
            await reply.finish(turn_figures(record), error=record.status is not Status.OK)
        self.anchor()

    async def clear(self) -> None:
        """Remove every message (new chat)."""
        await self.remove_children()
