"""Write tests/data/store_v1.sqlite: a small record store in schema v1, the migration fixture.

Run from the repository root: python tests/data/make_store_v1.py
In v1, content and samples lived inside each record's JSON `doc`, and there was no sessions table.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tui.core.records.files import APPLICATION_ID
from tui.core.records.migrations import MIGRATIONS
from tui.core.records.schema import (
    Counts,
    ErrorKind,
    HostInfo,
    LoadInfo,
    ModelInfo,
    Power,
    Rates,
    Record,
    Resources,
    Sample,
    Status,
    TimingMs,
)

TARGET = Path(__file__).with_name("store_v1.sqlite")
HOST = HostInfo(hostname="studio", os="macOS 15.1", arch="arm64", chip="Apple M2 Ultra", cpu_cores=24)
QWEN = ModelInfo(name="qwen3:8b", quantization="Q4_K_M", file_size_bytes=5_225_387_923)
LLAMA = ModelInfo(name="llama3.2:3b", quantization="Q4_K_M", file_size_bytes=2_019_393_189)


def v1_records() -> list[Record]:
    """The records in the fixture, exactly as written."""
    return [
        Record(
            record_id="v1-chat-0",
            session_id="v1-session",
            turn_index=0,
            started_at="2025-10-08T14:03:20.000Z",
            ended_at="2025-10-08T14:03:27.400Z",
            status=Status.OK,
            host=HOST,
            model=QWEN,
            load=LoadInfo(
                cold=True,
                load_ms=2100.0,
                ps_size_bytes=6_000_000_000,
                ps_vram_bytes=6_000_000_000,
                processor="100% GPU",
            ),
            timing_ms=TimingMs(ttft=2300.0, thinking=1600.0, answer=4300.0, total_wall=7400.0, eval=4535.599),
            counts=Counts(prompt_tokens=26, eval_tokens=282, thinking_chars=14, answer_chars=6, done_reason="stop"),
            rates=Rates(eval_tok_s=62.17, chars_s=20 / 5.9, answer_chars_s=6 / 4.3),
            resources=Resources(mem_used_peak_bytes=40_000_000_000, swap_used_peak_bytes=0),
            power=Power(source="smc", net_mean_w=25.0, j_per_token=0.4),
            samples=[
                Sample(0.0, 30_000_000_000, 0, 1_000_000, 6.0),
                Sample(250.0, 40_000_000_000, 0, 6_000_000_000, 31.5),
            ],
            prompt="用中文打个招呼",
            thinking="Okay, the user",
            answer="你好，世界！",
        ),
        Record(
            record_id="v1-chat-1",
            session_id="v1-session",
            turn_index=1,
            started_at="2025-10-08T14:04:00.000Z",
            ended_at="2025-10-08T14:04:03.000Z",
            status=Status.OK,
            host=HOST,
            model=QWEN,
            timing_ms=TimingMs(ttft=300.0, answer=2700.0, total_wall=3000.0),
            counts=Counts(answer_chars=5),
            prompt="Say it in English",
            answer="Hello",
        ),
        Record(
            record_id="v1-bench-oom",
            sweep_id="v1-sweep",
            repetition=0,
            started_at="2025-10-08T15:00:00.000Z",
            ended_at="2025-10-08T15:00:01.000Z",
            status=Status.FAILED,
            error="model requires more system memory (7.3 GiB) than is available (6.0 GiB)",
            error_kind=ErrorKind.OUT_OF_MEMORY,
            host=HOST,
            model=LLAMA,
            power=Power.unavailable("not root"),
        ),
        Record(
            record_id="v1-crashed",
            session_id="v1-session",
            turn_index=2,
            started_at="2025-10-08T15:10:00.000Z",
            status=Status.RUNNING,
            host=HOST,
            model=QWEN,
            prompt="this turn never ended",
        ),
    ]


def main() -> None:
    """Write the fixture file, replacing an old one."""
    TARGET.unlink(missing_ok=True)
    conn = sqlite3.connect(TARGET, isolation_level=None)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    MIGRATIONS[0](conn)
    for r in v1_records():
        conn.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.record_id,
                r.session_id,
                r.turn_index,
                r.sweep_id,
                r.started_at,
                r.ended_at,
                r.status.value,
                r.model.name,
                r.model.quantization,
                r.load.load_ms,
                r.timing_ms.total_wall,
                r.rates.chars_s,
                r.rates.eval_tok_s,
                r.resources.mem_used_peak_bytes,
                r.resources.swap_used_peak_bytes,
                r.power.net_mean_w,
                r.power.j_per_token,
                json.dumps(r.to_json_dict(), ensure_ascii=False),
            ),
        )
    conn.execute("PRAGMA user_version = 1")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
