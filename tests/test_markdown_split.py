"""How a streamed answer is cut into blocks: at blank lines, never inside a code fence."""

from __future__ import annotations

from tui.ui.chat.markdown_text import split_blocks


def test_blocks_end_at_blank_lines_and_the_rest_is_the_tail() -> None:
    """Blocks end at blank lines, and the text after the last one is the tail still being written."""
    assert split_blocks("one\n\ntwo\nstill two\n\nthr") == (["one\n", "two\nstill two\n"], "thr")


def test_a_blank_line_inside_a_code_fence_does_not_end_the_block() -> None:
    """A blank line inside a code fence does not end the block."""
    text = "```python\nx = 1\n\ny = 2\n```\n\nafter"
    assert split_blocks(text) == (["```python\nx = 1\n\ny = 2\n```\n"], "after")


def test_an_open_fence_keeps_everything_in_the_tail() -> None:
    """A fence not yet closed keeps everything from it on in the tail."""
    assert split_blocks("intro\n\n~~~\ncode\n\nmore code") == (["intro\n"], "~~~\ncode\n\nmore code")


def test_repeated_blank_lines_make_no_empty_blocks() -> None:
    """Several blank lines in a row make no empty blocks."""
    assert split_blocks("a\n\n\n\nb\n\n") == (["a\n", "b\n"], "")


def test_a_blank_line_not_yet_ended_is_not_a_boundary() -> None:
    """A last line of spaces without its newline is not a boundary yet: it may become a list item."""
    # "a\n" then "  " may still become "  - item": wait for its newline.
    assert split_blocks("a\n  ") == ([], "a\n  ")
