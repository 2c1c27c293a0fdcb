"""Let go of the lines Textual keeps for widgets: those of a finished turn and those of widgets gone."""

from __future__ import annotations

from textual._styles_cache import StylesCache
from textual.widget import Widget


def forget_drawn(view: Widget) -> None:
    """Make each child of `view` and its parts drop the lines Textual keeps of it; only those on screen are drawn again.

    Textual keeps each line a widget has drawn, with the pieces the compositor cut from it, for as
    long as the widget lives; a full `refresh()` empties them.
    """
    for child in view.children:
        for widget in child.walk_children(with_self=True):
            widget.refresh()


def forget_gone_widgets() -> None:
    """Empty Textual's StylesCache.get_inner_outer: an lru_cache on a method, so app-wide, it keeps the
    caches of widgets that are gone (messages of a cleared chat, rebuilt footer keys), each with the
    lines it drew. Emptied once a turn, it holds only what is still drawn."""
    StylesCache.get_inner_outer.cache_clear()
