"""Untrusted model output loses every terminal control sequence, even split across chunks."""

import pytest

from tui.core.ollama.sanitize import ControlStripper, strip_controls

# Shared with the export tests: every place that shows untrusted text cleans it the same way.
UNSAFE_CASES = [
    ("plain [bold]text[/]", "plain [bold]text[/]"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("title\x1b]0;pwned\x07 after", "title after"),
    ("link \x1b]8;;http://x\x1b\\here\x1b]8;;\x1b\\", "link here"),
    ("bell\x07 and null\x00 and bs\x08", "bell and null and bs"),
    ("keep\ttab\nand newline\r\n", "keep\ttab\nand newline\n"),
    ("8-bit \x9b2Jcsi", "8-bit csi"),
    ("中文\x1b[1m粗体", "中文粗体"),
    ("\x1bc reset", " reset"),
    ("C1 \x85next \x84line", "C1 next line"),
    ("8-bit osc \x9d0;pwned\x9c done", "8-bit osc  done"),
    ("dcs \x1bPq#0;2;0;0;0\x1b\\ sixel", "dcs  sixel"),
    ("charset \x1b(Bascii", "charset ascii"),
    ("apc \x1b_hidden\x1b\\ shown", "apc  shown"),
]


@pytest.mark.parametrize(("raw", "clean"), UNSAFE_CASES)
def test_strip_controls(raw: str, clean: str) -> None:
    """Escape sequences and control characters are removed; the visible text stays."""
    assert strip_controls(raw) == clean


def _stream(chunks: list[str]) -> str:
    stripper = ControlStripper()
    return "".join(stripper.feed(chunk) for chunk in chunks) + stripper.flush()


def test_sequence_split_over_chunks_is_removed() -> None:
    """CSI and OSC sequences split across stream chunks are still removed whole."""
    assert _stream(["a\x1b", "[3", "1mb", "\x1b]0;ti", "tle\x07c"]) == "abc"


def test_crlf_split_over_chunks() -> None:
    """A CR at the end of one chunk and LF at the start of the next become one newline."""
    assert _stream(["line\r", "\nnext"]) == "line\nnext"


def test_unterminated_osc_does_not_swallow_the_answer() -> None:
    """An OSC that never ends does not hide the rest of a long answer."""
    text = "\x1b]0;" + "x" * 5000
    out = _stream([text[i : i + 100] for i in range(0, len(text), 100)])
    assert "\x1b" not in out
    assert out.count("x") > 4000
