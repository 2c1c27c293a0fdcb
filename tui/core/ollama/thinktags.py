"""Split inline `<think>…</think>` reasoning out of streamed content (Ollama before v0.12.4)."""

from __future__ import annotations

import enum

from tui.core.ollama.events import AnswerDelta, AnswerWasThinking, ThinkingDelta

OPEN = "<think>"
CLOSE = "</think>"

TagEvent = ThinkingDelta | AnswerDelta | AnswerWasThinking


class _Mode(enum.Enum):
    START = "start"  # nothing but whitespace yet: an opening tag may still come
    THINKING = "thinking"  # inside <think>
    UNTAGGED = "untagged"  # answer without an opening tag: a lone </think> may still come
    AFTER_CLOSE = "after_close"  # reasoning closed: skip the blank lines before the answer
    ANSWER = "answer"  # plain answer, no more tags expected


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkTagSplitter:
    """Feed content deltas, get thinking/answer events; tags split across chunks are handled.

    A lone `</think>` (the template pre-filled the opening tag) turns everything shown as
    answer so far into reasoning, announced by one `AnswerWasThinking` event.
    """

    def __init__(self) -> None:
        self._mode = _Mode.START
        self._held = ""
        self._untagged_so_far: list[str] = []

    def feed(self, text: str) -> list[TagEvent]:
        """Events for one content delta."""
        self._held += text
        events: list[TagEvent] = []
        while self._held:
            before = (self._mode, len(self._held))
            self._step(events)
            if (self._mode, len(self._held)) == before:
                break  # waiting for more text to decide
        return events

    def flush(self) -> list[TagEvent]:
        """Whatever is still held back once the stream has ended."""
        text, self._held = self._held, ""
        if not text or (self._mode is _Mode.AFTER_CLOSE and not text.strip()):
            return []
        if self._mode is _Mode.THINKING:
            return [ThinkingDelta(text)]
        return [AnswerDelta(text)]

    def _step(self, events: list[TagEvent]) -> None:
        held = self._held
        if self._mode is _Mode.START:
            stripped = held.lstrip()
            if not stripped or OPEN.startswith(stripped):
                return
            if stripped.startswith(OPEN):
                self._mode, self._held = _Mode.THINKING, stripped[len(OPEN) :]
            else:
                self._mode = _Mode.UNTAGGED
        elif self._mode is _Mode.THINKING:
            end = held.find(CLOSE)
            if end >= 0:
                if end:
                    events.append(ThinkingDelta(held[:end]))
                self._mode, self._held = _Mode.AFTER_CLOSE, held[end + len(CLOSE) :]
            else:
                self._emit_safe(events, ThinkingDelta, CLOSE)
        elif self._mode is _Mode.UNTAGGED:
            end = held.find(CLOSE)
            if end >= 0:
                reasoning = "".join(self._untagged_so_far) + held[:end]
                self._untagged_so_far = []
                events.append(AnswerWasThinking(reasoning))
                self._mode, self._held = _Mode.AFTER_CLOSE, held[end + len(CLOSE) :]
            else:
                self._untagged_so_far.append(self._emit_safe(events, AnswerDelta, CLOSE))
        elif self._mode is _Mode.AFTER_CLOSE:
            stripped = held.lstrip()
            self._held = stripped
            if stripped:
                self._mode = _Mode.ANSWER
        else:
            events.append(AnswerDelta(held))
            self._held = ""

    def _emit_safe(self, events: list[TagEvent], kind: type, tag: str) -> str:
        """Emit all held text except an end that could be the start of `tag`."""
        keep = _partial_tag_suffix(self._held, tag)
        text = self._held[: len(self._held) - keep]
        self._held = self._held[len(self._held) - keep :]
        if text:
            events.append(kind(text))
        return text
