"""`ollamon` run as `textual serve` runs it: Textual's web driver, speaking packets over stdin and stdout."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from io import BufferedReader
from pathlib import Path

from tests.helpers.servers import REPO
from tui.core.records.status import Status
from tui.core.records.store import RecordStore

# What textual-serve's AppService puts in the app's environment (textual_serve/app_service.py).
SERVED_ENV = {
    "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
    "TEXTUAL_FPS": "60",
    "TEXTUAL_COLOR_SYSTEM": "truecolor",
    "TERM_PROGRAM": "textual",
    "COLUMNS": "120",
    "ROWS": "36",
}


def packet(kind: bytes, payload: bytes) -> bytes:
    """One packet of the web driver's protocol: its kind (D data, M meta), 4 bytes of size, the payload."""
    return kind + len(payload).to_bytes(4, "big") + payload


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout:.0f} s")
        time.sleep(0.05)


def statuses(db: Path) -> list[Status]:
    """The status of each turn in the store, oldest first (none before the app has created it)."""
    if not db.exists():
        return []
    store = RecordStore.open(db)
    try:
        return [row.status for row in store.query(newest_first=False)]
    finally:
        store.close()


class ServedApp:
    """The app's process, its output read as the server reads it until `stop_reading`."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        assert process.stdout is not None
        prelude = process.stdout.readline()
        assert prelude == b"__GANGLION__\n", f"not the web driver's prelude: {prelude!r}"
        self._stop = threading.Event()
        self._close = threading.Event()
        self._reader = threading.Thread(target=self._drain, args=(process.stdout,), daemon=True)
        self._reader.start()

    def _drain(self, output: BufferedReader) -> None:
        with output:
            while not self._stop.is_set() and output.read1(65536):
                pass
            self._close.wait()  # until then the pipe stays open, unread

    def stop_reading(self, *, close: bool) -> None:
        """Read no more after the next frame: closing the pipe (a server gone) or leaving it to fill (one stopped)."""
        self._stop.set()
        if close:
            self._close.set()
            self._reader.join(timeout=10)

    def send(self, payload: bytes, kind: bytes = b"D") -> None:
        """Keys (D) or a meta packet (M), as the server forwards them from the browser."""
        assert self.process.stdin is not None
        self.process.stdin.write(packet(kind, payload))
        self.process.stdin.flush()


@contextlib.contextmanager
def served_ollamon(url: str, db: Path, tmp_path: Path) -> Iterator[ServedApp]:
    """`ollamon --host url --model qwen3:8b --db db` under the web driver; killed afterwards if still running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "--host", url, "--model", "qwen3:8b", "--db", str(db)],
        cwd=REPO,
        env={**os.environ, **SERVED_ENV, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "ollamon.err").open("wb"),
    )
    app = None
    try:
        app = ServedApp(process)
        yield app
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if app is not None:
            app.stop_reading(close=True)
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
