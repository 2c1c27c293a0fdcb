"""Ollama asked at scrape time, from a thread that is not an event loop (the metrics server's)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from dataclasses import dataclass

from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.models import LoadedModel

# A scrape waits at most this long for Ollama (Prometheus' default scrape timeout is 10 s).
PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class ServerView:
    """What Ollama answered at one scrape: whether it did, its version (the last known when it
    did not) and the models in memory."""

    up: bool
    version: str
    running: tuple[LoadedModel, ...] = ()


class OllamaProbe:
    """/api/version and /api/ps on demand. The client lives on its own event loop in a daemon
    thread that sleeps between scrapes: no polling, and the connection is kept between them."""

    def __init__(self, host: str, *, timeout: float = PROBE_TIMEOUT_S) -> None:
        self._engine = OllamaEngine(host)
        self._timeout = timeout
        self._version = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ollamon-metrics-ollama", daemon=True)
        self._thread.start()
        # Importing the client library is slow: done now, not in the first scrape.
        self._loop.call_soon_threadsafe(self._engine.prepare)

    def look(self) -> ServerView:
        """Ask Ollama now; down (never an exception) when it does not answer in time."""
        future = asyncio.run_coroutine_threadsafe(self._ask(), self._loop)
        try:
            return future.result(self._timeout + 1.0)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return ServerView(False, self._version)

    async def _ask(self) -> ServerView:
        try:
            async with asyncio.timeout(self._timeout):
                version, running = await asyncio.gather(self._engine.version(), self._engine.ps())
        except (OllamaError, TimeoutError):
            return ServerView(False, self._version)
        self._version = version
        return ServerView(True, version, tuple(running))

    def close(self) -> None:
        """Close the connection and end the thread."""
        if self._loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._engine.aclose(), self._loop).result(5)
        except Exception:  # closing a dead connection must not stop the exit
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
