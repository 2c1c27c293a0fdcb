"""Chat turns as benchmark records: one session per chat, a record inserted (running) when a
prompt is sent and completed when the turn ends.

A failing store never stops the chat: the recorder's methods return a problem to show instead
of raising.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from tui.core.chat.conversation import ChatSettings
from tui.core.chat.events import TurnEnded, turn_status
from tui.core.ollama.events import Failure
from tui.core.ollama.models import CatalogModel, LoadedModel, ModelDetails
from tui.core.records.files import StoreError
from tui.core.records.schema import (
    Counts,
    EngineInfo,
    HostInfo,
    LoadInfo,
    ModelInfo,
    Power,
    Record,
    RequestInfo,
    Resources,
    Sample,
    TimingMs,
    compute_rates,
    utc_now,
)
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import AnswerCost, PowerContext
from tui.core.sampling.processor import processor_split
from tui.core.sampling.sampler import Reading

_FAILURES = (StoreError, sqlite3.Error, OSError)


@dataclass(frozen=True)
class SweepTag:
    """A `bench` run: which sweep, which repetition, and whether it is an untimed warm-up."""

    sweep_id: str
    repetition: int
    warmup: bool = False


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _ns_ms(nanoseconds: int | None) -> float | None:
    return None if nanoseconds is None else nanoseconds / 1e6


def start_record(
    *,
    session_id: str | None,
    turn_index: int | None,
    host: HostInfo,
    engine: EngineInfo,
    model: ModelInfo,
    request: RequestInfo,
    prompt: str,
    keep_content: bool,
) -> Record:
    """The record inserted (status running) when the prompt is sent."""
    return Record(
        session_id=session_id,
        turn_index=turn_index,
        host=host,
        engine=engine,
        model=model,
        request=request,
        prompt=prompt if keep_content else None,
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
    ended: TurnEnded,
    *,
    load: LoadInfo,
    power: PowerContext,
    interval_s: float | None,
    keep_content: bool,
) -> None:
    """Fill in every figure of a finished turn, as record-schema.md defines them."""
    times, stats, failure, cost = ended.times, ended.stats, ended.failure, ended.cost
    record.ended_at = utc_now()
    record.status = turn_status(ended.cancelled, failure)
    if failure is not None and not ended.cancelled:
        record.error, record.error_kind = failure.message, failure.kind
    record.load = load
    record.timing_ms = TimingMs(
        ttft=_ms(times.ttft),
        thinking=_ms(times.thinking),
        answer=_ms(times.answer),
        total_wall=_ms(times.total),
        load=load.load_ms,
        prompt_eval=_ns_ms(stats.prompt_eval_duration) if stats else None,
        eval=_ns_ms(stats.eval_duration) if stats else None,
        total_server=_ns_ms(stats.total_duration) if stats else None,
    )
    # Without Ollama's final chunk the client's chunk tally stands in for the token count.
    record.counts = Counts(
        prompt_tokens=stats.prompt_eval_count if stats else None,
        prompt_cached_tokens=stats.prompt_eval_cached_count if stats else None,
        eval_tokens=stats.eval_count if stats else (times.chunks or None),
        thinking_chars=times.thinking_chars,
        answer_chars=times.answer_chars,
        done_reason=stats.done_reason if stats else None,
        estimated=stats is None,
    )
    record.rates = compute_rates(record.counts, record.timing_ms)
    record.samples = list(ended.samples)
    record.resources = _resources(cost, interval_s)
    record.power = _power(cost, power)
    if ended.remote_host is not None:
        record.power = Power.unavailable(f"computed remotely on {ended.remote_host}: no local power is its cost")
    if keep_content:
        record.thinking, record.answer = ended.thinking or None, ended.answer


def _resources(cost: AnswerCost | None, interval_s: float | None) -> Resources:
    if cost is None:
        return Resources(interval_ms=_ms(interval_s))
    peaks = cost.peaks
    return Resources(
        interval_ms=_ms(interval_s),
        ollama_rss_peak_bytes=peaks.ollama_rss_peak,
        mem_used_start_bytes=peaks.mem_used_start,
        mem_used_peak_bytes=peaks.mem_used_peak,
        swap_used_start_bytes=peaks.swap_used_start,
        swap_used_peak_bytes=peaks.swap_used_peak,
        cpu_pct_mean=peaks.cpu_pct_mean,
        gpu_util_pct_mean=peaks.gpu_util_pct_mean,
    )


def _power(cost: AnswerCost | None, power: PowerContext) -> Power:
    if power.source is None:
        return Power.unavailable(power.why)
    if cost is None or cost.peaks.watts_peak is None:
        return Power.unavailable(f"{power.source}: no reading during the turn")
    peaks = cost.peaks
    return Power(
        source=power.source,
        scope=power.scope,
        baseline_w=cost.baseline_w,
        mean_w=peaks.watts_mean,
        peak_w=peaks.watts_peak,
        net_mean_w=cost.net_mean_w,
        energy_j=peaks.energy_j,
        net_energy_j=cost.net_energy_j,
        j_per_token=cost.j_per_token,
        tokens_per_j=cost.tokens_per_j,
        gross_j_per_token=cost.gross_j_per_token,
        why=None if cost.baseline_w is not None else "no idle baseline: net figures blank (f5 measures one)",
    )


def _system_prompt(text: str, keep_content: bool) -> dict[str, str | None]:
    if not text:
        return {}
    if keep_content:
        return {"system_prompt": text}
    return {"system_prompt_sha256": hashlib.sha256(text.encode()).hexdigest()}


def record_model(model: CatalogModel | None, details: ModelDetails | None, name: str) -> ModelInfo:
    """The model section of a record from /api/tags and /api/show."""
    return ModelInfo(
        name=name,
        digest=model.digest if model else None,
        family=(model.family if model else None) or (details.family if details else None),
        parameter_size=(model.parameter_size if model else None) or None,
        quantization=(model.quantization if model else None) or None,
        file_size_bytes=model.size if model else None,
        context_length=details.context_length if details else None,
        capabilities=list(details.capabilities) if details else [],
        remote_host=model.remote_host if model else None,
        remote_model=model.remote_model if model else None,
    )


def load_info(
    name: str,
    cold: bool | None,
    load_ms: float | None,
    running: list[LoadedModel],
    ollama_load_ms: float | None = None,
    predicted: dict[str, Any] | None = None,
) -> LoadInfo:
    """Where the model sits after the turn (/api/ps), with how it was loaded and where it was predicted to."""
    loaded = next((item for item in running if item.name == name), None)
    return LoadInfo(
        cold=cold,
        load_ms=load_ms,
        ollama_load_ms=ollama_load_ms,
        ps_size_bytes=loaded.size if loaded else None,
        ps_vram_bytes=loaded.size_vram if loaded else None,
        processor=processor_split(loaded.size, loaded.size_vram) if loaded else None,
        context_length=loaded.context_length if loaded else None,
        predicted=predicted,
    )


class TurnRecorder:
    """The store, the current chat session and its turn counter."""

    def __init__(self, store: RecordStore, host: HostInfo, *, keep_content: bool = True) -> None:
        self.store = store
        self.host = host
        self.keep_content = keep_content
        self.session_id: str | None = None
        self.turn_index = 0

    def recover(self) -> tuple[int, str | None]:
        """Mark turns a crashed run left `running` as interrupted: (how many, problem)."""
        try:
            return self.store.mark_interrupted(), None
        except _FAILURES as exc:
            return 0, f"could not check for interrupted turns: {exc}"

    def begin(
        self,
        prompt: str,
        model: ModelInfo,
        engine: EngineInfo,
        settings: ChatSettings,
        think: bool | str | None,
        history_messages: int,
        sweep: SweepTag | None = None,
    ) -> tuple[Record | None, str | None]:
        """Insert the running record (and the chat's session on its first turn; a sweep run has none)."""
        try:
            if sweep is None and self.session_id is None:
                self.session_id = self.store.create_chat(
                    title=prompt.strip().splitlines()[0][:80] if prompt.strip() else None,
                    model=model.name,
                    settings=asdict(settings),
                    host=self.host.hostname,
                )
                self.turn_index = 0
            record = start_record(
                session_id=None if sweep else self.session_id,
                turn_index=None if sweep else self.turn_index,
                host=self.host,
                engine=engine,
                model=model,
                prompt=prompt,
                keep_content=self.keep_content,
                request=RequestInfo(
                    prompt_chars=len(prompt),
                    history_messages=history_messages,
                    think=think,
                    options=settings.options(),
                    keep_alive=settings.keep_alive_param(),
                    **_system_prompt(settings.system_prompt, self.keep_content),
                ),
            )
            if sweep is not None:
                record.sweep_id, record.repetition, record.warmup = sweep.sweep_id, sweep.repetition, sweep.warmup
            self.store.start_turn(record)
        except _FAILURES as exc:
            return None, f"this turn is not being recorded: {exc}"
        if sweep is None:
            self.turn_index += 1
        return record, None

    def complete(
        self,
        record: Record,
        ended: TurnEnded,
        *,
        load: LoadInfo,
        power: PowerContext,
        interval_s: float | None,
    ) -> str | None:
        """Fill in the finished turn and store it; a problem to show, or None."""
        finish_record(record, ended, load=load, power=power, interval_s=interval_s, keep_content=self.keep_content)
        try:
            self.store.finish_turn(record)
        except _FAILURES as exc:
            return f"could not save the finished turn: {exc}"
        return None

    def failed_run(
        self,
        model: ModelInfo,
        engine: EngineInfo,
        sweep: SweepTag,
        failure: Failure,
        predicted: dict[str, Any] | None = None,
    ) -> str | None:
        """A sweep run that never reached a prompt (not installed, did not load, skipped): a failed row."""
        record = start_record(
            session_id=None,
            turn_index=None,
            host=self.host,
            engine=engine,
            model=model,
            request=RequestInfo(),
            prompt="",
            keep_content=False,
        )
        record.load = LoadInfo(predicted=predicted)
        record.sweep_id, record.repetition, record.warmup = sweep.sweep_id, sweep.repetition, sweep.warmup
        record.status = turn_status(False, failure)
        record.error, record.error_kind, record.ended_at = failure.message, failure.kind, utc_now()
        record.power = Power.unavailable("the run never started")
        try:
            self.store.import_records([record])
        except _FAILURES as exc:
            return f"could not save the failed run: {exc}"
        return None

    def amend(self, record: Record) -> str | None:
        """Store a change to a finished record (a sweep judging an empty answer a failure)."""
        try:
            self.store.finish_turn(record)
        except _FAILURES as exc:
            return f"could not save the run: {exc}"
        return None

    def settings_changed(self, settings: ChatSettings) -> str | None:
        """Keep the chat's stored settings current (a reopened chat gets these back)."""
        if self.session_id is None:
            return None
        try:
            self.store.update_chat_settings(self.session_id, asdict(settings))
        except _FAILURES as exc:
            return f"could not save the chat's settings: {exc}"
        return None

    def new_chat(self) -> None:
        """The next turn starts a new session."""
        self.session_id = None
        self.turn_index = 0

    def resume(self, session_id: str, turns: int) -> None:
        """Continue a past chat: new turns join its session."""
        self.session_id = session_id
        self.turn_index = turns
