"""Start-up: the real `ollamon` launched in a pty against the fake Ollama, beside its floors.

  first paint   launch to the first screen (the Timers panel drawn), beside the paint floor
                (bench/floors.py: Select, Static, Input, Footer) (goal <= 1.5x);
  models shown  launch to the model names in the dropdown, beside the client floor (the paint
                floor listing the models with the official `ollama` client) (goal <= 1.3x).
Launches alternate (ollamon, paint floor, client floor) so a busy spell hits all alike; one
unmeasured round warms the file caches first.
Run: .venv/bin/python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fake_server import ServerProcess
from bench.terminal import SIZE, Terminal, ollamon_command, python_command


@dataclass
class Launches:
    """Seconds per measured run."""

    painted: list[float] = field(default_factory=list)
    listed: list[float] = field(default_factory=list)
    floor_painted: list[float] = field(default_factory=list)
    floor_listed: list[float] = field(default_factory=list)


def launch(command: list[str], painted: bytes, listed: bytes | None) -> tuple[float, float]:
    """Seconds from launch to `painted`, then to `listed` (nan when absent)."""
    terminal = Terminal(command)
    try:
        first = terminal.wait_for(painted)
        shown = terminal.wait_for(listed) if listed else None
        return (first or float("nan"), shown or float("nan"))
    finally:
        terminal.close()


def measure_launches(url: str, runs: int) -> Launches:
    """`runs` alternating launches of ollamon and both floors, after one unmeasured round."""
    found = Launches()
    models_floor = python_command("-m", "bench.floors", "models", "--host", url)
    for run in range(runs + 1):
        first, shown = launch(ollamon_command(url), b"Timers", b" models")
        paint_floor = launch(python_command("-m", "bench.floors", "paint"), b"Timers", None)[0]
        client_floor = launch(models_floor, b"Timers", b" models")[1]
        if run:
            found.painted.append(first)
            found.listed.append(shown)
            found.floor_painted.append(paint_floor)
            found.floor_listed.append(client_floor)
    return found


def runs_text(values: list[float], unit: str, digits: int = 2) -> str:
    shown = ", ".join(f"{value:.{digits}f}" for value in values)
    return f"[{shown}] {unit}, median {statistics.median(values):.{digits}f}"


def ratios(values: list[float], floors: list[float]) -> list[float]:
    return [value / floor for value, floor in zip(values, floors, strict=True)]


def print_launches(found: Launches) -> None:
    print("(c) launch (after one unmeasured launch of each):")
    print(f"    ollamon first paint  {runs_text(found.painted, 's')}")
    print(f"    floor first paint    {runs_text(found.floor_painted, 's')}")
    print(f"    ratio                {runs_text(ratios(found.painted, found.floor_painted), '')} (goal <= 1.5)")
    print(f"    ollamon models shown {runs_text(found.listed, 's')}")
    print(f"    models / floor paint {runs_text(ratios(found.listed, found.floor_painted), '')}")
    print(
        f"    client floor models  {runs_text(found.floor_listed, 's')} (paint floor + the ollama client's /api/tags)"
    )
    print(f"    models / client floor {runs_text(ratios(found.listed, found.floor_listed), '')} (goal <= 1.3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured launches of each (default 3)")
    runs = parser.parse_args().runs
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, pty {SIZE[0]}x{SIZE[1]}")
    server = ServerProcess(20, 1000.0)
    try:
        print_launches(measure_launches(server.url, runs))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
