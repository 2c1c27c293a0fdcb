"""Run the fake Ollama in a child process, so its work never counts as the app's."""

from __future__ import annotations

import multiprocessing as mp
import sys
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.fake_ollama import FakeModel, FakeOllama, default_models


def long_answer(tokens: int) -> str:
    """Markdown of about `tokens` word tokens: paragraphs with a list now and then."""
    words = [f"word{i}" for i in range(tokens)]
    lines = []
    for start in range(0, tokens, 50):
        chunk = " ".join(words[start : start + 50])
        lines.append(f"- {chunk}" if (start // 50) % 4 == 3 else chunk)
        lines.append("")
    return "\n".join(lines)


def bench_models(tokens: int) -> list[FakeModel]:
    """The default models plus `bench:long`, which answers with `tokens` tokens."""
    long_model = FakeModel(name="bench:long", family="llama", answer=long_answer(tokens))
    return [*default_models(), long_model]


BENCH_PROMPT_EVAL_NS = 20_000  # 50,000 prompt tokens/s


def _serve(conn: Connection, tokens: int, rate: float) -> None:
    with FakeOllama(bench_models(tokens), rate=rate) as fake:
        # A fast GPU's prompt rate: one chat of twenty long answers has an 80,000-token prompt at
        # the end, which at the default rate kept the memory run waiting for 80 s an answer.
        fake.prompt_eval_ns_per_token = BENCH_PROMPT_EVAL_NS
        conn.send(fake.url)
        while True:
            command = conn.recv()
            if command == "stop":
                return
            if command == "last_end":
                conn.send(fake.last_stream_end)
            elif command == "chats":
                conn.send(len(fake.chat_requests))
            elif isinstance(command, tuple) and command[0] == "rate":
                fake.rate = command[1]


class ServerProcess:
    """Controls the child: its URL, its rate, when its last stream ended."""

    def __init__(self, tokens: int, rate: float) -> None:
        self._conn, child = mp.Pipe()
        self._process = mp.get_context("spawn").Process(target=_serve, args=(child, tokens, rate), daemon=True)
        self._process.start()
        self.url: str = self._conn.recv()

    def last_stream_end(self) -> float | None:
        """Wall-clock time (time.time()) the server wrote its latest stream's last line."""
        self._conn.send("last_end")
        end: float | None = self._conn.recv()
        return end

    def chats(self) -> int:
        """How many /api/chat requests the server has had."""
        self._conn.send("chats")
        count: int = self._conn.recv()
        return count

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(5)
