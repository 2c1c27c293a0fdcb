"""Client-side timing of one turn on an injected monotonic clock, as record-schema.md defines it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def count_chars(text: str | None) -> int:
    """Unicode code points: a Chinese character counts once."""
    return len(text) if text else 0


@dataclass(frozen=True)
class TurnTimes:
    """A snapshot of a turn's timers in seconds; None where the phase never happened."""

    ttft: float | None
    thinking: float | None
    answer: float | None
    total: float
    thinking_chars: int
    answer_chars: int
    chunks: int

    @property
    def chars_per_s(self) -> float | None:
        """(thinking + answer characters) / (thinking + answer seconds): the Mac mini M4 16 GB sweep's figure."""
        seconds = (self.thinking or 0.0) + (self.answer or 0.0)
        chars = self.thinking_chars + self.answer_chars
        return chars / seconds if seconds > 0 and chars else None

    @property
    def answer_chars_per_s(self) -> float | None:
        """Answer characters over answer time."""
        if not self.answer or not self.answer_chars:
            return None
        return self.answer_chars / self.answer


class TurnTimer:
    """Marks of one turn: sent, first thinking, first answer, last chunk."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.sent = clock()
        self.first_thinking: float | None = None
        self.first_answer: float | None = None
        self.last_chunk: float | None = None
        self.ended: float | None = None
        self.thinking_chars = 0
        self.answer_chars = 0
        self.chunks = 0

    def thinking(self, text: str) -> None:
        """A thinking delta arrived."""
        now = self._mark()
        if self.first_thinking is None:
            self.first_thinking = now
        self.thinking_chars += count_chars(text)

    def answer(self, text: str) -> None:
        """An answer delta arrived."""
        now = self._mark()
        if self.first_answer is None:
            self.first_answer = now
        self.answer_chars += count_chars(text)

    def answer_was_thinking(self, text: str) -> None:
        """A lone </think>: what was counted as answer was reasoning."""
        now = self._mark()
        if self.first_thinking is None:
            self.first_thinking = self.first_answer if self.first_answer is not None else now
        self.first_answer = None
        self.answer_chars = 0
        self.thinking_chars += count_chars(text)

    def end(self) -> None:
        """The stream is over (done, failed or cancelled)."""
        if self.ended is None:
            self.ended = self._clock()

    def _mark(self) -> float:
        now = self._clock()
        self.last_chunk = now
        self.chunks += 1
        return now

    def times(self) -> TurnTimes:
        """Timers as of now (live while streaming, frozen once ended)."""
        now = self.ended if self.ended is not None else self._clock()
        # Once ended, the answer and total stop at the last chunk, not at the bookkeeping after it.
        stop = self.last_chunk if self.ended is not None and self.last_chunk is not None else now
        firsts = [t for t in (self.first_thinking, self.first_answer) if t is not None]
        ttft = min(firsts) - self.sent if firsts else None
        thinking = None
        if self.first_thinking is not None:
            thinking = (self.first_answer if self.first_answer is not None else stop) - self.first_thinking
        answer = stop - self.first_answer if self.first_answer is not None else None
        return TurnTimes(
            ttft=ttft,
            thinking=thinking,
            answer=answer,
            total=stop - self.sent,
            thinking_chars=self.thinking_chars,
            answer_chars=self.answer_chars,
            chunks=self.chunks,
        )
