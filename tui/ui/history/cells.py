"""How figures appear in the history tables: "—" for anything missing, never a made-up 0."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text

from tui.core import units
from tui.core.ollama.sanitize import strip_controls
from tui.core.records.schema import Status

MISSING = "—"

STATUS_STYLES = {
    Status.OK: "green",
    Status.FAILED: "bold red",
    Status.TIMEOUT: "bold red",
    Status.CANCELLED: "yellow",
    Status.INTERRUPTED: "yellow",
    Status.RUNNING: "italic cyan",
}


def label(value: object | None) -> Text:
    """Text from outside (model names, titles, hosts) as a literal cell on one line."""
    if value is None or value == "":
        return Text(MISSING, style="dim")
    return Text(strip_controls(str(value)).replace("\n", " "), no_wrap=True, overflow="ellipsis")


def number(value: str | None) -> Text:
    """A right-aligned figure, or a dim dash."""
    if value is None:
        return Text(MISSING, style="dim", justify="right")
    return Text(value, justify="right")


def duration_ms(ms: float | None) -> Text:
    return number(None if ms is None else units.milliseconds(ms))


def size(value: int | None) -> Text:
    """A model or /api/ps size, in Ollama's decimal units."""
    return number(None if value is None else units.human_bytes(value))


def memory(value: int | None) -> Text:
    """RAM or swap, in binary units."""
    return number(None if value is None else units.memory_bytes(value))


def decimal(value: float | None, places: int = 1) -> Text:
    return number(None if value is None else f"{value:.{places}f}")


def status(value: Status) -> Text:
    return Text(value.value, style=STATUS_STYLES.get(value, ""))


def parse_time(iso: str) -> datetime | None:
    """A record's ISO 8601 UTC stamp; None for anything unreadable."""
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def short_time(iso: str | None, tz: tzinfo | None) -> Text:
    """Month, day and minute in `tz` (None: this machine's local zone)."""
    when = parse_time(iso) if iso else None
    if when is None:
        return label(iso)
    return Text(when.astimezone(tz).strftime("%m-%d %H:%M"))


def long_time(iso: str | None, tz: tzinfo | None) -> str:
    """Date and time to the second in `tz`, with the zone's name."""
    when = parse_time(iso) if iso else None
    if when is None:
        return iso or MISSING
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")
