"""Keeps the chat's turns in the record store: one session per chat, one record per turn.

A failing store never stops the chat: each method returns a problem to show instead of raising.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict

from tui.core.chat.conversation import ChatSettings
from tui.core.ollama.models import LoadedModel, ModelDetails, ModelInfo
from tui.core.sampling.processor import processor_split
from tui.core.records.schema import EngineInfo, HostInfo, LoadInfo, ModelInfo as RecordModel, Record, RequestInfo
from tui.core.sampling.monitor import no_power_reason
from tui.core.records.recorder import PowerContext, TurnEnd, finish_record, start_record
from tui.core.sampling.sampler import Sampler
from tui.core.records.store import RecordStore, StoreError

_FAILURES = (StoreError, sqlite3.Error, OSError)


def record_model(model: ModelInfo | None, details: ModelDetails | None, name: str) -> RecordModel:
    """The model section of a record from /api/tags and /api/show."""
    return RecordModel(
        name=name,
        digest=model.digest if model else None,
        family=(model.family if model else None) or (details.family if details else None),
        parameter_size=(model.parameter_size if model else None) or None,
        quantization=(model.quantization if model else None) or None,
        file_size_bytes=model.size if model else None,
        context_length=details.context_length if details else None,
        capabilities=list(details.capabilities) if details else [],
    )


def load_info(name: str, cold: bool | None, load_ms: float | None, running: list[LoadedModel]) -> LoadInfo:
    """Where the model sits after the turn (/api/ps), with how it was loaded."""
    loaded = next((item for item in running if item.name == name), None)
    return LoadInfo(
        cold=cold, load_ms=load_ms,
        ps_size_bytes=loaded.size if loaded else None,
        ps_vram_bytes=loaded.size_vram if loaded else None,
        processor=processor_split(loaded.size, loaded.size_vram) if loaded else None,
    )


class TurnJournal:
    """The store, the current session and the turn counter."""

    def __init__(self, store: RecordStore, host: HostInfo, *, keep_content: bool = True) -> None:
        self.store = store
        self.host = host
        self.keep_content = keep_content
        self.session_id: str | None = None
        self.turn_index = 0
        # (model, seconds, cold) of the last explicit load: the next turn's record reports it.
        self._explicit_load: tuple[str, float, bool] | None = None

    def loaded(self, model: str, seconds: float, cold: bool) -> None:
        """The user chose `model` and it was loaded, timed on the wall clock."""
        self._explicit_load = (model, seconds, cold)

    def recover(self) -> tuple[int, str | None]:
        """Mark turns a crashed run left `running` as interrupted: (how many, problem)."""
        try:
            return self.store.mark_interrupted(), None
        except _FAILURES as exc:
            return 0, f"could not check for interrupted turns: {exc}"

    def begin(
        self, prompt: str, model: RecordModel, engine: EngineInfo, settings: ChatSettings,
        think: bool | None, history_messages: int,
    ) -> tuple[Record | None, str | None]:
        """Insert the running record (and the session on its first turn)."""
        try:
            if self.session_id is None:
                self.session_id = self.store.create_session(
                    title=prompt.strip().splitlines()[0][:80] if prompt.strip() else None,
                    model=model.name, settings=asdict(settings), host=self.host.hostname,
                )
                self.turn_index = 0
            record = start_record(
                session_id=self.session_id, turn_index=self.turn_index, host=self.host, engine=engine,
                model=model, prompt=prompt, keep_content=self.keep_content,
                request=RequestInfo(
                    prompt_chars=len(prompt), history_messages=history_messages, think=think,
                    options=settings.options(), keep_alive=settings.keep_alive,
                ),
            )
            self.store.start_turn(record)
        except _FAILURES as exc:
            return None, f"this turn is not being recorded: {exc}"
        self.turn_index += 1
        return record, None

    def complete(
        self, record: Record, ended: TurnEnd, *, cold_before: bool, running: list[LoadedModel],
        sampler: Sampler | None,
    ) -> str | None:
        """Fill in the finished turn and store it; a problem to show, or None."""
        model = record.model.name or ""
        explicit, self._explicit_load = self._explicit_load, None
        if explicit is not None and explicit[0] == model:
            cold, load_ms = explicit[2], explicit[1] * 1000
        else:  # no explicit load before this turn: Ollama's own load_duration
            duration = ended.stats.load_duration if ended.stats else None
            cold, load_ms = cold_before, duration / 1e6 if duration is not None else None
        power = sampler.power if sampler else None
        finish_record(
            record, ended, load=load_info(model, cold, load_ms, running),
            power=PowerContext(power.name if power else None, power.scope if power else None,
                               no_power_reason(sampler) if sampler else "resource sampling is off"),
            interval_s=sampler.interval if sampler else None, keep_content=self.keep_content,
        )
        try:
            self.store.finish_turn(record)
        except _FAILURES as exc:
            return f"could not save the finished turn: {exc}"
        return None

    def new_chat(self) -> None:
        """The next turn starts a new session."""
        self.session_id = None
        self.turn_index = 0

    def resume(self, session_id: str, turns: int) -> None:
        """Continue a past chat: new turns join its session."""
        self.session_id = session_id
        self.turn_index = turns
