"""Textual's footer, redrawn only when the keys it shows change, and without the memory it gained on every change."""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    """Textual's footer rebuilds all its keys on every bindings update (each focus change and
    `refresh_bindings`): four to six times a chat turn, ~40 ms each here with its new layout,
    while the keys shown changed twice (Stop comes and goes). Here a rebuild happens only then.

    Each rebuild also binds the new keys to `compact`; the old keys' watchers are dropped only
    when `compact` changes (it never does here), so every turn kept a row of dead keys alive
    (~30 widgets a turn). Touching `compact` after a rebuild lets Textual drop them."""

    _composed: object = None

    def _keys_shown(self) -> object:
        """All that Footer.compose draws from: each binding, whether it is enabled, its tooltip."""
        if not self._bindings_ready:
            return None
        return tuple(
            (binding, enabled, tooltip) for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
        )

    async def recompose(self) -> None:
        keys = self._keys_shown()
        if keys is not None and keys == self._composed:
            return
        self._composed = keys
        await super().recompose()
        self.mutate_reactive(Footer.compact)
