"""A program in a pseudo-terminal, watched from outside as a person's terminal would see it.

CPU is the whole process tree's (user + system), so work moved into a child or a thread still
counts; output is read and dropped as fast as it comes, as a terminal emulator would.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
# The size the issue measured at (tmux at 160x48); BENCH_COLS/BENCH_ROWS change it.
SIZE = (int(os.environ.get("BENCH_COLS", "160")), int(os.environ.get("BENCH_ROWS", "48")))
CTRL_Q = b"\x11"


def python_command(*args: str) -> list[str]:
    """This interpreter running a module of this checkout, e.g. `python -m tui --host ...`."""
    return [sys.executable, *args]


def ollamon_command(url: str, *extra: str) -> list[str]:
    """The real `ollamon` against `url`, on a fresh database (never the user's own records)."""
    db = Path(tempfile.mkdtemp()) / "bench.sqlite"
    return python_command("-m", "tui", "--host", url, "--db", str(db), *extra)


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """One program started in a pty of SIZE; `close` quits it with ctrl+q (killed if it hangs)."""

    def __init__(self, command: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.output = bytearray()
        master, slave = pty.openpty()
        columns, rows = SIZE
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.started = time.monotonic()
        self._child = subprocess.Popen(
            list(command),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            # COLUMNS and LINES override the pty's size in Textual (pytest's workers set them).
            env={
                # A person's Python caches bytecode. Where that is switched off (this sandbox sets
                # PYTHONDONTWRITEBYTECODE), every launch compiles ollamon's ~100 modules again,
                # 150-200 ms the floors (installed Textual, compiled when pip put it there) never pay.
                **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
                "TERM": "xterm-256color",
                "COLORTERM": "truecolor",
                "COLUMNS": str(columns),
                "LINES": str(rows),
                **(env or {}),
            },
            cwd=ROOT,
            close_fds=True,
            # The pty is the program's controlling terminal: if this process dies without close(),
            # the program gets SIGHUP. Without one it lived on, Textual's input thread spinning at
            # 100 % of a core on the dead pty, and skewed every later measurement.
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self._fd = master
        self.process = psutil.Process(self._child.pid)

    def wait_for(self, needle: bytes, timeout: float = 60.0) -> float | None:
        """Seconds since launch when `needle` first appeared in the output; None on timeout."""
        deadline = time.monotonic() + timeout
        start = max(0, len(self.output) - len(needle))
        while time.monotonic() < deadline:
            if needle in self.output[start:]:
                return time.monotonic() - self.started
            self._read(0.01)
        return None

    def drain(self, seconds: float) -> None:
        """Read and drop output for `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._read(min(left, 0.2))
        del self.output[:-4096]  # a long run keeps only what a needle could still span

    def screen_tail(self) -> str:
        """The last output, readable, for an error message."""
        return self.output[-600:].decode(errors="replace")

    def type(self, keys: bytes) -> None:
        os.write(self._fd, keys)

    def cpu_seconds(self) -> float:
        """User + system CPU of the program and every child it has now."""
        total = 0.0
        for process in (self.process, *self.process.children(recursive=True)):
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def rss_mb(self) -> float:
        return self.process.memory_info().rss / 1e6

    def close(self) -> None:
        try:
            os.write(self._fd, CTRL_Q)
            self._child.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self._child.kill()
            self._child.wait(5)
        finally:
            os.close(self._fd)

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if ready:
            try:
                self.output.extend(os.read(self._fd, 65536))
            except OSError:
                time.sleep(timeout)  # the child has gone: nothing more will come


def cpu_share(terminal: Terminal, seconds: float) -> float:
    """Share of one core the program used over the next `seconds` (1.0 = one core busy)."""
    before, started = terminal.cpu_seconds(), time.monotonic()
    terminal.drain(seconds)
    return (terminal.cpu_seconds() - before) / (time.monotonic() - started)


@contextmanager
def running(command: Sequence[str], ready: bytes, settle: float) -> Iterator[Terminal]:
    """The program once `ready` is on screen and `settle` seconds have passed; quit afterwards."""
    terminal = Terminal(command)
    try:
        if terminal.wait_for(ready) is None:
            raise RuntimeError(f"{' '.join(command[1:])} never showed {ready!r}: {terminal.screen_tail()!r}")
        terminal.drain(settle)
        yield terminal
    finally:
        terminal.close()
