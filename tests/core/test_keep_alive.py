"""keep_alive as Ollama takes it: seconds as a number, or a Go duration; anything else fails every load."""

from __future__ import annotations

import pytest

from tui.core.chat.conversation import keep_alive_problem, keep_alive_value


@pytest.mark.parametrize("text", ["5m", "1h30m", "-1s", "1.5h", "300ms", "0", "-1", "300", "2.5", " 10m "])
def test_what_ollama_accepts_passes(text: str) -> None:
    """Numbers of seconds and Go durations are accepted, spaces around them ignored."""
    assert keep_alive_problem(text) is None


@pytest.mark.parametrize("text", ["banana", "10x", "5 m", "m", "1h-", "--1"])
def test_what_ollama_refuses_is_named(text: str) -> None:
    """A value Ollama would refuse ("time: invalid duration") gets the forms it takes."""
    assert keep_alive_problem(text) == "seconds (300, -1) or a duration (5m, 1h30m)"


@pytest.mark.parametrize(
    ("text", "sent"), [("-1", -1), ("300", 300), ("2.5", 2.5), ("5m", "5m"), ("", None), (None, None)]
)
def test_a_plain_number_is_sent_as_seconds(text: str | None, sent: str | float | None) -> None:
    """Ollama reads a number string as a duration without a unit and refuses it: numbers go as numbers."""
    assert keep_alive_value(text) == sent
