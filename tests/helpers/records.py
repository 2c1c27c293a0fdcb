"""Records for tests: one factory, `record`, and the chat turns and histories built with it.

- `record(...)`: a finished turn with only the figures you give; start here. Its host has no id:
  the store stamps its own. `machine(name)` is another machine, with an id of its own.
- `chat_turn(n)`: turn `n` of one chat with every section and the content filled in (exports).
- `turn(i)` / `fill(store, count)`: a synthetic history whose figures follow from `i` (history screen).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.core.records.schema import (
    Counts,
    ErrorKind,
    GpuInfo,
    HostInfo,
    LoadInfo,
    ModelInfo,
    Power,
    Rates,
    Record,
    RequestInfo,
    Resources,
    Sample,
    Status,
    TimingMs,
)
from tui.core.records.store import RecordStore

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
GB = 10**9
# name, quantization, file size, loaded size, processor split, tok/s
MODELS = [
    ("qwen3:8b", "Q4_K_M", 5_200_000_000, 6_100_000_000, "100% GPU", 42.0),
    ("llama3.2:3b", "Q4_K_M", 2_000_000_000, 3_400_000_000, "26%/74% CPU/GPU", 61.5),
    ("gemma3:12b", "Q8_0", 13_000_000_000, 14_800_000_000, "100% GPU", 18.25),
]


def machine(hostname: str, **facts: Any) -> HostInfo:
    """Another machine's facts, with a host id of its own (fixed by the name, so snapshots stay the same)."""
    return HostInfo(hostname=hostname, host_id=uuid.uuid5(uuid.NAMESPACE_DNS, hostname).hex, **facts)


def record(
    model: str | ModelInfo = "qwen3:8b",
    status: Status = Status.OK,
    started_at: str = "2025-01-01T00:00:00.000Z",
    host: str | HostInfo = "box",
    *,
    warmup: bool = False,
    file_size: int | None = None,
    cold: bool | None = None,
    load_ms: float | None = None,
    ps_size: int | None = None,
    processor: str | None = None,
    total: float | None = None,
    tok_s: float | None = None,
    chars_s: float | None = None,
    mem: int | None = None,
    swap: int | None = None,
    net_w: float | None = None,
    jpt: float | None = None,
    **fields: Any,
) -> Record:
    """A finished turn with the figures the history table and summary use; `fields` replace any Record field."""
    base: dict[str, Any] = dict(
        started_at=started_at,
        ended_at=started_at,
        status=status,
        warmup=warmup,
        host=HostInfo(hostname=host) if isinstance(host, str) else host,
        model=(
            ModelInfo(name=model, quantization="Q4_K_M", file_size_bytes=file_size) if isinstance(model, str) else model
        ),
        load=LoadInfo(cold=cold, load_ms=load_ms, ps_size_bytes=ps_size, processor=processor),
        timing_ms=TimingMs(total_wall=total),
        rates=Rates(eval_tok_s=tok_s, chars_s=chars_s),
        resources=Resources(mem_used_peak_bytes=mem, swap_used_peak_bytes=swap),
        power=Power(source="smc", net_mean_w=net_w, j_per_token=jpt, why=None),
    )
    return Record(**(base | fields))


def chat_turn(n: int = 0, **fields: Any) -> Record:
    """Turn `n` of chat "s", with every section and the content filled in; `fields` replace any of it."""
    filled: dict[str, Any] = dict(
        record_id=f"r{n}",
        session_id="s",
        turn_index=n,
        started_at=f"2025-10-08T14:0{n}:00.000Z",
        ended_at=f"2025-10-08T14:0{n}:07.400Z",
        status=Status.OK,
        host=HostInfo(hostname="box", gpu=GpuInfo("M2 Ultra GPU", None) if n else None),
        model=ModelInfo(name="qwen3:8b", quantization="Q4_K_M", capabilities=["completion", "thinking"]),
        request=RequestInfo(think=True, options={"num_ctx": 8192}),
        load=LoadInfo(cold=True, load_ms=2100.0, processor="26%/74% CPU/GPU"),
        timing_ms=TimingMs(ttft=2300.0, thinking=1600.0, answer=4300.0, total_wall=7400.0),
        counts=Counts(eval_tokens=282, thinking_chars=14, answer_chars=6),
        rates=Rates(eval_tok_s=62.17, chars_s=3.39),
        resources=Resources(mem_used_peak_bytes=40 * 2**30, swap_used_peak_bytes=2**30),
        power=Power(source="smc", net_mean_w=25.0, j_per_token=0.4, why=None),
        samples=[Sample(0.0, 1, 2, 3, None)],
        prompt='用中文打个招呼, "quoted", with a | pipe',
        thinking="Okay, the user\nwants </details> Chinese",
        answer="你好，世界！\n\nSecond paragraph.",
    )
    return record(**(filled | fields))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def status_of(i: int) -> Status:
    """Mostly ok, every 7th failed, every 11th cancelled."""
    if i % 7 == 6:
        return Status.FAILED
    if i % 11 == 10:
        return Status.CANCELLED
    return Status.OK


def timeline(i: int, *, watts: bool, swapping: bool) -> list[Sample]:
    """24 readings, 250 ms apart: memory climbs while the model answers, swap grows if asked."""
    out = []
    for step in range(24):
        mem = 20 * GB + min(step, 12) * 400_000_000 + (i % 3) * 100_000_000
        swap = (step * 150_000_000 if step > 8 else 0) if swapping else 0
        power = (12.0 + 30.0 * min(step, 10) / 10 - (step % 4)) if watts else None
        out.append(Sample(step * 250.0, mem, swap, 6 * GB, power))
    return out


def turn(
    i: int,
    *,
    model: int | None = None,
    status: Status | None = None,
    content: bool = True,
    power: bool = True,
    session_id: str | None = None,
    turn_index: int | None = None,
) -> Record:
    """Turn number `i` of the synthetic history, started `i` minutes after START, with figures that follow from `i`."""
    name, quant, file_size, ps_size, processor, tok_s = MODELS[i % len(MODELS) if model is None else model]
    status = status_of(i) if status is None else status
    ok = status is Status.OK
    thinking_ms, answer_ms = 800.0 + 10 * i, 4000.0 + 25 * i
    answer_chars = 900 + i
    counts = Counts(
        prompt_tokens=24,
        eval_tokens=int(tok_s * 4),
        thinking_chars=300,
        answer_chars=answer_chars,
        done_reason="stop" if ok else None,
        estimated=not ok,
    )
    started = START + timedelta(minutes=i)
    watts = power and i % 4 != 3
    numbered = record(
        record_id=f"rec{i:05d}",
        session_id=session_id,
        turn_index=turn_index,
        started_at=iso(started),
        ended_at=iso(started + timedelta(milliseconds=thinking_ms + answer_ms + 200)),
        status=status,
        error=None if status is not Status.FAILED else "model runner has unexpectedly stopped",
        error_kind=None if status is not Status.FAILED else ErrorKind.RUNNER_CRASHED,
        host=HostInfo(hostname="studio", os="macOS 15.1", chip="Apple M2 Max", cpu_cores=12, ram_bytes=64 * GB),
        model=ModelInfo(
            name=name,
            quantization=quant,
            file_size_bytes=file_size,
            parameter_size="8.2B",
            context_length=40960,
            family="qwen3",
        ),
        load=LoadInfo(
            cold=i % 5 == 0,
            load_ms=1500.0 + i if i % 5 == 0 else 12.0,
            ps_size_bytes=ps_size,
            ps_vram_bytes=ps_size,
            processor=processor,
            context_length=4096,
        ),
        timing_ms=TimingMs(
            ttft=120.0 + i,
            thinking=thinking_ms,
            answer=answer_ms,
            total_wall=thinking_ms + answer_ms + 120.0,
            load=12.0,
            prompt_eval=40.0,
            eval=thinking_ms + answer_ms,
        ),
        counts=counts,
        rates=Rates(
            eval_tok_s=tok_s + (i % 3),
            prompt_tok_s=600.0,
            chars_s=(300 + answer_chars) / ((thinking_ms + answer_ms) / 1000),
            answer_chars_s=answer_chars / (answer_ms / 1000),
        ),
        resources=Resources(
            interval_ms=250.0,
            ollama_rss_peak_bytes=6 * GB,
            mem_used_start_bytes=20 * GB,
            mem_used_peak_bytes=20 * GB + 12 * 400_000_000 + (i % 3) * 100_000_000,
            swap_used_start_bytes=0,
            swap_used_peak_bytes=(23 * 150_000_000) if i % 4 == 1 else 0,
            cpu_pct_mean=35.0,
            gpu_util_pct_mean=88.0,
        ),
        power=(
            Power(
                source="smc",
                scope="whole machine",
                baseline_w=9.5,
                mean_w=33.0,
                peak_w=41.0,
                net_mean_w=23.5,
                energy_j=160.0,
                net_energy_j=114.0,
                j_per_token=0.68,
                tokens_per_j=1.47,
                why=None,
            )
            if watts
            else Power.unavailable("no power source on this machine")
        ),
        samples=timeline(i, watts=watts, swapping=i % 4 == 1),
    )
    if content:
        numbered.prompt = f"Question {i}: why is the sky blue?"
        numbered.thinking = "The user asks about **Rayleigh scattering**; keep it short."
        numbered.answer = (
            "Sunlight is scattered by air molecules, and **blue** light scatters most.\n\n"
            "- shorter wavelengths scatter more\n- [more](https://example.com/sky)\n"
        )
    return numbered


def nvbox() -> HostInfo:
    """The GPU box beside the Mac: another machine, with an id of its own."""
    gpu = GpuInfo("NVIDIA GeForce RTX 4090", 24 * 2**30)
    return machine(
        "nvbox", os="Ubuntu 24.04.1 LTS", chip="AMD Ryzen 9 7950X", cpu_cores=32, ram_bytes=64 * 2**30, gpu=gpu
    )


def turns_on(host: HostInfo, count: int, start: int, speedup: float = 3.0) -> list[Record]:
    """`count` turns numbered from `start`, as `turn` makes them, run on `host` `speedup` times as fast."""
    records = [turn(i) for i in range(start, start + count)]
    for record in records:
        record.host = host
        assert record.rates.eval_tok_s and record.rates.chars_s and record.timing_ms.total_wall
        record.rates.eval_tok_s *= speedup
        record.rates.chars_s *= speedup
        record.timing_ms.total_wall /= speedup
    return records


def fill(store: RecordStore, count: int, start: int = 0) -> list[Record]:
    """`count` turns numbered from `start`, imported in one transaction."""
    records = [turn(i) for i in range(start, start + count)]
    store.import_records(records)
    return records


def add_chat(store: RecordStore, title: str | None, turns: int, first: int) -> str:
    """A chat of `turns` turns with content; returns its session_id."""
    session_id = store.create_chat(title=title, model=MODELS[0][0], host="studio")
    store.import_records(
        turn(first + n, model=0, status=Status.OK, session_id=session_id, turn_index=n) for n in range(turns)
    )
    return session_id
