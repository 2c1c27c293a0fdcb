"""Where the user types: Enter sends, pasted text keeps its lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea


class PromptInput(TextArea):
    """A multi-line input; Enter submits, ctrl+j or shift+enter adds a line."""

    # The prompt keeps focus while reading: the page keys scroll the conversation, not the input.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,shift+enter", "newline", "New line", show=False),
        Binding("pageup", "app.scroll_chat('up')", "Scroll", key_display="PgUp"),
        Binding("pagedown", "app.scroll_chat('down')", "Scroll down", show=False),
        Binding("ctrl+home", "app.scroll_chat('home')", "Scroll to the top", show=False),
        Binding("ctrl+end", "app.scroll_chat('end')", "Scroll to the end", show=False),
    ]

    @dataclass
    class Submitted(Message):
        """The user sent a non-empty prompt."""

        text: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(language=None, soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._submit()
            return
        await super()._on_key(event)

    def render_line(self, y: int) -> Strip:
        # TextArea wraps its placeholder to the content width and fails on a width of 0, which a
        # first layout in a small terminal gives it before the narrow breakpoint hides the side column.
        if self.content_size.width < 1:
            return Strip.blank(self.size.width)
        return super().render_line(y)

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")

    def _submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        # The app clears the input once it accepts the prompt (not while an answer streams).
        self.post_message(self.Submitted(text))
