"""The scrolling conversation."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widget import Widget


class ChatView(VerticalScroll):
    """Holds the message widgets and follows new output while the user stays at the bottom."""

    async def add(self, widget: Widget) -> None:
        """Append a message and keep it in view."""
        await self.mount(widget)
        self.anchor()

    async def clear(self) -> None:
        """Remove every message (new chat)."""
        await self.remove_children()
