"""Let go of the lines Textual still keeps for widgets that are gone."""

from __future__ import annotations

from textual._styles_cache import StylesCache


def forget_gone_widgets() -> None:
    """Textual 8.2.8's StylesCache.get_inner_outer is an lru_cache on a method: app-wide, it keeps
    the caches of up to 1,024 widgets that are gone (messages of a cleared chat, rebuilt footer
    keys), each with the lines it drew. Emptied once a turn, it holds only what is still drawn."""
    StylesCache.get_inner_outer.cache_clear()
