"""The one switch that turns all of ollamon's tuning off, for debugging: OLLAMON_NO_TUNING=1."""

from __future__ import annotations

import os
from functools import cache

NO_TUNING = "OLLAMON_NO_TUNING"


@cache
def tuning_on() -> bool:
    """False when OLLAMON_NO_TUNING is set to anything but "" or "0"; the environment is read once."""
    return os.environ.get(NO_TUNING, "") in ("", "0")
