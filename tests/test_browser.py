"""ollamon in a real browser: `textual serve` runs it, Debian's headless Chromium drives it, and when
the server dies under a connected browser the app does not stay behind.

Needs the `chromium` package (`.ci/system-packages` installs it); skips, naming it, without."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from devtools.fake_ollama import FakeOllama, default_models
from tests.helpers.browser import chromium_path, headless_chromium
from tests.helpers.served import statuses, wait_for
from tests.helpers.servers import REPO, free_port
from tui.core.records.status import Status

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="needs a browser: Debian's package chromium (.ci/system-packages installs it)"
)
TEXTUAL = Path(sys.executable).with_name("textual")  # textual-dev's command, in the dev extra
PROMPT = "Why is the sky blue?"
GONE_WITHIN_S = 5.0
# "A few percent of a core" over GONE_WITHIN_S, for a process that only has to end.
MOST_CPU_S = 0.05 * GONE_WITHIN_S


@contextlib.contextmanager
def textual_serve(url: str, db: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`textual serve --command "ollamon …"` on `port`, as the README shows it; killed afterwards with all it ran."""
    command = f"{sys.executable} -m tui --host {url} --model qwen3:8b --db {db}"
    server = subprocess.Popen(
        [str(TEXTUAL), "serve", "--command", "--host", "127.0.0.1", "--port", str(port), command],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so everything it started can be killed at the end
    )
    try:
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def served_app(server: subprocess.Popen[bytes]) -> psutil.Process:
    """The ollamon process the server started for the browser."""
    found = [child for child in psutil.Process(server.pid).children(recursive=True) if "tui" in child.cmdline()]
    assert len(found) == 1, found
    return found[0]


async def test_chat_in_chromium_then_the_server_dies(tmp_path: Path) -> None:
    """A prompt typed in Chromium is answered and recorded ok; the server killed, the app exits within 5 s, idle."""
    fake = FakeOllama(default_models(), rate=200.0, version="0.12.6").start()
    db, port = tmp_path / "records.sqlite", free_port()
    try:
        with textual_serve(fake.url, db, port, tmp_path / "serve.log") as server:
            wait_for(lambda: listening(port), what="textual serve")
            async with headless_chromium(tmp_path / "profile") as page:
                await page.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
                await page.wait_for("document.body.classList.contains('-first-byte')")  # the app's first frame
                await asyncio.to_thread(
                    wait_for, lambda: any(r["path"] == "/api/generate" for r in fake.requests), what="model load"
                )
                await page.focus_terminal()
                await page.type_text(PROMPT)
                await page.press("Enter", 13, text="\r")
                await asyncio.to_thread(wait_for, lambda: statuses(db) == [Status.OK], what="answer recorded ok")
                chats = [r["body"] for r in fake.requests if r["path"] == "/api/chat"]
                assert [body["messages"][-1]["content"] for body in chats] == [PROMPT]
                app = served_app(server)
                before = cpu_seconds(app)
                server.send_signal(signal.SIGHUP)  # as when the SSH session that ran it closes
            used, took = await asyncio.to_thread(cpu_until_gone, app, before)
        assert took < GONE_WITHIN_S, f"ollamon still running {took:.1f} s after the server died"
        assert used <= MOST_CPU_S, f"ollamon used {used:.2f} s of CPU on its way out"
    finally:
        fake.stop()


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def cpu_until_gone(app: psutil.Process, before: float) -> tuple[float, float]:
    """CPU seconds the process used since `before` (read every 20 ms while it lasts), and how long it lasted."""
    start = time.monotonic()
    used = 0.0
    while time.monotonic() - start < GONE_WITHIN_S + 1:
        try:
            now = cpu_seconds(app)
            if app.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        used = now - before
        time.sleep(0.02)
    return used, time.monotonic() - start
