"""Turn one chat turn into a benchmark record: started when sent, completed when it ends."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.events import Failure
from tui.core.chat.timers import TurnTimes
from tui.core.sampling.monitor import AnswerCost
from tui.core.records.schema import (
    Counts, EngineInfo, HostInfo, LoadInfo, ModelInfo, Power, Record, RequestInfo, Resources,
    Sample, Status, TimingMs, compute_rates, utc_now,
)
from tui.core.sampling.sampler import Sample as Reading
from tui.core.ollama.stats import DoneStats


@dataclass(frozen=True)
class TurnEnd:
    """How a turn ended: what its record is completed from."""

    times: TurnTimes
    stats: DoneStats | None
    failure: Failure | None
    cancelled: bool
    cost: AnswerCost | None
    samples: list[Sample]
    thinking: str
    answer: str


@dataclass(frozen=True)
class PowerContext:
    """Which power source the turn was measured with, or why there was none."""

    source: str | None
    scope: str | None
    why: str


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _ns_ms(nanoseconds: int | None) -> float | None:
    return None if nanoseconds is None else nanoseconds / 1e6


def start_record(
    *,
    session_id: str,
    turn_index: int,
    host: HostInfo,
    engine: EngineInfo,
    model: ModelInfo,
    request: RequestInfo,
    prompt: str,
    keep_content: bool,
) -> Record:
    """The record inserted (status running) when the prompt is sent."""
    return Record(
        session_id=session_id, turn_index=turn_index, host=host, engine=engine, model=model,
        request=request, prompt=prompt if keep_content else None,
    )


def timeline(readings: list[Reading], t0: float) -> list[Sample]:
    """The sampler's readings during the turn, as the record's [t_ms, mem, swap, rss, watts] rows."""
    return [
        Sample(
            round((reading.t - t0) * 1000, 1),
            reading.memory.used if reading.memory else None,
            reading.memory.swap_used if reading.memory else None,
            reading.ollama.rss if reading.ollama else None,
            reading.watts,
        )
        for reading in readings
    ]


def finish_record(
    record: Record,
    ended: TurnEnd,
    *,
    load: LoadInfo,
    power: PowerContext,
    interval_s: float | None,
    keep_content: bool,
) -> None:
    """Fill in every figure of a finished turn, as record-schema.md defines them."""
    times, stats, failure, cost = ended.times, ended.stats, ended.failure, ended.cost
    record.ended_at = utc_now()
    if ended.cancelled:
        record.status = Status.CANCELLED
    elif failure is not None:
        record.status = Status.TIMEOUT if failure.kind is ErrorKind.TIMEOUT else Status.FAILED
        record.error, record.error_kind = failure.message, failure.kind
    else:
        record.status = Status.OK
    record.load = load
    record.timing_ms = TimingMs(
        ttft=_ms(times.ttft), thinking=_ms(times.thinking), answer=_ms(times.answer),
        total_wall=_ms(times.total), load=load.load_ms,
        prompt_eval=_ns_ms(stats.prompt_eval_duration) if stats else None,
        eval=_ns_ms(stats.eval_duration) if stats else None,
        total_server=_ns_ms(stats.total_duration) if stats else None,
    )
    # Without Ollama's final chunk the client's chunk tally stands in for the token count.
    record.counts = Counts(
        prompt_tokens=stats.prompt_eval_count if stats else None,
        eval_tokens=stats.eval_count if stats else (times.chunks or None),
        thinking_chars=times.thinking_chars, answer_chars=times.answer_chars,
        done_reason=stats.done_reason if stats else None, estimated=stats is None,
    )
    record.rates = compute_rates(record.counts, record.timing_ms)
    record.samples = ended.samples
    record.resources = _resources(cost, interval_s)
    record.power = _power(cost, power)
    if keep_content:
        record.thinking, record.answer = ended.thinking or None, ended.answer


def _resources(cost: AnswerCost | None, interval_s: float | None) -> Resources:
    if cost is None:
        return Resources(interval_ms=_ms(interval_s))
    peaks = cost.peaks
    return Resources(
        interval_ms=_ms(interval_s),
        ollama_rss_peak_bytes=peaks.ollama_rss_peak,
        mem_used_start_bytes=peaks.mem_used_start, mem_used_peak_bytes=peaks.mem_used_peak,
        swap_used_start_bytes=peaks.swap_used_start, swap_used_peak_bytes=peaks.swap_used_peak,
        cpu_pct_mean=peaks.cpu_pct_mean, gpu_util_pct_mean=peaks.gpu_util_pct_mean,
    )


def _power(cost: AnswerCost | None, power: PowerContext) -> Power:
    if power.source is None:
        return Power.unavailable(power.why)
    if cost is None or cost.peaks.watts_peak is None:
        return Power.unavailable(f"{power.source}: no reading during the turn")
    peaks = cost.peaks
    return Power(
        source=power.source, scope=power.scope, baseline_w=cost.baseline_w,
        mean_w=peaks.watts_mean, peak_w=peaks.watts_peak, net_mean_w=cost.net_mean_w,
        energy_j=peaks.energy_j, net_energy_j=cost.net_energy_j,
        j_per_token=cost.j_per_token, tokens_per_j=cost.tokens_per_j,
        why=None if cost.baseline_w is not None else "no idle baseline: net figures blank (f5 measures one)",
    )
