"""Textual's footer, redrawn only where its keys change, and without the memory it gained on every change."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tui.perf.switch import tuning_on

# What Footer.compose draws a key from: the binding, whether it is enabled, its tooltip.
Key = tuple[Binding, bool, str]


def _one_more(longer: list[Key], shorter: list[Key]) -> int | None:
    """The index of the one key `longer` has that `shorter` lacks, all else alike; else None."""
    if len(longer) != len(shorter) + 1:
        return None
    index = next((n for n, (a, b) in enumerate(zip(longer, shorter, strict=False)) if a != b), len(shorter))
    return index if longer[:index] + longer[index + 1 :] == shorter else None


class KeysFooter(Footer):
    """Textual's footer rebuilds all its keys on every bindings update (each focus change and
    `refresh_bindings`): several times a chat turn, each with a new layout, while the keys shown
    changed twice (Stop comes and goes). Here nothing is rebuilt when the keys are the same, and a
    key that comes or goes alone is mounted or removed by itself.

    Each rebuild also binds the new keys to `compact`; the old keys' watchers are dropped only
    when `compact` changes (it never does here), so every turn kept a row of dead keys alive.
    Touching `compact` after a rebuild lets Textual drop them.

    With the tuning off (OLLAMON_NO_TUNING) it is Textual's footer: every update rebuilds.

    `spare` names actions whose keys are shown only where the footer has room for every key: the
    last named goes first as the footer narrows (they stay in the palette and keep working)."""

    _composed: tuple[Key, ...] | None = None

    def __init__(self, *, compact: bool = False, spare: tuple[str, ...] = ()) -> None:
        super().__init__(compact=compact)
        self._spare = spare

    def on_resize(self, event: events.Resize) -> None:
        self._fit_keys()

    def _fit_keys(self) -> None:
        """Show the keys the footer has room for, hide the others (they stay in the palette).

        The keys that are not spare come first, in their order, until one does not fit (at 60
        columns a key cut in half read `^` before the palette key); then the spare keys, in the
        order named, in the room left."""
        if not self.is_attached:
            return  # a rebuild or a closed screen since this was scheduled
        keys = [key for key in self.query_children(FooterKey) if key.is_attached]
        if not keys:
            return

        def width(key: FooterKey) -> int:
            return key.get_content_width(self.size, self.size) + key.styles.gutter.width + key.styles.margin.width

        palette = [key for key in keys if key.has_class("-command-palette")]
        # + 1: the last key's right margin may lie under the palette key.
        room = self.size.width - sum(width(key) for key in palette) + 1
        regular = [key for key in keys if key not in palette and key.action not in self._spare]
        spare = {key.action: key for key in keys if key not in palette and key.action in self._spare}
        cut = False  # once a key that is not spare is cut, so are those after it, and every spare key
        for key in regular + [spare[action] for action in self._spare if action in spare]:
            fits = not cut and width(key) <= room
            cut = cut or (not fits and key in regular)
            room -= width(key) if fits else 0
            key.display = fits
        self.styles.grid_size_columns = sum(1 for key in keys if key not in palette and key.display)

    def _keys_shown(self) -> tuple[Key, ...] | None:
        """All that Footer.compose draws from."""
        if not self._bindings_ready:
            return None
        return tuple(
            (binding, enabled, tooltip) for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
        )

    async def recompose(self) -> None:
        if not self.is_attached:
            return  # a bindings update queued by a screen dismissed since: nothing left to draw on
        if not tuning_on():
            await super().recompose()
            self.call_after_refresh(self._fit_keys)
            return
        keys = self._keys_shown()
        if keys is not None and keys == self._composed:
            return
        composed, self._composed = self._composed, keys
        if keys is not None and composed is not None and await self._mount_or_remove_one(composed, keys):
            self.call_after_refresh(self._fit_keys)
            return
        await super().recompose()
        self.mutate_reactive(Footer.compact)
        self.call_after_refresh(self._fit_keys)

    async def _mount_or_remove_one(self, before: tuple[Key, ...], after: tuple[Key, ...]) -> bool:
        """Mount or remove the one shown key that differs; False where more changed (rebuild)."""
        if [key for key in before if not key[0].show] != [key for key in after if not key[0].show]:
            return False  # the palette key, which compose draws from a hidden binding, changed
        old, new = [key for key in before if key[0].show], [key for key in after if key[0].show]
        gone, came = _one_more(old, new), _one_more(new, old)
        changed = old[gone] if gone is not None else new[came] if came is not None else None
        if changed is None or changed[0].group is not None:
            return False
        if sum(key[0].action == changed[0].action for key in old + new) != 1:
            return False  # another key for the same action: compose shows only the first of them
        drawn = {(key.action, key.key): key for key in self.query_children(FooterKey)}
        if came is not None:
            after_it = new[came + 1][0] if came + 1 < len(new) else None
            neighbour = drawn.get((after_it.action, after_it.key)) if after_it is not None else None
            if neighbour is None:
                return False  # last, after a grouped key or a repeated action: a rebuild places it
            await self.mount(self._key(*changed), before=neighbour)
        else:
            if (widget := drawn.get((changed[0].action, changed[0].key))) is None:
                return False
            await widget.remove()
            self.mutate_reactive(Footer.compact)  # drops the removed key's watcher
        self.styles.grid_size_columns = len({key[0].action for key in new})
        return True

    def _key(self, binding: Binding, enabled: bool, tooltip: str) -> FooterKey:
        """One key as Footer.compose draws a key of its own (not in a group)."""
        key = FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            binding.action,
            disabled=not enabled,
            tooltip=tooltip,
        )
        return key.data_bind(compact=Footer.compact)
