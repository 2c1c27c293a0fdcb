"""Classify Ollama failures by kind, matching substrings because wording changes between versions."""

from __future__ import annotations

import enum

import httpx


class ErrorKind(str, enum.Enum):
    """The error kinds of a benchmark record."""

    NOT_FOUND = "not_found"
    OUT_OF_MEMORY = "out_of_memory"
    RUNNER_CRASHED = "runner_crashed"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    OTHER = "other"

    @property
    def hint(self) -> str:
        """One line of advice a user can act on."""
        return _HINTS[self]


_HINTS = {
    ErrorKind.NOT_FOUND: "Pull it first with `ollama pull <model>`, or pick another model.",
    ErrorKind.OUT_OF_MEMORY: "The model does not fit: pick a smaller model or quantization, "
    "lower num_ctx, or close other programs.",
    ErrorKind.RUNNER_CRASHED: "The model runner stopped, often for lack of memory; "
    "see the Ollama server log.",
    ErrorKind.CONNECTION: "Is Ollama running? Start it (`ollama serve` or the Ollama app), "
    "or point ollamon at it with --host.",
    ErrorKind.TIMEOUT: "Ollama did not answer in time; it may be loading a large model or overloaded.",
    ErrorKind.OTHER: "See the message from Ollama above.",
}

_PATTERNS: list[tuple[ErrorKind, tuple[str, ...]]] = [
    (ErrorKind.OUT_OF_MEMORY, (
        "requires more system memory", "out of memory", "out-of-memory",
        "insufficient memory", "cudamalloc failed", "unable to allocate",
    )),
    (ErrorKind.RUNNER_CRASHED, (
        "process has terminated", "unexpectedly stopped", "runner process no longer running",
    )),
    (ErrorKind.NOT_FOUND, ("not found", "try pulling it first", "file does not exist")),
]


def classify_text(message: str, status: int | None = None) -> ErrorKind:
    """Kind of an error Ollama reported in words (`{"error": ...}`)."""
    lowered = message.lower()
    for kind, needles in _PATTERNS:
        if any(needle in lowered for needle in needles):
            return kind
    if status == 404:
        return ErrorKind.NOT_FOUND
    return ErrorKind.OTHER


def classify_exception(exc: BaseException) -> ErrorKind:
    """Kind of a transport failure raised by httpx or the ollama client."""
    if isinstance(exc, httpx.TimeoutException):
        return ErrorKind.TIMEOUT
    if isinstance(exc, (httpx.TransportError, ConnectionError, OSError)):
        return ErrorKind.CONNECTION
    return ErrorKind.OTHER
