"""When what the app draws on goes away (`textual serve` killed, the browser closed, a signal), the
app ends within seconds, and an answer in flight is stopped with its record finished as cancelled.

The process tests run `ollamon` as `textual serve` runs it (Textual's web driver over pipes),
against the fake server, with a turn streaming when the pipes close."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey  # not exported; the app's own footer imports it so too

from devtools.fake_ollama import FakeOllama, default_models
from tests.helpers.apps import make_app
from tests.helpers.pilot import wait_until
from tests.helpers.served import ServedApp, served_ollamon, statuses, wait_for
from tests.helpers.servers import REPO
from tui.app import OllamonApp
from tui.core.records.status import Status

# Within this the process must be gone once its driver is: the bound.
GONE_WITHIN_S = 5.0


@pytest.fixture
def slow_ollama() -> Iterator[FakeOllama]:
    """A fake server slow enough (10 tokens/s, about ten seconds an answer) that a turn is still streaming."""
    server = FakeOllama(default_models(), rate=10.0, version="0.12.6").start()
    yield server
    server.stop()


def start_turn(app: ServedApp, server: FakeOllama, db: Path) -> None:
    """Once the model is loading, type a prompt and Enter; wait until its record is running."""
    wait_for(lambda: any(request["path"] == "/api/generate" for request in server.requests), what="model load")
    app.send(b"Why is the sky blue?\r")
    wait_for(lambda: statuses(db) == [Status.RUNNING], what="running turn")


def ends_within(process: subprocess.Popen[bytes], seconds: float) -> int | None:
    """The exit code, or None if the process is still running `seconds` later."""
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def test_stdin_closed_ends_the_app_and_cancels_the_turn(slow_ollama: FakeOllama, tmp_path: Path) -> None:
    """The server closing the app's input (it was killed) ends the app in seconds, the running turn cancelled."""
    db = tmp_path / "records.sqlite"
    with served_ollamon(slow_ollama.url, db, tmp_path) as app:
        start_turn(app, slow_ollama, db)
        assert app.process.stdin is not None
        app.process.stdin.close()
        assert ends_within(app.process, GONE_WITHIN_S) == 0
    assert statuses(db) == [Status.CANCELLED]


def test_output_pipe_broken_ends_the_app_and_cancels_the_turn(slow_ollama: FakeOllama, tmp_path: Path) -> None:
    """Nobody reading the app's output any more (the server gone) ends the app in seconds, the turn cancelled."""
    db = tmp_path / "records.sqlite"
    with served_ollamon(slow_ollama.url, db, tmp_path) as app:
        start_turn(app, slow_ollama, db)
        app.stop_reading(close=True)  # the frame after next meets a broken pipe
        assert ends_within(app.process, GONE_WITHIN_S) == 0
    assert statuses(db) == [Status.CANCELLED]


def test_browser_leaving_cancels_the_turn(slow_ollama: FakeOllama, tmp_path: Path) -> None:
    """textual serve's quit packet (the browser tab closed) ends the app with the running turn cancelled."""
    db = tmp_path / "records.sqlite"
    with served_ollamon(slow_ollama.url, db, tmp_path) as app:
        start_turn(app, slow_ollama, db)
        app.send(b'{"type": "quit"}', kind=b"M")
        assert ends_within(app.process, GONE_WITHIN_S) == 0
    assert statuses(db) == [Status.CANCELLED]


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_signal_ends_the_served_app_and_cancels_the_turn(
    slow_ollama: FakeOllama, tmp_path: Path, number: signal.Signals
) -> None:
    """SIGTERM or SIGHUP under the web driver ends the app in seconds, the running turn cancelled."""
    db = tmp_path / "records.sqlite"
    with served_ollamon(slow_ollama.url, db, tmp_path) as app:
        start_turn(app, slow_ollama, db)
        app.process.send_signal(number)
        assert ends_within(app.process, GONE_WITHIN_S) == 0
    assert statuses(db) == [Status.CANCELLED]


def test_signal_ends_the_process_even_while_its_output_is_stuck(slow_ollama: FakeOllama, tmp_path: Path) -> None:
    """With nobody reading its output (a stopped server) the app blocks writing a frame; SIGTERM still ends it."""
    db = tmp_path / "records.sqlite"
    with served_ollamon(slow_ollama.url, db, tmp_path) as app:
        start_turn(app, slow_ollama, db)
        assert app.process.stdout is not None
        fcntl.fcntl(app.process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)  # Linux: a few frames fill it
        app.stop_reading(close=False)
        wchan = Path(f"/proc/{app.process.pid}/wchan")  # where its main thread waits in the kernel
        wait_for(lambda: wchan.read_text().endswith("pipe_write"), what="write stuck on the full pipe")
        app.process.send_signal(signal.SIGTERM)
        # Ended by the deadline, not cleanly: the loop never got back to the signal.
        assert ends_within(app.process, GONE_WITHIN_S + 2) == 128 + signal.SIGTERM


async def test_browser_shows_the_f_keys_for_keys_it_keeps(
    fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a browser the footer and the palette show f3, f4 and f10 for New, Thinking and Quit; f10 quits."""
    monkeypatch.setattr(OllamonApp, "is_web", property(lambda _app: True))
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        shown = {key.action: key.key_display for key in app.query(FooterKey)}
        assert (shown["new_chat"], shown["toggle_thinking"], shown["quit"]) == ("f3", "f4", "f10")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"New (f3)", "Thinking (f4)"} <= set(titles)
        await pilot.press("f10")
        async with asyncio.timeout(GONE_WITHIN_S):
            while app.is_running:
                await asyncio.sleep(0.01)


def test_standard_input_that_is_no_terminal_is_refused_at_once(tmp_path: Path) -> None:
    """`ollamon < /dev/null` says it needs a terminal and exits 2, instead of polling an ended input on a core."""
    env = {key: value for key, value in os.environ.items() if key != "TEXTUAL_DRIVER"}
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--host", "127.0.0.1:9", "--db", str(tmp_path / "r.sqlite")],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=GONE_WITHIN_S * 3,
    )
    assert result.returncode == 2, result.stderr
    assert "needs a terminal" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r.sqlite").exists()  # nothing started, nothing written
