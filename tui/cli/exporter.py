"""`ollamon exporter`: the metrics endpoint without the UI; and the TUI's `--metrics` beside the app."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from tui.core.metrics.service import ListenError, MetricsService
from tui.core.records.hostfacts import gather_host, nvml_gpu_facts
from tui.core.sampling.monitor import ResourceMonitor


def run_exporter(
    listen: tuple[str, int],
    host: str,
    db: Path,
    monitor: ResourceMonitor,
    *,
    err: TextIO | None = None,
) -> int:
    """Serve /metrics until SIGINT or SIGTERM; 1 with one line when the store or the port cannot be used."""
    err = err or sys.stderr
    service = MetricsService(monitor, host, db, gather_host(gpu=nvml_gpu_facts))
    try:
        # The whole history is read now, so the first scrape reads only what is new.
        if not service.feed.update():
            print(f"ollamon exporter: records cannot be read: {service.feed.problem}", file=err)
            return 1
        try:
            url = service.listen(*listen)
        except ListenError as exc:
            print(f"ollamon exporter: {exc}", file=err)
            return 1
        monitor.start()
        print(f"ollamon exporter: serving {url} (Ollama at {host}, records in {db})", file=err, flush=True)
        _wait_for_stop()
    finally:
        service.close()
        monitor.close()
    return 0


def _wait_for_stop() -> None:
    stopped = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stopped.set())
    # Not wait() without a timeout: a signal the kernel hands to another thread (the sampler's,
    # a scrape's) would never wake it; Python runs the handler when this thread next wakes.
    while not stopped.wait(0.5):
        pass


def serve_beside_app(
    monitor: ResourceMonitor, host: str, db: Path, listen: tuple[str, int]
) -> tuple[MetricsService | None, str]:
    """The TUI's `--metrics`: the running service and a line to show, or None and why metrics are off."""
    service = MetricsService(monitor, host, db, gather_host(gpu=nvml_gpu_facts))
    try:
        url = service.listen(*listen)
    except ListenError as exc:
        service.close()
        return None, f"Metrics are off: {exc}"
    return service, f"Metrics for Prometheus at {url}"
