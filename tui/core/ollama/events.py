"""Typed events of one chat stream, as the engine hands them to the UI or a headless runner."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.stats import DoneStats


@dataclass(frozen=True)
class ThinkingDelta:
    """More reasoning text."""

    text: str


@dataclass(frozen=True)
class AnswerDelta:
    """More answer text."""

    text: str


@dataclass(frozen=True)
class AnswerWasThinking:
    """A lone `</think>` arrived: the answer text so far was reasoning and moves to thinking."""

    text: str


@dataclass(frozen=True)
class Done:
    """The stream ended; `stats` is None when Ollama sent no final `done` line."""

    stats: DoneStats | None


@dataclass(frozen=True)
class Failure:
    """The request failed before or during the stream."""

    kind: ErrorKind
    message: str
    status: int | None = None

    @property
    def hint(self) -> str:
        """What the user can do about it."""
        return self.kind.hint


StreamEvent = ThinkingDelta | AnswerDelta | AnswerWasThinking | Done | Failure
