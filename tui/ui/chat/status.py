"""The top bar's status: a full sentence where it fits, a short form where it would be cut."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class StatusLine(Static):
    """Says one thing in two lengths; the width it has picks which."""

    _forms: tuple[str, str] = ("", "")

    def say(self, text: str, short: str | None = None) -> None:
        """Show `text`, or `short` when `text` does not fit."""
        self._forms = (text, short or text)
        self._fit()

    @property
    def text(self) -> str:
        """The full form, whichever is on screen."""
        return self._forms[0]

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        text, short = self._forms
        width = self.content_size.width
        self.update(Content(short if width and len(text) > width else text))
