"""Widgets whose new size, set by a layout, does not ask for a second layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.geometry import Size

from tui.perf.switch import tuning_on

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    # A plain mixin: a Widget subclass here would pin its own can_focus and CSS ahead of the
    # container the widget really is.
    _Base = object


class SizedByLayout(_Base):
    """Textual makes a widget whose virtual size changed in a layout ask for another layout
    (`virtual_size` is a layout reactive). For the chat, its messages and their text that second
    layout finds nothing to move but still repaints the chat: each time a streamed answer grew,
    two layouts and three frames were made instead of one and one. Scrollbars that come or go still
    ask for their own layout. With the tuning off (OLLAMON_NO_TUNING) `layout` passes unchanged."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=layout and not tuning_on())
