"""Start-up without the cyclic garbage collector's passes.

Launching the app allocates ~66,000 long-lived objects (Textual, Rich, this app's classes) and
frees almost none in cycles (~2,000). The collector still walked them all, again and again:
~95 ms before the first frame here, 48 ms of it in one full pass (a bare Textual app: ~33 ms).
So the entry point pauses it. Once the first model list is on screen (the HTTP client imported),
the app calls `resume_collector`: one full pass frees what start-up threw away, then the rest is
frozen (it lives as long as the app, and later full passes no longer walk it: ~100 ms less
collecting during one 500-token answer) and collection goes on as usual.
Only a pause taken here is resumed: code that imports the app keeps its own collector.
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
    gc.collect()  # what start-up threw away (~7,000 objects in cycles, 2-3 MB) is not kept frozen
    gc.freeze()
    gc.enable()
    return True
