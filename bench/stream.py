"""How the app keeps up with a streamed answer, and what it costs to launch.

Drives the real app against the fake Ollama (in a child process):
  (a) a 4,000-token answer at 1,000 tokens/s: delay from the server's last chunk to the whole
      text in the answer widget, and whether any character was lost (target < 250 ms);
  (b) 500 tokens at 50 tokens/s: the CPU of the real `ollamon` process (in a pseudo-terminal)
      while streaming, as a share of one core (< 15 %);
  (c) the real `ollamon` in a pseudo-terminal: launch to first paint (<= 0.6 s), launch to models
      listed (<= 1 s), and RSS after a long answer (<= 80 MB).
Run: .venv/bin/python bench/stream.py [--quick]   (--quick: tiny sizes, one run each, a smoke test)
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fake_server import ServerProcess, long_answer
from tui.app import OllamonApp
from tui.cli.main import build_monitor
from tui.core.chat.session import ChatSession
from tui.core.ollama.client import OllamaEngine
from tui.core.sampling.monitor import MonitorOptions
from tui.ui.chat.messages import AssistantMessage
from tui.ui.chat.prompt import PromptInput

ROOT = Path(__file__).resolve().parents[1]
SIZE = (int(os.environ.get("BENCH_COLS", "120")), int(os.environ.get("BENCH_ROWS", "40")))


async def _stream_once(url: str, server: ServerProcess, prompt: str) -> dict[str, float]:
    """Send one prompt to `bench:long` in a headless app built as the CLI builds it; time the end, count CPU.

    It reads only the app's public state: the session (model, loading, conversation), `streaming`,
    and the reply's `answer_text` (what ctrl+o copies).
    """
    monitor = build_monitor(MonitorOptions(), host=url)
    app = OllamonApp(ChatSession(OllamaEngine(url), monitor), model="bench:long")
    session = app.session
    try:
        async with app.run_test(size=SIZE) as pilot:
            while session.model != "bench:long" or session.loading:
                await pilot.pause(0.05)
            if session.load_failure is not None:
                raise RuntimeError(f"bench:long did not load: {session.load_failure.message}")
            app.query_one(PromptInput).text = prompt
            turns_before = len(session.conversation.turns)
            previous_end = server.last_stream_end()
            cpu_before, wall_before = time.process_time(), time.monotonic()
            await pilot.press("enter")
            # Poll only the app while it streams: asking the server would add to the app's CPU. The
            # chat worker ends after the reply's finish(), so by then the whole text is on screen.
            while len(session.conversation.turns) == turns_before or app.streaming:
                await asyncio.sleep(0.01)
            shown_at = time.time()
            cpu_after, wall_after = time.process_time(), time.monotonic()
            server_end = server.last_stream_end()
            if server_end == previous_end:
                server_end = None
            shown = app.query(AssistantMessage).last().answer_text
            expected = long_answer(app_tokens[prompt])
            return {
                "lag_ms": (shown_at - server_end) * 1000 if server_end else float("nan"),
                "cpu_share": (cpu_after - cpu_before) / (wall_after - wall_before),
                "wall_s": wall_after - wall_before,
                "lost_chars": len(expected.strip()) - len(shown.strip()),
                "text_equal": float(shown == expected),
            }
    finally:
        monitor.close()


app_tokens: dict[str, int] = {}


def measure_stream(tokens: int, rate: float, runs: int) -> list[dict[str, float]]:
    server = ServerProcess(tokens, rate)
    try:
        results = []
        for run in range(runs):
            prompt = f"run {run}"
            app_tokens[prompt] = tokens
            results.append(asyncio.run(_stream_once(server.url, server, prompt)))
        return results
    finally:
        server.stop()


def _read_until(fd: int, needle: bytes, buffer: bytearray, deadline: float) -> float | None:
    while time.monotonic() < deadline:
        if needle in buffer:
            return time.monotonic()
        ready, _, _ = select.select([fd], [], [], 0.01)
        if ready:
            try:
                buffer.extend(os.read(fd, 65536))
            except OSError:
                return None
    return None


def measure_launch(url: str, server: ServerProcess, prompt: bool, extra_args: tuple[str, ...] = ()) -> dict[str, float]:
    """Start `python -m tui` in a 120x40 pseudo-terminal and watch its output."""
    db = Path(tempfile.mkdtemp()) / "bench.sqlite"  # never the user's own records
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    started = time.monotonic()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "--host",
            url,
            "--db",
            str(db),
            *extra_args,
            *(["--model", "bench:long"] if prompt else []),
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    result: dict[str, float] = {}
    try:
        painted = _read_until(master, b"Timers", out, started + 10)
        listed = _read_until(master, b"bench:long" if prompt else b"models", out, started + 10)
        result["first_paint_s"] = (painted - started) if painted else float("nan")
        result["models_listed_s"] = (listed - started) if listed else float("nan")
        if prompt:
            _read_until(master, b"loaded in", out, time.monotonic() + 10)
            _read_until(master, b"\x00never", out, time.monotonic() + 1.0)  # let startup settle
            process = psutil.Process(child.pid)
            cpu_before, wall_before = sum(process.cpu_times()[:2]), time.monotonic()
            os.write(master, b"go\r")
            deadline = time.monotonic() + 60
            before = server.last_stream_end()
            while time.monotonic() < deadline and server.last_stream_end() == before:
                _read_until(master, b"\x00never", out, time.monotonic() + 0.1)
            result["stream_cpu_share"] = (sum(process.cpu_times()[:2]) - cpu_before) / (time.monotonic() - wall_before)
            _read_until(master, b"\x00never", out, time.monotonic() + 1.5)
        result["rss_mb"] = psutil.Process(child.pid).memory_info().rss / 1e6
    finally:
        os.write(master, b"\x11")  # ctrl+q
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
        os.close(master)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one run each: a smoke test")
    quick = parser.parse_args().quick
    runs = 1 if quick else 3
    long_tokens, slow_tokens = (200, 20) if quick else (4000, 500)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    fast = measure_stream(long_tokens, 1000.0, runs=runs)
    lags = [r["lag_ms"] for r in fast]
    print(f"(a) {long_tokens:,} tokens at 1,000 tok/s: lag from server's last chunk to full text on screen:")
    print(f"    runs {[f'{lag:.0f} ms' for lag in lags]}, median {statistics.median(lags):.0f} ms (target < 250 ms)")
    print(
        f"    lost characters: {[int(r['lost_chars']) for r in fast]}, "
        f"answer text identical: {all(r['text_equal'] for r in fast)}"
    )
    print(f"    CPU while streaming at 1,000 tok/s: {statistics.median(r['cpu_share'] for r in fast):.0%} of a core")
    slow_server = ServerProcess(slow_tokens, 50.0)
    try:
        slow = [measure_launch(slow_server.url, slow_server, prompt=True) for _ in range(runs)]
    finally:
        slow_server.stop()
    shares = [r["stream_cpu_share"] for r in slow]
    print(f"(b) {slow_tokens} tokens at 50 tok/s, the real ollamon in a 120x40 pty: its CPU while streaming:")
    print(
        f"    runs {[f'{share:.1%}' for share in shares]}, median {statistics.median(shares):.1%} "
        "of one core (target < 15 %)"
    )
    server = ServerProcess(long_tokens, 1000.0)
    try:
        launches = [measure_launch(server.url, server, prompt=False) for _ in range(runs)]
        print(f"(c) launch in a 120x40 pty, {runs} runs:")
        print(
            f"    first paint {[round(run['first_paint_s'], 2) for run in launches]} s, "
            f"median {statistics.median(run['first_paint_s'] for run in launches):.2f} s (target <= 0.6 s)"
        )
        print(
            f"    models listed {[round(run['models_listed_s'], 2) for run in launches]} s, "
            f"median {statistics.median(run['models_listed_s'] for run in launches):.2f} s (target <= 1 s)"
        )
        print(f"    RSS after launch {statistics.median(run['rss_mb'] for run in launches):.1f} MB")
        if not quick:  # the same path as (b), only with a longer answer
            after = measure_launch(server.url, server, prompt=True)
            print(f"    RSS after a {long_tokens:,}-token answer: {after['rss_mb']:.1f} MB (target <= 80 MB)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
