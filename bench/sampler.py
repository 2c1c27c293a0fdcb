"""Measure what one Sampler tick costs on this machine, with the real sources, and the whole
app's idle CPU: the real `ollamon` in a pseudo-terminal, sampling at 1 s, over 60 s.

Run from the repository root: `python bench/sampler.py [--ticks 200] [--idle-seconds 60]`.
Targets: a tick under 5 ms; the idle app under 2 % of one core.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from tui.core.sampling.memory import memory_source
from tui.core.sampling.power.nvml import NvmlGpu
from tui.core.sampling.power.registry import PowerOptions, build_sources
from tui.core.sampling.processes import OllamaProcessFinder
from tui.core.sampling.sampler import Sampler


def idle_app_cpu(seconds: float) -> tuple[float, int]:
    """CPU share of one core used by an idle `ollamon` (1 s sampling) against the fake Ollama."""
    from bench.fake_server import ServerProcess

    server = ServerProcess(10, 50.0)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "tui", "--host", server.url, "--model", "qwen3:8b", "--interval", "1"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        cwd=Path(__file__).resolve().parents[1],
    )
    os.close(slave)
    try:
        _drain(master, 5.0)  # start, load the model, settle
        process = psutil.Process(child.pid)
        before = sum(process.cpu_times()[:2])
        _drain(master, seconds)
        share = (sum(process.cpu_times()[:2]) - before) / seconds
        rss = process.memory_info().rss
    finally:
        os.write(master, b"\x11")
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
        os.close(master)
        server.stop()
    return share, rss


def _drain(fd: int, seconds: float) -> None:
    """Read (and drop) the app's output for `seconds`, as a terminal would."""
    import select

    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            os.read(fd, 65536)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    args = parser.parse_args()

    sampler = Sampler(memory_source(), OllamaProcessFinder(), build_sources(PowerOptions()), NvmlGpu())
    sampler.tick()  # the first tick primes psutil and opens libraries: reported apart
    first_ms = sampler.last_tick_cost * 1e3

    costs = []
    cpu_started = time.process_time()
    for _ in range(args.ticks):
        sampler.tick()
        costs.append(sampler.last_tick_cost * 1e3)
    cpu_ms = (time.process_time() - cpu_started) * 1e3 / args.ticks

    print(f"platform {sys.platform}, {len(psutil.pids())} processes, {psutil.cpu_count()} CPUs")
    for status in sampler.status():
        state = "ok" if status.available else "n/a"
        chosen = " (chosen)" if status.kind == "power" and status.chosen else ""
        print(f"  {status.kind:<9} {status.name:<14} {state}{chosen}{' — ' + status.why if status.why else ''}")
    print(f"first tick {first_ms:.2f} ms")
    print(
        f"{args.ticks} ticks: mean {statistics.fmean(costs):.3f} ms, "
        f"p95 {statistics.quantiles(costs, n=20)[18]:.3f} ms, max {max(costs):.3f} ms, "
        f"CPU {cpu_ms:.3f} ms per tick (target < 5 ms)"
    )
    if args.idle_seconds > 0:
        share, rss = idle_app_cpu(args.idle_seconds)
        print(
            f"idle app over {args.idle_seconds:.0f} s at 1 s interval: {share:.2%} of one core "
            f"(target < 2 %), RSS {rss / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
