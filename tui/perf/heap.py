"""Hand memory that ollamon has freed back to the system, so its RSS is what it still holds.

glibc's malloc keeps freed blocks for reuse and returns a page to the system only from the top of
its heap: after a long answer the memory of its transient strings and drawn lines stayed in the
process. `malloc_trim(0)` returns every free page.
Other C libraries (macOS, musl) have no malloc_trim; there this does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    return trim


def release_freed() -> bool:
    """Return freed heap pages to the system; False where the C library cannot (nothing done)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
