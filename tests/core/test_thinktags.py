"""Inline <think> tags split from content in every way Ollama versions send them."""

from tui.core.ollama.events import AnswerDelta, AnswerWasThinking, ThinkingDelta
from tui.core.ollama.thinktags import ThinkTagSplitter


def _run(chunks: list[str]) -> tuple[str, str, list[str]]:
    splitter = ThinkTagSplitter()
    events = [event for chunk in chunks for event in splitter.feed(chunk)] + splitter.flush()
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    answer = "".join(e.text for e in events if isinstance(e, AnswerDelta))
    moved = [e.text for e in events if isinstance(e, AnswerWasThinking)]
    return thinking, answer, moved


def test_inline_tags() -> None:
    """<think>…</think> in the answer stream becomes thinking; the rest is the answer."""
    assert _run(["<think>", "Let me ", "think.", "</think>", "\n\n", "Answer."]) == ("Let me think.", "Answer.", [])


def test_tags_split_across_chunks() -> None:
    """Think tags split across chunks are still found; blanks before the tag and before the answer are dropped."""
    assert _run(["  <thi", "nk>\nhm", "m</th", "ink>\n", "\nYes"]) == ("\nhmm", "Yes", [])


def test_lone_close_moves_answer_to_thinking() -> None:
    """A </think> with no opening tag moves what came before it from answer to thinking."""
    thinking, answer, moved = _run(["Reasoning ", "here", "</think>", "\n\nThe answer"])
    assert moved == ["Reasoning here"]
    assert answer.endswith("The answer")
    assert thinking == ""


def test_no_tags_is_all_answer() -> None:
    """Text without think tags is all answer, even a word that starts like <think."""
    assert _run(["Hello", " world <thin", "king> is fine"]) == ("", "Hello world <thinking> is fine", [])


def test_unclosed_thinking_is_flushed_as_thinking() -> None:
    """Thinking that never closes is kept as thinking, a partial close tag included."""
    assert _run(["<think>still going", "</thi"]) == ("still going</thi", "", [])


def test_later_think_tags_in_answer_are_text() -> None:
    """A <think> tag after the answer has begun is answer text."""
    assert _run(["<think>a</think>", "use <think> tags"]) == ("a", "use <think> tags", [])
