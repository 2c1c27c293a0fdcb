"""Streaming, launch and memory: the real app against the fake Ollama, each beside its floor.

The floors are bare Textual apps doing the same visible work (bench/floors.py), started in the
same run, so the ratio, not the machine, decides.
  (a) in-process: a 4,000-token answer at 1,000 tok/s; delay from the server's last chunk to the
      whole text in the answer widget, and whether any character was lost (target < 250 ms);
  (b) 500 tokens at 50 tok/s into the real `ollamon` in a pty: its CPU while streaming, beside the
      stream floor (one Markdown fed with Markdown.get_stream) (goal <= 0.3x and < 10 % of a core),
      and the receive floor (the same app drawing nothing);
  (c) launch to first paint, beside the paint floor (goal <= 1.5x), and launch to model names
      shown (goal <= 2x the floor's first paint), also beside the client floor (the paint floor
      listing the models with the `ollama` package);
  (d) RSS after 1 and after 20 answers of 4,000 tokens (goal <= 80 MB and <= 100 MB).
Run: .venv/bin/python bench/stream.py [--quick]   (--quick: tiny sizes, one run each, a smoke test)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fake_server import ServerProcess, long_answer
from bench.startup import measure_launches, print_launches, ratios, runs_text
from bench.terminal import SIZE, Terminal, ollamon_command, python_command, running
from tui.app import OllamonApp
from tui.cli.main import build_monitor
from tui.core.chat.session import ChatSession
from tui.core.ollama.client import OllamaEngine
from tui.core.sampling.monitor import MonitorOptions
from tui.ui.chat.messages import AssistantMessage
from tui.ui.chat.prompt import PromptInput


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
# A prompt that has not reached the server by then is sent again (Enter once more).
RETRY_ENTER_S = 5.0


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


def _stream_share(terminal: Terminal, server: ServerProcess, prompt: bytes) -> float:
    """CPU share of one core from Enter to the server's last chunk (and a short tail to render it)."""
    before_end, before_chats = server.last_stream_end(), server.chats()
    cpu_before, wall_before = terminal.cpu_seconds(), time.monotonic()
    terminal.type(prompt + b"\r")
    deadline = time.monotonic() + 120
    enter_again = time.monotonic() + RETRY_ENTER_S
    while time.monotonic() < deadline and server.last_stream_end() == before_end:
        terminal.drain(0.1)
        if time.monotonic() > enter_again and server.chats() == before_chats:
            # Still drawing the last answer, it said "Still answering" and kept the prompt: send again.
            terminal.type(b"\r")
            enter_again = time.monotonic() + RETRY_ENTER_S
    terminal.drain(0.5)
    return (terminal.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before)


def ollamon_stream(url: str, server: ServerProcess) -> float:
    with running(ollamon_command(url, "--model", "bench:long"), b"loaded in", 1.0) as terminal:
        return _stream_share(terminal, server, b"go")


def floor_stream(url: str, server: ServerProcess, floor: str = "stream") -> float:
    with running(python_command("-m", "bench.floors", floor, "--host", url), b"Timers", 1.0) as terminal:
        return _stream_share(terminal, server, b"go")


def memory_after_answers(url: str, server: ServerProcess, answers: int) -> list[float]:
    """RSS (MB) at launch and after each answer, one chat of `answers` turns."""
    with running(ollamon_command(url, "--model", "bench:long"), b"loaded in", 1.0) as terminal:
        rss = [terminal.rss_mb()]
        for answer in range(answers):
            _stream_share(terminal, server, f"answer {answer}".encode())
            terminal.drain(1.0)
            rss.append(terminal.rss_mb())
        return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one run each: a smoke test")
    quick = parser.parse_args().quick
    runs = 1 if quick else 3
    long_tokens, slow_tokens, answers = (200, 20, 2) if quick else (4000, 500, 20)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, pty {SIZE[0]}x{SIZE[1]}")
    fast = measure_stream(long_tokens, 1000.0, runs=runs)
    lags = [r["lag_ms"] for r in fast]
    print(f"(a) {long_tokens:,} tokens at 1,000 tok/s: lag from server's last chunk to full text on screen:")
    print(f"    runs {runs_text(lags, 'ms', 0)} (target < 250 ms)")
    print(
        f"    lost characters: {[int(r['lost_chars']) for r in fast]}, "
        f"answer text identical: {all(r['text_equal'] for r in fast)}"
    )

    slow_server = ServerProcess(slow_tokens, 50.0)
    try:
        shares, floors, receiving = [], [], []
        for _ in range(runs):  # interleaved, so a busy spell hits all alike
            shares.append(ollamon_stream(slow_server.url, slow_server))
            floors.append(floor_stream(slow_server.url, slow_server))
            receiving.append(floor_stream(slow_server.url, slow_server, "receive"))
    finally:
        slow_server.stop()
    shares_ratio = ratios(shares, floors)
    print(f"(b) {slow_tokens} tokens at 50 tok/s, CPU while streaming (share of one core):")
    print(f"    ollamon {runs_text([s * 100 for s in shares], '%', 1)}")
    print(f"    floor   {runs_text([f * 100 for f in floors], '%', 1)}")
    print(f"    ratio   {runs_text(shares_ratio, '', 2)} (goal <= 0.30, and ollamon < 10 %)")
    print(f"    receive floor {runs_text([r * 100 for r in receiving], '%', 1)} (the same tokens received, none drawn)")

    server = ServerProcess(long_tokens, 1000.0)
    try:
        print_launches(measure_launches(server.url, runs))
        rss = memory_after_answers(server.url, server, answers)
        print(f"(d) RSS of one chat of {answers} answers of {long_tokens:,} tokens:")
        print(f"    at launch {rss[0]:.1f} MB, after 1 answer {rss[1]:.1f} MB (goal <= 80 MB), ", end="")
        print(f"after {answers} {rss[-1]:.1f} MB (goal <= 100 MB)")
        steps = [round(later - earlier, 1) for earlier, later in itertools.pairwise(rss[1:])]
        print(f"    growth per answer after the first: {steps} MB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
