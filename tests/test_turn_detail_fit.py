"""The turn detail's Load box: the fit advisor's predicted split beside what Ollama did, and the context used."""

from __future__ import annotations

from typing import Any

from tests.helpers.records import record, turn
from tui.core.records.schema import LoadInfo
from tui.ui.history.turn_detail import load_figures


def fit_line(predicted: Any, processor: str | None) -> str | None:
    """The Load box's `CPU predicted` value for a turn with this prediction and observed processor."""
    figures = dict(load_figures(record(load=LoadInfo(cold=True, processor=processor, predicted=predicted))))
    return figures.get("CPU predicted")


def test_the_predicted_split_is_shown_beside_ollamas() -> None:
    """One line: the predicted CPU share, then Ollama's."""
    assert fit_line({"processor": "22%/78% CPU/GPU"}, "26%/74% CPU/GPU") == "22% · Ollama 26%"
    assert fit_line({"processor": "100% GPU"}, "100% GPU") == "0% · Ollama 0%"


def test_a_missing_observation_is_a_dash() -> None:
    """Without Ollama's split the prediction stands beside a dash."""
    assert fit_line({"processor": "100% CPU"}, None) == "100% · Ollama —"


def test_no_or_a_damaged_prediction_shows_no_line() -> None:
    """A turn without a prediction, or with one that is not a split, has no `CPU predicted` line."""
    assert fit_line(None, "100% GPU") is None
    assert fit_line({"processor": 7}, "100% GPU") is None
    assert fit_line(["not", "a", "dict"], "100% GPU") is None


def test_the_context_shown_is_the_one_the_model_ran_with() -> None:
    """The Load box says the context the model ran with (4096, as the Processor panel did), its maximum apart."""
    figures = dict(load_figures(turn(0)))
    assert figures["context used"] == "4096 tokens"
    assert figures["max context"] == "40960 tokens"
    assert "context" not in figures  # no unlabelled figure a reader could take for the one in use
