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
    # Since Ollama 0.30.1 prompt_eval_count includes prompt tokens served from the cache; newer
    # servers say how many of them were (None: an older server, or none said).
    prompt_eval_cached_count: int | None = None

    @classmethod
    def from_chunk(cls, chunk: Any) -> DoneStats:
        """Read the stats of a final ChatResponse (or anything with those attributes)."""
        return cls(**{name: getattr(chunk, name, None) for name in cls.__dataclass_fields__})

    @property
    def eval_rate(self) -> float | None:
        """Tokens per second of generation (Ollama's "eval rate")."""
        return rate(self.eval_count, self.eval_duration)

    @property
    def prompt_evaluated(self) -> int | None:
        """Prompt tokens actually evaluated: the count less those the server took from its cache."""
        return prompt_evaluated(self.prompt_eval_count, self.prompt_eval_cached_count)

    @property
    def prompt_eval_rate(self) -> float | None:
        """Tokens per second of prompt processing ("prompt eval rate"), cached tokens left out."""
        return rate(self.prompt_evaluated, self.prompt_eval_duration)


def prompt_evaluated(count: int | None, cached: int | None) -> int | None:
    """`count` less `cached` (never below 0); `count` as it is when the server sent no cached count."""
    if count is None or cached is None:
        return count
    return max(count - cached, 0)


def rate(count: int | None, duration_ns: float | None) -> float | None:
    """count / seconds with the duration as a float; None when either is missing or zero."""
    if not count or not duration_ns:
        return None
    return count / (duration_ns / NS_PER_S)
