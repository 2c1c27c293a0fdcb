"""Idle CPU: ollamon sampling at 1 s beside the idle floor (bench/floors.py idle), same run.

Each run starts the real `ollamon` in a pseudo-terminal against the fake Ollama (in a child
process), lets it load a model and settle, then counts its process tree's CPU over the window;
then the same for the floor. Goal: ollamon <= 1.0x the floor.
Run: python bench/idle.py [--runs 3] [--seconds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fake_server import ServerProcess
from bench.terminal import SIZE, cpu_share, ollamon_command, python_command, running

SETTLE_S = 4.0


def ollamon_idle(url: str, seconds: float) -> float:
    with running(ollamon_command(url, "--model", "qwen3:8b"), b"loaded in", SETTLE_S) as terminal:
        return cpu_share(terminal, seconds)


def floor_idle(seconds: float) -> float:
    with running(python_command("-m", "bench.floors", "idle"), b"Power", SETTLE_S) as terminal:
        return cpu_share(terminal, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    server = ServerProcess(10, 50.0)
    ratios = []
    print(f"idle CPU in a {SIZE[0]}x{SIZE[1]} pty over {args.seconds:.0f} s, share of one core:")
    try:
        for run in range(1, args.runs + 1):
            app, floor = ollamon_idle(server.url, args.seconds), floor_idle(args.seconds)
            ratios.append(app / floor if floor else float("nan"))
            print(f"  run {run}: ollamon {app:.2%}, floor {floor:.2%}, ratio {ratios[-1]:.2f}")
    finally:
        server.stop()
    print(f"idle ratio median {statistics.median(ratios):.2f} (goal <= 1.0)")


if __name__ == "__main__":
    main()
