"""`ollamon exporter`: idle CPU beside the TUI's idle floor, and a scrape's latency with 100 models' series.

Each run starts the real exporter (a child process, sampling at 1 s) against the fake Ollama
(another child) on a store filled with turns of 100 models, which it reads at start.
  idle    its process tree's CPU over the window with no scrape at all, beside the idle floor of
          bench/idle.py (bench/floors.py idle: a bare Textual app refreshing four panels), measured
          in the same run. Goal: exporter <= 1.0x the floor.
  scrape  wall time of a GET /metrics (a new connection each, uncompressed), Ollama asked and the
          store read each time; beside the floor: prometheus_client's own server in a child
          process serving the same families (parsed once from the exporter's answer, so nothing
          is read or computed), scraped alternately with it. Goal: <= 20 ms. Then scrapes that
          each follow a turn's end (a new record), which make the per-model exposition again.
Run: python bench/exporter.py [--runs 3] [--seconds 10] [--models 100] [--turns 10] [--scrapes 200]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil

from bench.fake_server import ServerProcess
from bench.store import synthetic
from bench.terminal import ROOT, cpu_share, python_command, running
from tui.core.records.schema import HostInfo, ModelInfo, Power, Record
from tui.core.records.store import RecordStore

SETTLE_S = 4.0


def fill(path: Path, models: int, turns: int) -> int:
    """`turns` finished turns of each of `models` models on this host, with energy; returns how many."""
    rng = random.Random(1)
    host = HostInfo(hostname=socket.gethostname(), os="bench")
    records = []
    for i in range(models * turns):
        record = synthetic(i, rng, content=False)
        record.host = host
        record.model = ModelInfo(name=f"model-{i % models}:8b", quantization="Q4_K_M")
        record.power = Power(source="command", energy_j=rng.uniform(50, 900), net_energy_j=rng.uniform(10, 500))
        records.append(record)
    with RecordStore.open(path) as store:
        return store.import_records(records)


class Exporter:
    """`ollamon exporter` in a child process, on a port of its choosing; `url` once it serves."""

    def __init__(self, ollama: str, db: Path) -> None:
        command = python_command("-m", "tui", "exporter", "--host", ollama, "--db", str(db), "--listen", "127.0.0.1:0")
        self.started = time.perf_counter()
        self._child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        assert self._child.stderr is not None
        line = self._child.stderr.readline()
        self.ready_s = time.perf_counter() - self.started
        found = re.search(r"serving (\S+)", line)
        if found is None:
            raise RuntimeError(f"the exporter did not start: {line}{self._child.stderr.read()}")
        self.url = found[1]
        self.process = psutil.Process(self._child.pid)

    def cpu_share(self, seconds: float) -> float:
        """Share of one core its process tree used over the next `seconds`."""
        before, started = _cpu(self.process), time.monotonic()
        time.sleep(seconds)
        return (_cpu(self.process) - before) / (time.monotonic() - started)

    def close(self) -> None:
        self._child.terminate()
        self._child.wait(10)


def _cpu(process: psutil.Process) -> float:
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _serve_floor(conn: Connection, text: str) -> None:
    """prometheus_client serving `text`'s families as they are: exposition and HTTP, nothing computed."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.metrics_core import Metric
    from prometheus_client.parser import text_string_to_metric_families

    families = list(text_string_to_metric_families(text))

    class Static:
        def collect(self) -> Iterable[Metric]:
            return families

    registry = CollectorRegistry()
    registry.register(Static())
    server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    conn.send(f"http://127.0.0.1:{server.server_port}/metrics")
    conn.recv()  # until told to stop


# One client, as Prometheus keeps one; both servers close the connection after each answer.
CLIENT = httpx.Client(timeout=10, headers={"Accept-Encoding": "identity"})


def scrape_ms(url: str) -> float:
    started = time.perf_counter()
    CLIENT.get(url).raise_for_status()
    return (time.perf_counter() - started) * 1e3


def one_run(run: int, server: ServerProcess, db: Path, seconds: float, scrapes: int) -> tuple[float, float]:
    """Print one run's idle and scrape figures; returns (idle ratio, median scrape ms)."""
    exporter = Exporter(server.url, db)
    try:
        time.sleep(SETTLE_S)
        idle = exporter.cpu_share(seconds)
        text = CLIENT.get(exporter.url).text
        ours_conn, floor_conn = mp.Pipe()
        floor = mp.get_context("spawn").Process(target=_serve_floor, args=(floor_conn, text), daemon=True)
        floor.start()
        floor_url: str = ours_conn.recv()
        ours, theirs = [], []
        for _ in range(scrapes):
            ours.append(scrape_ms(exporter.url))
            theirs.append(scrape_ms(floor_url))
        ours_conn.send("stop")
        floor.join(5)
        after_turn = []
        with RecordStore.open(db) as store:
            for i in range(min(scrapes, 20)):
                store.import_records([new_turn(i)])
                after_turn.append(scrape_ms(exporter.url))
    finally:
        exporter.close()
    with running(python_command("-m", "bench.floors", "idle"), b"Power", SETTLE_S) as terminal:
        floor_idle = cpu_share(terminal, seconds)
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    idle_ratio = idle / floor_idle if floor_idle else float("nan")
    median, floor_median = statistics.median(ours), statistics.median(theirs)
    print(
        f"  run {run}: idle exporter {idle:.2%}, floor {floor_idle:.2%}, ratio {idle_ratio:.2f}; "
        f"serving after {exporter.ready_s:.2f} s"
    )
    print(
        f"  run {run}: scrape of {series} series ({len(text.encode()) / 1024:.0f} KiB): median {median:.2f} ms, "
        f"p95 {_p95(ours):.2f} ms, max {max(ours):.2f} ms; floor median {floor_median:.2f} ms, "
        f"p95 {_p95(theirs):.2f} ms; ratio {median / floor_median:.2f}"
    )
    print(
        f"  run {run}: scrape after a turn ended: median {statistics.median(after_turn):.2f} ms, "
        f"max {max(after_turn):.2f} ms over {len(after_turn)}"
    )
    return idle_ratio, median


def new_turn(i: int) -> Record:
    """A turn of one of the models already there, as if it had just ended on this host."""
    record = synthetic(10**6 + i, random.Random(i), content=False)
    record.host = HostInfo(hostname=socket.gethostname())
    record.model = ModelInfo(name=f"model-{i}:8b")
    return record


def _p95(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--turns", type=int, default=10, help="turns per model in the store")
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    server = ServerProcess(10, 50.0)
    idle_ratios, medians = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "records.sqlite"
            count = fill(db, args.models, args.turns)
            print(
                f"store: {count} turns of {args.models} models; idle over {args.seconds:.0f} s, {args.scrapes} scrapes"
            )
            for run in range(1, args.runs + 1):
                idle_ratio, median = one_run(run, server, db, args.seconds, args.scrapes)
                idle_ratios.append(idle_ratio)
                medians.append(median)
    finally:
        server.stop()
    print(
        f"idle ratio median {statistics.median(idle_ratios):.2f} (goal <= 1.0); "
        f"scrape median {statistics.median(medians):.2f} ms (goal <= 20 ms)"
    )


if __name__ == "__main__":
    main()
