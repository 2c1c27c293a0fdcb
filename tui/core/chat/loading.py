"""How long a model took to load for a turn, and whether it was a cold load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.core.ollama.models import LoadedModel
from tui.core.ollama.stats import DoneStats

if TYPE_CHECKING:
    from tui.core.records.schema import LoadInfo

# Ollama's load_duration is milliseconds when the model was in memory, seconds when it loaded.
LOADED_THRESHOLD_NS = 250_000_000


@dataclass(frozen=True)
class LoadTiming:
    """An explicit load (choosing a model), timed on the wall clock."""

    model: str
    seconds: float
    cold: bool


def reloaded(before: LoadedModel | None, after: LoadedModel | None) -> bool:
    """/api/ps shows another context length after a load: Ollama started a new runner.

    A chat without its own num_ctx cannot tell from the settings alone whether the model in
    memory (loaded earlier with another num_ctx) fits; Ollama's answer to the load says so.
    """
    if before is None or after is None or None in (before.context_length, after.context_length):
        return False
    return before.context_length != after.context_length


def turn_load(
    model: str,
    explicit: LoadTiming | None,
    cold_before: bool,
    stats: DoneStats | None,
    running: list[LoadedModel],
    predicted: dict[str, Any] | None,
) -> LoadInfo:
    """A turn's load: the explicit load just before it, if it was of this model; else Ollama's load_duration."""
    from tui.core.chat.recorder import load_info  # the records load with the first turn, not before the first screen

    duration = stats.load_duration if stats else None
    ollama_ms = duration / 1e6 if duration is not None else None
    if explicit is not None and explicit.model == model:
        return load_info(model, explicit.cold, explicit.seconds * 1000, running, ollama_ms, predicted)
    cold = cold_before or (duration is not None and duration >= LOADED_THRESHOLD_NS)
    return load_info(model, cold, ollama_ms, running, ollama_ms, predicted)
