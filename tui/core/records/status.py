"""How a turn ended, as a record says it: light, for the command line's parser."""

from __future__ import annotations

from tui.core.open_enum import OpenStrEnum


class Status(OpenStrEnum):
    """Outcome of a turn; `running` only while it is in flight.

    A status written by a newer ollamon is kept as it is, so its records still show.
    """

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    TIMEOUT = "timeout"
