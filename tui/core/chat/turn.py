"""The turn in flight."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.core.chat.timers import TurnTimer
from tui.core.ollama.events import Failure
from tui.core.ollama.stats import DoneStats

if TYPE_CHECKING:
    from tui.core.records.schema import Record


@dataclass
class ActiveTurn:
    """The turn in flight: what the live timers and progress displays read."""

    prompt: str
    model: str
    timer: TurnTimer
    cold_before: bool
    record: Record | None = None
    mark: float | None = None
    stats: DoneStats | None = None
    failure: Failure | None = None
    cancelled: bool = False
    thinking: str = ""
    answer: str = ""
    error: BaseException | None = field(default=None, repr=False)

    @property
    def phase(self) -> str:
        """waiting (sent, nothing back yet), thinking or answering."""
        if self.timer.first_answer is not None:
            return "answering"
        return "thinking" if self.timer.first_thinking is not None else "waiting"
