"""Ollama's error texts, old and new wording, map to the record's error kinds."""

import httpx
import pytest

from tui.core.ollama.errors import ErrorKind, classify_exception, classify_text


@pytest.mark.parametrize(
    ("text", "status", "kind"),
    [
        ("model 'foo' not found", 404, ErrorKind.NOT_FOUND),
        ('model "foo" not found, try pulling it first', 404, ErrorKind.NOT_FOUND),
        ("model requires more system memory (7.3 GiB) than is available (6.0 GiB)", 500, ErrorKind.OUT_OF_MEMORY),
        ("llama-server reported out-of-memory during startup: cudaMalloc failed", 500, ErrorKind.OUT_OF_MEMORY),
        ("llama runner process has terminated: exit status 2", 500, ErrorKind.RUNNER_CRASHED),
        ("llama-server process has terminated: signal: killed", 500, ErrorKind.RUNNER_CRASHED),
        (
            "model runner has unexpectedly stopped, this may be due to resource limitations",
            None,
            ErrorKind.RUNNER_CRASHED,
        ),
        ("server busy, please try again.  maximum pending requests exceeded", 503, ErrorKind.OTHER),
        ('"llama3.2" does not support thinking', 400, ErrorKind.OTHER),
    ],
)
def test_classify_text(text: str, status: int | None, kind: ErrorKind) -> None:
    """Ollama's error text and HTTP status name the kind of failure a person is shown."""
    assert classify_text(text, status) is kind


def test_classify_exception() -> None:
    """Refused, dropped and timed-out connections get their own kinds; anything else is OTHER."""
    assert classify_exception(httpx.ConnectError("refused")) is ErrorKind.CONNECTION
    assert classify_exception(httpx.RemoteProtocolError("peer closed")) is ErrorKind.CONNECTION
    assert classify_exception(httpx.ReadTimeout("slow")) is ErrorKind.TIMEOUT
    assert classify_exception(ConnectionError("x")) is ErrorKind.CONNECTION
    assert classify_exception(ValueError("x")) is ErrorKind.OTHER
    assert ErrorKind.OUT_OF_MEMORY.hint


def test_a_kind_from_a_newer_ollamon_is_kept_as_it_is() -> None:
    """An error kind this version does not know keeps its value and gets the generic hint."""
    kind = ErrorKind("gpu_reset")
    assert kind.value == "gpu_reset" and kind == "gpu_reset"
    assert kind.hint == ErrorKind.OTHER.hint
    assert ErrorKind("timeout") is ErrorKind.TIMEOUT
