"""What a chat session tells its listener (the TUI or `bench`): loads, turns, their text and ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.core.chat.timers import TurnTimes
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.events import AnswerDelta, AnswerWasThinking, Failure, ThinkingDelta
from tui.core.ollama.models import LoadedModel
from tui.core.ollama.stats import DoneStats
from tui.core.sampling.monitor import AnswerCost

if TYPE_CHECKING:
    from tui.core.records.schema import LoadInfo, Record, Sample, Status


@dataclass(frozen=True)
class LoadStarted:
    model: str


@dataclass(frozen=True)
class LoadFinished:
    """`cold`: the model was not in memory (with this context length) before; `remote_host`: a
    cloud model, which loads nothing here."""

    model: str
    seconds: float
    cold: bool
    remote_host: str | None = None


@dataclass(frozen=True)
class LoadFailed:
    model: str
    failure: Failure


@dataclass(frozen=True)
class Unloaded:
    """`bench --cold`: what was unloaded, and whether /api/ps confirmed it is gone."""

    models: tuple[str, ...]
    confirmed: bool


@dataclass(frozen=True)
class TurnStarted:
    prompt: str
    model: str
    history_messages: int


@dataclass(frozen=True)
class RecordProblem:
    """The store could not take the turn: the chat goes on, the person is told."""

    text: str


def turn_status(cancelled: bool, failure: Failure | None) -> Status:
    """How a turn ended, as its record says it: a stop wins over an error that came with it."""
    from tui.core.records.schema import Status  # the records load with the first turn, not before the first screen

    if cancelled:
        return Status.CANCELLED
    if failure is not None:
        return Status.TIMEOUT if failure.kind is ErrorKind.TIMEOUT else Status.FAILED
    return Status.OK


@dataclass(frozen=True)
class TurnEnded:
    """How a turn ended, with every figure its record was completed from (`samples`: the
    resource timeline during the turn)."""

    prompt: str
    model: str
    times: TurnTimes
    stats: DoneStats | None
    failure: Failure | None
    cancelled: bool
    cost: AnswerCost | None
    load: LoadInfo
    thinking: str
    answer: str
    record: Record | None
    running: tuple[LoadedModel, ...] = ()
    samples: tuple[Sample, ...] = ()
    # A cloud model's host: the answer was computed there, so this machine's figures are not
    # its cost (`cost` and `samples` are then empty).
    remote_host: str | None = None

    @property
    def status(self) -> Status:
        return turn_status(self.cancelled, self.failure)


SessionEvent = (
    LoadStarted
    | LoadFinished
    | LoadFailed
    | Unloaded
    | TurnStarted
    | RecordProblem
    | ThinkingDelta
    | AnswerDelta
    | AnswerWasThinking
    | TurnEnded
)
