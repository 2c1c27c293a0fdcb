"""Remove terminal control sequences from untrusted model output, also across chunk boundaries."""

from __future__ import annotations

import re

# CSI (ESC [ or 8-bit 0x9b) ... final byte; OSC/DCS/PM/APC/SOS (ESC ] P ^ _ X, or 8-bit forms)
# up to BEL or ST; any other two-byte ESC sequence; then lone C0/C1 controls except \t and \n.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]",
    re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# An unfinished sequence at the end of a chunk: hold it back until the next chunk.
_UNFINISHED = re.compile(
    r"(?:(?:\x1b\[|\x9b)[0-?]*[ -/]*|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x9c]*\x1b?|\x1b[ -/]*)\Z",
    re.DOTALL,
)
# Bound what is held back so a never-terminated OSC cannot swallow the whole answer.
_MAX_PENDING = 4096


def strip_controls(text: str) -> str:
    """Drop escape sequences and control characters; keep tab and newline (CR LF becomes LF)."""
    text = text.replace("\r\n", "\n")
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


class ControlStripper:
    """Streaming form of `strip_controls`: an escape split over two chunks is still removed."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, chunk: str) -> str:
        """Clean `chunk`, holding back a trailing unfinished escape sequence."""
        text = self._pending + chunk
        self._pending = ""
        match = _UNFINISHED.search(text)
        if match and len(text) - match.start() <= _MAX_PENDING:
            self._pending = text[match.start() :]
            text = text[: match.start()]
        if text.endswith("\r"):
            self._pending = "\r" + self._pending
            text = text[:-1]
        return strip_controls(text)

    def flush(self) -> str:
        """What is left at the end of the stream, cleaned."""
        text, self._pending = self._pending, ""
        return strip_controls(text)
