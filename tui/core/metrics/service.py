"""The metrics endpoint: prometheus_client's text exposition of the live gauges and of the kept
per-model figures (exposition.py), served over HTTP."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, generate_latest

from tui.core.metrics.collector import LiveCollector
from tui.core.metrics.exposition import TurnsExposition
from tui.core.metrics.feed import TurnFeed
from tui.core.metrics.listen import url_of
from tui.core.metrics.probe import OllamaProbe
from tui.core.records.schema import HostInfo
from tui.core.sampling.monitor import ResourceMonitor

# The text format the exposition is in (plain metric names), understood by every Prometheus.
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


class ListenError(Exception):
    """The endpoint could not listen (port in use, no permission, no such address); one line."""


class MetricsService:
    """Live gauges from `monitor`, Ollama at `ollama_host` asked at scrape time, the turns in `db`."""

    def __init__(self, monitor: ResourceMonitor, ollama_host: str, db: Path, host: HostInfo) -> None:
        self.feed = TurnFeed(db)
        self._probe = OllamaProbe(ollama_host)
        self._live = CollectorRegistry()
        self._live.register(LiveCollector(monitor, self._probe, self.feed, host))
        self._turns = TurnsExposition(self.feed.totals)
        self._lock = threading.Lock()  # one scrape at a time reads the store and the cache
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def exposition(self) -> bytes:
        """What a scrape answers: the turns finished since the last scrape are read first."""
        with self._lock:
            self.feed.update()
            return generate_latest(self._live) + self._turns.text()

    def listen(self, address: str, port: int) -> str:
        """Serve the exposition in a daemon thread; returns its URL (with the port chosen when 0 was asked)."""
        try:
            # The address family the address is in (an IPv6 address needs AF_INET6).
            found = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
            server_class = type("Server", (_Server,), {"address_family": found[0]})
            self._server = make_server(str(found[4][0]), port, self._app, server_class, _QuietHandler)
        except OSError as exc:  # socket.gaierror included: no such address
            why = exc.strerror or str(exc) or type(exc).__name__
            raise ListenError(f"cannot listen on {url_of(address, port)}: {why}") from exc
        self._thread = threading.Thread(target=self._server.serve_forever, name="ollamon-metrics", daemon=True)
        self._thread.start()
        return url_of(address, self._server.server_port)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b""]
        body = self.exposition()
        start_response("200 OK", [("Content-Type", TEXT_FORMAT), ("Content-Length", str(len(body)))])
        return [body]

    def close(self) -> None:
        """Stop serving, close Ollama's connection and the store."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._probe.close()
        self.feed.close()


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    """A thread per scrape, so a slow one (Ollama not answering) does not hold up the next."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line per scrape on stderr (the TUI's terminal, the exporter's log)."""
