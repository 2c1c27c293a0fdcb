"""Classify Ollama failures by kind, matching substrings because wording changes between versions."""

from __future__ import annotations

import json

from tui.core.open_enum import OpenStrEnum


class ErrorKind(OpenStrEnum):
    """The error kinds of a benchmark record; a kind written by a newer ollamon is kept as it is."""

    NOT_FOUND = "not_found"
    OUT_OF_MEMORY = "out_of_memory"
    RUNNER_CRASHED = "runner_crashed"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    NOT_OLLAMA = "not_ollama"
    OTHER = "other"

    @property
    def hint(self) -> str:
        """One line of advice a user can act on."""
        return _HINTS.get(self, _HINTS[ErrorKind.OTHER])


_HINTS = {
    ErrorKind.NOT_FOUND: "Fetch it with `ollamon pull <model>` (or `ollama pull`), or pick another model.",
    ErrorKind.OUT_OF_MEMORY: "The model does not fit: pick a smaller model or quantization, "
    "lower num_ctx, or close other programs.",
    ErrorKind.RUNNER_CRASHED: "The model runner stopped, often for lack of memory; see the Ollama server log.",
    ErrorKind.CONNECTION: "Is Ollama running? Start it (`ollama serve` or the Ollama app), "
    "or point ollamon at it with --host.",
    ErrorKind.TIMEOUT: "Ollama did not answer in time; it may be loading a large model or overloaded.",
    ErrorKind.NOT_OLLAMA: "Check --host or OLLAMA_HOST: it must be Ollama's own address "
    "(by default http://127.0.0.1:11434), not a web server or another API.",
    ErrorKind.OTHER: "See the message from Ollama above.",
}

_PATTERNS: list[tuple[ErrorKind, tuple[str, ...]]] = [
    (
        ErrorKind.OUT_OF_MEMORY,
        (
            "requires more system memory",
            "out of memory",
            "out-of-memory",
            "insufficient memory",
            "cudamalloc failed",
            "unable to allocate",
        ),
    ),
    (
        ErrorKind.RUNNER_CRASHED,
        (
            "process has terminated",
            "unexpectedly stopped",
            "runner process no longer running",
        ),
    ),
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
    import httpx  # here, not at the top: the first screen is drawn before httpx is needed

    if isinstance(exc, httpx.TimeoutException):
        return ErrorKind.TIMEOUT
    if isinstance(exc, (httpx.TransportError, ConnectionError, OSError)):
        return ErrorKind.CONNECTION
    return ErrorKind.OTHER


class NotOllamaReply(Exception):
    """A reply Ollama would not send, such as a 200 page of HTML; the message says what came."""


def not_ollama_detail(exc: BaseException) -> str:
    """What was wrong with a reply, in a few words, for "does not answer like Ollama: …"."""
    if isinstance(exc, NotOllamaReply):
        return str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return f"a reply that is not JSON ({_excerpt(exc.doc)})"
    import pydantic

    if isinstance(exc, pydantic.ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the reply"
        return f"JSON of another shape ({where}: {first['msg']})"
    return f"JSON of another shape ({type(exc).__name__}: {_excerpt(str(exc))})"


def html_page(text: str) -> bool:
    """True for an error body that is a web page: a proxy or web server, not Ollama, sent it."""
    return text.lstrip()[:1] == "<"


def _excerpt(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "…")


def not_ollama_message(host: str, detail: str) -> str:
    """The message of a NOT_OLLAMA failure."""
    return f"the server at {host} does not answer like Ollama: {detail}"
