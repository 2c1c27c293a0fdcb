"""Time RecordStore on a 100,000-record file: per-turn write cost, history pages, summary, and
moving the whole store to another with `ollamon export` and `ollamon import`.

Run from the repository root: `python bench/store.py [--records 100000] [--turns 500]`.
Targets: start_turn + finish_turn < 5 ms, first history page well under 1 s, summary < 1 s.
Export and import are set beside floors measured in the same run: the same JSON read and
written by plain SQL, and the same records written by the bulk writer without any checks.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui.core.records.schema import (
    Counts,
    HostInfo,
    LoadInfo,
    ModelInfo,
    Power,
    Record,
    Resources,
    Sample,
    Status,
    TimingMs,
    compute_rates,
)
from tui.core.records.store import RecordStore

MODELS = [f"model-{i}:8b" for i in range(12)]
HOSTS = [
    HostInfo(hostname=name, os="macOS 15.1", chip="Apple M2 Ultra", cpu_cores=24, host_id=f"{n:032x}")
    for n, name in enumerate(("studio", "laptop"), 1)
]
STATUSES = [Status.OK] * 17 + [Status.FAILED, Status.CANCELLED, Status.TIMEOUT]


def synthetic(i: int, rng: random.Random, content: bool) -> Record:
    """A plausible finished turn with a 40-reading timeline."""
    start = 1_700_000_000 + i * 30
    thinking_ms, answer_ms = rng.uniform(0, 20_000), rng.uniform(500, 60_000)
    counts = Counts(
        prompt_tokens=rng.randint(10, 2000),
        eval_tokens=rng.randint(50, 4000),
        thinking_chars=rng.randint(0, 5000),
        answer_chars=rng.randint(50, 8000),
        done_reason="stop",
    )
    timing = TimingMs(
        ttft=rng.uniform(50, 5000),
        thinking=thinking_ms,
        answer=answer_ms,
        total_wall=thinking_ms + answer_ms,
        prompt_eval=rng.uniform(10, 2000),
        eval=thinking_ms + answer_ms,
    )
    mem = rng.randint(20, 60) * 2**30
    return Record(
        session_id=f"s{i // 8}",
        turn_index=i % 8,
        started_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(start)),
        ended_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(start + 20)),
        status=rng.choice(STATUSES),
        host=rng.choice(HOSTS),
        model=ModelInfo(name=rng.choice(MODELS), quantization="Q4_K_M", file_size_bytes=5 * 2**30),
        load=LoadInfo(
            cold=rng.random() < 0.1, load_ms=rng.uniform(10, 9000), ps_size_bytes=6 * 2**30, processor="100% GPU"
        ),
        timing_ms=timing,
        counts=counts,
        rates=compute_rates(counts, timing),
        resources=Resources(interval_ms=250.0, mem_used_peak_bytes=mem, swap_used_peak_bytes=rng.randint(0, 2**30)),
        power=Power(source="smc", net_mean_w=rng.uniform(5, 40), j_per_token=rng.uniform(0.1, 2.0), why=None),
        samples=[Sample(t * 250.0, mem, 0, 6 * 2**30, 30.5) for t in range(40)],
        prompt="Write a haiku about the sea." if content else None,
        answer="Waves fold into foam\n" * 20 if content else None,
    )


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, object]:
    """Median wall time in ms over `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(1)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = tmp  # the host id made on the first open stays out of the user's folder
        path = Path(tmp) / "records.sqlite"
        store = RecordStore.open(path)
        started = time.perf_counter()
        for chunk in range(0, args.records, 10_000):
            end = min(chunk + 10_000, args.records)
            store.import_records(synthetic(i, rng, content=i % 4 == 0) for i in range(chunk, end))
        setup_s = time.perf_counter() - started
        print(f"bulk setup: {args.records} records in {setup_s:.1f} s; file {path.stat().st_size / 2**20:.0f} MiB")

        costs = []
        for i in range(args.turns):
            record = synthetic(args.records + i, rng, content=True)
            final = record.status
            began = time.perf_counter()
            store.start_turn(record)
            record.status = final
            store.finish_turn(record)
            costs.append((time.perf_counter() - began) * 1e3)
        print(
            f"start_turn + finish_turn: mean {statistics.mean(costs):.2f} ms, "
            f"p95 {sorted(costs)[int(len(costs) * 0.95)]:.2f} ms over {args.turns} turns (target < 5 ms)"
        )
        store.close()

        ms, _ = timed(lambda: RecordStore.open(path).close())
        print(f"open existing file: {ms:.1f} ms")
        store = RecordStore.open(path)
        for label, fn in [
            ("query(limit=200) newest first", lambda: store.query(limit=200)),
            ("query(limit=200, offset=50000)", lambda: store.query(limit=200, offset=50_000)),
            ("query(model=..., limit=200)", lambda: store.query(model=MODELS[3], limit=200)),
            ("query(status='failed', limit=200)", lambda: store.query(status=Status.FAILED, limit=200)),
            ("query(model=..., status='ok', limit=200)", lambda: store.query(model=MODELS[3], status="ok", limit=200)),
            ("mark_interrupted()", store.mark_interrupted),
            ("summary()", store.summary),
            ("summary(model=...)", lambda: store.summary(model=MODELS[3])),
            ("hosts()", lambda: list(store.hosts().values())),
            ("records(limit=200) full JSON", lambda: store.records(limit=200)),
        ]:
            ms, result = timed(fn)
            size = len(result) if isinstance(result, list) else result
            print(f"{label:<42} {ms:8.1f} ms  ({size} rows)")
        store.close()
        whole_commands(path)
        transfer(path, setup_s)


def whole_commands(path: Path) -> None:
    """What a person waits for: `ollamon history --summary` from launch, and the f2 screen."""
    import asyncio
    import subprocess
    import sys

    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tui", "history", "--db", str(path), "--summary"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    print(
        f"`ollamon history --summary` (whole process): {time.perf_counter() - started:.2f} s, "
        f"exit {done.returncode} (target < 1 s)"
    )
    print(f"history screen: first page shown {asyncio.run(_history_screen_open(path)):.2f} s after f2 (target < 1 s)")


def transfer(path: Path, bulk_s: float) -> None:
    """`ollamon export` of the whole store, `ollamon import` of that file into a new store, and their floors."""
    import sqlite3
    import subprocess

    def whole(*argv: str) -> float:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui", *argv], check=True, capture_output=True, cwd=Path(__file__).parents[1]
        )
        return time.perf_counter() - started

    exported = path.with_name("all.jsonl")
    export_s = whole("export", "--db", str(path), "-o", str(exported))
    lines = sum(1 for _ in exported.open("rb"))
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    with path.with_name("raw.jsonl").open("w") as raw:
        for doc, prompt, answer, samples in conn.execute(
            "SELECT d.doc, c.prompt, c.answer, s.data FROM records r JOIN documents d USING (record_id)"
            " LEFT JOIN content c USING (record_id) LEFT JOIN samples s USING (record_id) ORDER BY r.started_at"
        ):
            raw.write(f"{doc}\t{prompt}\t{answer}\t{samples}\n")
    conn.close()
    floor_s = time.perf_counter() - started
    print(
        f"`ollamon export` (whole process): {export_s:.1f} s for {lines} lines, "
        f"{exported.stat().st_size / 2**20:.0f} MiB; floor (the same JSON by plain SQL) {floor_s:.1f} s, "
        f"ratio {export_s / floor_s:.1f}x"
    )
    import_s = whole("import", "--db", str(path.with_name("copy.sqlite")), str(exported))
    print(
        f"`ollamon import` of it into a new store (whole process, every line checked before any is stored): "
        f"{import_s:.1f} s; floor (bulk write of the records, no checks) {bulk_s:.1f} s, ratio {import_s / bulk_s:.1f}x"
    )


async def _history_screen_open(path: Path) -> float:
    from textual.app import App

    from tui.app import stylesheet_paths
    from tui.ui.history.history_screen import HistoryScreen
    from tui.ui.history.turns_table import TurnsTable

    store = RecordStore.open(path)

    class Host(App[None]):
        CSS_PATH: ClassVar[list[str | PurePath]] = [*stylesheet_paths()]

    app = Host()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            started = time.perf_counter()
            app.push_screen(HistoryScreen(store))
            while not (
                isinstance(app.screen, HistoryScreen) and any(table.row_count for table in app.screen.query(TurnsTable))
            ):
                await pilot.pause(0.01)
            return time.perf_counter() - started
    finally:
        store.close()


if __name__ == "__main__":
    main()
