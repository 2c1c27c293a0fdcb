"""Ollama's own figures from a final `done` chunk, with the rates `ollama run --verbose` prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class DoneStats:
    """Durations in nanoseconds; any field Ollama omitted is None."""

    done_reason: str | None = None
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None

    @classmethod
    def from_chunk(cls, chunk: Any) -> DoneStats:
        """Read the stats of a final ChatResponse (or anything with those attributes)."""
        return cls(**{name: getattr(chunk, name, None) for name in cls.__dataclass_fields__})

    @property
    def eval_rate(self) -> float | None:
        """Tokens per second of generation (Ollama's "eval rate")."""
        return rate(self.eval_count, self.eval_duration)

    @property
    def prompt_eval_rate(self) -> float | None:
        """Tokens per second of prompt processing ("prompt eval rate")."""
        return rate(self.prompt_eval_count, self.prompt_eval_duration)


def rate(count: int | None, duration_ns: float | None) -> float | None:
    """count / seconds with the duration as a float; None when either is missing or zero."""
    if not count or not duration_ns:
        return None
    return count / (duration_ns / NS_PER_S)
