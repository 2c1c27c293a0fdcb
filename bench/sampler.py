"""Measure what one Sampler tick costs on this machine, with the real sources.

Run from the repository root: `python bench/sampler.py [--ticks 200]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from tui.core.memory import memory_source  # noqa: E402
from tui.core.power.nvml import NvmlGpu  # noqa: E402
from tui.core.power.registry import PowerOptions, build_sources  # noqa: E402
from tui.core.processes import OllamaProcessFinder  # noqa: E402
from tui.core.sampler import Sampler  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200)
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
    print(f"{args.ticks} ticks: mean {statistics.fmean(costs):.3f} ms, "
          f"p95 {statistics.quantiles(costs, n=20)[18]:.3f} ms, max {max(costs):.3f} ms, "
          f"CPU {cpu_ms:.3f} ms per tick")


if __name__ == "__main__":
    main()
