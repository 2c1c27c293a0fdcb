"""Textual's footer, without the memory it gains on every change of keys."""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    """Each recompose binds the new keys to `compact`; the old keys' watchers are dropped only
    when `compact` changes (it never does here), so every turn kept a row of dead keys alive
    (~30 widgets a turn). Touching `compact` after a recompose lets Textual drop them."""

    async def recompose(self) -> None:
        await super().recompose()
        self.mutate_reactive(Footer.compact)
