"""The metrics endpoint: the collector on its own registry, served over HTTP by prometheus_client."""

from __future__ import annotations

import threading
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from tui.core.metrics.collector import OllamonCollector
from tui.core.metrics.feed import TurnFeed
from tui.core.metrics.listen import url_of
from tui.core.metrics.probe import OllamaProbe
from tui.core.records.schema import HostInfo
from tui.core.sampling.monitor import ResourceMonitor


class ListenError(Exception):
    """The endpoint could not listen (port in use, no permission, no such address); one line."""


class MetricsService:
    """Live gauges from `monitor`, Ollama at `ollama_host` asked at scrape time, the turns in `db`."""

    def __init__(self, monitor: ResourceMonitor, ollama_host: str, db: Path, host: HostInfo) -> None:
        self.feed = TurnFeed(db, host.hostname)
        self._probe = OllamaProbe(ollama_host)
        self.registry = CollectorRegistry()
        self.registry.register(OllamonCollector(monitor, self._probe, self.feed, host))
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def listen(self, address: str, port: int) -> str:
        """Serve /metrics in a daemon thread; returns its URL (with the port chosen when 0 was asked)."""
        try:
            self._server, self._thread = start_http_server(port, addr=address, registry=self.registry)
        except OSError as exc:
            why = exc.strerror or str(exc) or type(exc).__name__
            raise ListenError(f"cannot listen on {url_of(address, port)}: {why}") from exc
        return url_of(address, self._server.server_port)

    def close(self) -> None:
        """Stop serving, close Ollama's connection and the store."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._probe.close()
        self.feed.close()
