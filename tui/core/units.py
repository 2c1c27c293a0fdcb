"""How figures are written for people: durations, rates, sizes."""

from __future__ import annotations


def seconds(value: float | None) -> str:
    """1.52 s, 120 ms, 2m05s; 'n/a' when unknown."""
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.2f} s"
    minutes, rest = divmod(value, 60)
    return f"{int(minutes)}m{rest:04.1f}s"


def milliseconds(value: float | None) -> str:
    """A record's duration (ms), written as `seconds` writes it: one form in every view."""
    return seconds(value / 1000) if value is not None else "n/a"


def nanoseconds(value: int | None) -> str:
    """An Ollama duration (ns)."""
    return seconds(value / 1e9) if value is not None else "n/a"


def per_second(value: float | None, unit: str) -> str:
    """62.17 tokens/s."""
    return f"{value:.2f} {unit}/s" if value is not None else "n/a"


def count(value: int | None, unit: str) -> str:
    """282 tokens."""
    return f"{value} {unit}" if value is not None else "n/a"


def memory_bytes(value: int | float | None) -> str:
    """Memory (RAM, swap, a process) in binary units, as Activity Monitor, htop and btop show it
    (15.9 GiB); sizes of model files and of /api/ps stay in Ollama's decimal units."""
    if value is None:
        return "n/a"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(amount) < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def memory_pair(part: int | float | None, whole: int | float | None) -> str:
    """ "127.8 / 127.9 GiB": the unit once when both figures share it."""
    first, second = memory_bytes(part), memory_bytes(whole)
    unit = first.rpartition(" ")[2]
    if unit and unit == second.rpartition(" ")[2]:
        return f"{first.rpartition(' ')[0]} / {second}"
    return f"{first} / {second}"


def human_bytes(value: int | float | None) -> str:
    """Bytes in the decimal units Ollama's CLI uses (5.2 GB)."""
    if value is None:
        return "n/a"
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(amount) < 1000:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} TB"
