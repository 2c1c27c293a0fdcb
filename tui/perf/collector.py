"""Start-up without the cyclic garbage collector's passes.

Launching the app allocates many long-lived objects (Textual, Rich, this app's classes) and frees
few of them in cycles, yet the collector walks them all, again and again, before the first frame.
So the entry point pauses it. Once the first model list is on screen (the HTTP client imported),
`resume_collector` runs one full pass, which frees what start-up threw away, then freezes the rest
(it lives as long as the app, and later full passes no longer walk it) and collection goes on as
usual. Only a pause taken here is resumed: code that imports the app keeps its own collector.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    """Stop automatic collection until `resume_collector`; nothing if it is already off."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> bool:
    """Undo `pause_collector`: collect once, freeze what is left, collect as usual. False: no pause."""
    global _paused
    if not _paused:
        return False
    _paused = False
    gc.collect()  # what start-up threw away in cycles is freed, not kept frozen
    gc.freeze()
    gc.enable()
    return True
