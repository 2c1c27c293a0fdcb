"""One chat with one Ollama server: choose and load a model, run turns, stop, new chat, reopen.

The TUI and `ollamon bench` both drive this object; neither holds turn logic of its own. Every
turn that starts ends with its record completed (ok, failed, cancelled or timeout), whether it
is stopped at any await, the listener raises, or a new chat or a reopen starts mid-answer: the
completion runs shielded from cancellation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.core.chat.conversation import ChatSettings, Conversation
from tui.core.chat.events import (
    LoadFailed,
    LoadFinished,
    LoadStarted,
    RecordProblem,
    SessionEvent,
    TurnEnded,
    TurnStarted,
    Unloaded,
)
from tui.core.chat.loading import LoadTiming, reloaded, turn_load
from tui.core.chat.predictions import Predictions
from tui.core.chat.server import ServerState
from tui.core.chat.think import ThinkWire
from tui.core.chat.timers import TurnTimer
from tui.core.chat.turn import ActiveTurn
from tui.core.fit.what_if import MEASURE_HERE, WhatIf
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.events import AnswerDelta, AnswerWasThinking, Done, Failure, ThinkingDelta
from tui.core.ollama.models import CatalogModel, LoadedModel, ModelDetails
from tui.core.sampling.monitor import ResourceMonitor

if TYPE_CHECKING:
    from tui.core.chat.recorder import SweepTag, TurnRecorder
    from tui.core.fit.check import PastLoad
    from tui.core.fit.estimate import Fit
    from tui.core.records.rows import ChatRow
    from tui.core.records.schema import LoadInfo, Record, Sample

Listener = Callable[[SessionEvent], Awaitable[None]]
# Characters per token for a rough prompt size: about four in English text with common tokenizers.
CHARS_PER_TOKEN = 4


class SessionBusy(Exception):
    """A prompt was sent while an answer is still streaming."""


class NoModel(Exception):
    """A prompt was sent before a model was chosen."""


class NothingToRegenerate(Exception):
    """Regenerate was asked for before any prompt of this chat was sent."""


async def _ignore(event: SessionEvent) -> None:
    return None


@dataclass(frozen=True)
class Reopened:
    """A past chat made current again: its header, turns, and the model its last turn used."""

    chat: ChatRow
    turns: list[Record]
    model: str | None


class ChatSession:
    """A conversation with one Ollama server, its model, its records and its resource marks."""

    def __init__(
        self,
        engine: OllamaEngine,
        monitor: ResourceMonitor,
        *,
        recorder: TurnRecorder | None = None,
        listener: Listener = _ignore,
        clock: Callable[[], float] = time.monotonic,
        fit_machine: WhatIf | None = MEASURE_HERE,
    ) -> None:
        """`fit_machine` describes the server's machine for the fit advisor (empty: measure it
        when Ollama runs here); None turns the advisor off."""
        self.engine = engine
        self.server = ServerState(engine)
        self.monitor = monitor
        self.recorder = recorder
        self.listener = listener
        self.conversation = Conversation()
        self._clock = clock
        self.model: str | None = None
        self.details: ModelDetails | None = None
        self.turn: ActiveTurn | None = None
        self._task: asyncio.Task[object] | None = None
        self._turn_over = asyncio.Event()
        self._turn_over.set()
        self._load_over = asyncio.Event()
        self._load_over.set()
        self._explicit_load: LoadTiming | None = None  # reported by the next turn, then cleared
        self.last_load: LoadTiming | None = None
        self.load_failure: Failure | None = None
        self.fits = Predictions(fit_machine, past_loads=self._past_loads)
        self.last_prompt: str | None = None  # of this chat, for regenerate

    # State

    @property
    def busy(self) -> bool:
        """A turn is in flight (from the send until its record is complete)."""
        return self.turn is not None

    # What the server last said (`server` asks), for the UI and bench to read.

    @property
    def models(self) -> list[CatalogModel]:
        return self.server.models

    @property
    def running(self) -> list[LoadedModel]:
        return self.server.running

    @property
    def version(self) -> str:
        return self.server.version

    @property
    def connected(self) -> bool | None:
        return self.server.connected

    @property
    def remote(self) -> bool:
        """The server is another machine (known after the first refresh)."""
        return self.server.remote

    @property
    def predictions(self) -> dict[str, Fit]:
        """The fit advisor's latest prediction per listed model."""
        return self.fits.by_model

    @property
    def fit_problem(self) -> str | None:
        """Why the fit advisor has no prediction (for some model), or None."""
        return self.fits.problem

    @property
    def loading(self) -> bool:
        return not self._load_over.is_set()

    @property
    def settings(self) -> ChatSettings:
        return self.conversation.settings

    @settings.setter
    def settings(self, settings: ChatSettings) -> None:
        self.conversation.settings = settings
        if self.recorder is not None:
            self.recorder.settings_changed(settings)

    @property
    def can_think(self) -> bool:
        return self.details.can_think if self.details and self.details.name == self.model else False

    @property
    def context_length(self) -> int | None:
        """The chosen model's longest context (/api/show), the most num_ctx can ask for."""
        return self.details.context_length if self.details and self.details.name == self.model else None

    def _past_loads(self) -> list[PastLoad]:
        """This host's stored loads with their predictions (none without a recorder or when the store fails)."""
        if self.recorder is None:
            return []
        import sqlite3

        from tui.core.fit.check import on_host  # with the first prediction, not before the first screen

        store = self.recorder.store
        try:
            records = store.loads_on()
        except (sqlite3.Error, OSError):
            return []  # a prediction without the correction is still a prediction
        return on_host(records, store.host_id)

    def over_context(self, prompt: str) -> tuple[int, int] | None:
        """(estimated tokens, context length) when this prompt with the chat so far would not fit
        the context the chosen model runs with (num_ctx, else what /api/ps shows); else None.

        The estimate is a quarter of the characters: rough, but a pasted file far beyond the
        context is what it must catch, before Ollama silently cuts the prompt.
        """
        if self.model is None:
            return None
        loaded = self.server.in_memory(self.model)
        context = self.settings.num_ctx or (loaded.context_length if loaded else None)
        if not context:
            return None
        characters = sum(len(message["content"]) for message in self.conversation.request_messages(prompt))
        estimate = -(-characters // CHARS_PER_TOKEN)
        return (estimate, context) if estimate > context else None

    def remote_host(self, name: str) -> str | None:
        """The host that runs `name` when it is a cloud model (as /api/tags said), else None."""
        return next((model.remote_host for model in self.models if model.name == name), None)

    def holds(self, name: str) -> bool:
        """Whether /api/ps last showed `name` in memory with the context length this chat asks for."""
        return self.server.holds(name, self.settings.num_ctx)

    async def _emit(self, event: SessionEvent) -> None:
        await self.listener(event)

    async def _emit_quietly(self, event: SessionEvent) -> None:
        """For the end of a turn: a listener already gone (the UI closed) changes nothing."""
        try:
            await self.listener(event)
        except Exception:
            pass

    # The server

    async def refresh(self) -> None:
        """Models, loaded models and (on first contact) the version; raises OllamaError."""
        await self.server.refresh()

    async def refresh_predictions(self) -> dict[str, Fit]:
        """Where Ollama would put each listed model now, for this chat's num_ctx (the fit advisor).

        Call it after `refresh()`; see `Predictions.refresh`. Never raises OllamaError.
        """
        return await self.fits.refresh(self.engine, self.models, self.running, self.settings.num_ctx)

    # Models

    async def choose(self, name: str) -> bool:
        """Make `name` the chat's model and load it, timed on the wall clock; True when loaded.

        A turn still streaming is stopped first; a prompt sent meanwhile waits for the load.
        """
        await self.stop()
        self.model, self.details, self.load_failure = name, None, None
        self._load_over.clear()
        try:
            await self._emit(LoadStarted(name))
            await self.server.ps_quietly()
            held, before = self.holds(name), self.server.in_memory(name)
            try:
                self.details = await self.engine.show(name)
                seconds = await self.engine.load(
                    name, keep_alive=self.settings.keep_alive_param(), options=self.settings.options()
                )
            except OllamaError as exc:
                if exc.kind in (ErrorKind.CONNECTION, ErrorKind.NOT_OLLAMA):
                    self.server.connected = False
                self.load_failure = Failure(exc.kind, exc.message, exc.status)
                await self._emit(LoadFailed(name, self.load_failure))
                return False
            await self.server.ps_quietly()
            remote = self.remote_host(name)
            cold = not remote and (not held or reloaded(before, self.server.in_memory(name)))
            self._explicit_load = self.last_load = LoadTiming(name, seconds, cold)
            await self._emit(LoadFinished(name, seconds, cold, remote))
            return True
        finally:
            self._load_over.set()

    async def unload_all(self, *, confirm_s: float = 10.0, poll_s: float = 0.2) -> Unloaded:
        """Unload every loaded model (`keep_alive: 0`) and wait until /api/ps shows none."""
        running = await self.engine.ps()
        names = tuple(item.name for item in running)
        for name in names:
            await self.engine.unload(name)
        deadline = self._clock() + confirm_s
        confirmed = False
        while True:
            self.server.running = await self.engine.ps()
            if not self.running:
                confirmed = True
                break
            if self._clock() >= deadline:
                break
            await asyncio.sleep(poll_s)
        event = Unloaded(names, confirmed)
        await self._emit(event)
        return event

    # Turns

    async def send(self, prompt: str, *, timeout: float | None = None, sweep: SweepTag | None = None) -> TurnEnded:
        """Run one turn with the chat's context; events go to the listener as they come.

        Raises SessionBusy or NoModel before anything starts. Cancelling the caller (or `stop()`)
        ends the turn as cancelled, with what came kept; the CancelledError then propagates.
        """
        if self.busy:
            raise SessionBusy("Still answering: wait, or press Escape to stop it.")
        await self._load_over.wait()
        if self.busy:  # another send got in while this one waited for the load
            raise SessionBusy("Still answering: wait, or press Escape to stop it.")
        model = self.model
        if model is None:
            raise NoModel("Choose a model first.")
        self.last_prompt = prompt
        self.monitor.interrupt_baseline()
        settings = self.settings
        think = settings.think_param(self.can_think)
        messages = self.conversation.request_messages(prompt)
        turn = ActiveTurn(prompt, model, TurnTimer(self._clock), cold_before=not self.holds(model))
        self.turn, self._task = turn, asyncio.current_task()
        self._turn_over.clear()
        try:
            problem = self._begin_record(turn, settings, think, len(messages) - 1, sweep)
            if problem:
                await self._emit(RecordProblem(problem))
            await self._emit(TurnStarted(prompt, model, len(messages) - 1))
            turn.mark = await self.monitor.mark()
            turn.timer = TurnTimer(self._clock)
            if timeout is None:
                await self._stream(turn, messages, think)
            else:
                try:
                    async with asyncio.timeout(timeout):
                        await self._stream(turn, messages, think)
                except TimeoutError:
                    turn.failure = Failure(
                        ErrorKind.TIMEOUT, f"no complete answer within {timeout:g} s; the stream was closed"
                    )
        except asyncio.CancelledError:
            turn.cancelled = True
            raise
        except Exception as exc:  # the listener failed: the turn ends as failed, then the caller hears of it
            turn.failure = Failure(ErrorKind.OTHER, f"{type(exc).__name__}: {exc}")
            turn.error = exc
        finally:
            result = await self._finish_shielded(turn)
        if turn.error is not None:
            raise turn.error
        return result

    async def regenerate(self, *, timeout: float | None = None) -> TurnEnded:
        """Answer the chat's last prompt again, as a new turn with its own record.

        The last answer leaves the context first, so the model does not see the answer it is
        asked to replace.
        """
        if self.busy:
            raise SessionBusy("Still answering: wait, or press Escape to stop it.")
        prompt = self.last_prompt
        if prompt is None:
            raise NothingToRegenerate("No answer to regenerate yet.")
        turns = self.conversation.turns
        if turns[-2:] and turns[-2] == {"role": "user", "content": prompt}:
            del turns[-2:]
        return await self.send(prompt, timeout=timeout)

    def _begin_record(
        self,
        turn: ActiveTurn,
        settings: ChatSettings,
        think: ThinkWire | None,
        history: int,
        sweep: SweepTag | None,
    ) -> str | None:
        """Insert the running record before the turn's first await: no cancellation can skip it."""
        if self.recorder is None:
            return None
        from tui.core.chat.recorder import record_model  # the records load with the first turn

        info = next((item for item in self.models if item.name == turn.model), None)
        details = self.details if self.details and self.details.name == turn.model else None
        turn.record, problem = self.recorder.begin(
            turn.prompt,
            record_model(info, details, turn.model),
            self.server.engine_facts(),
            settings,
            think,
            history,
            sweep,
        )
        return problem

    async def _stream(self, turn: ActiveTurn, messages: list[dict[str, str]], think: ThinkWire | None) -> None:
        settings, timer = self.settings, turn.timer
        events = self.engine.chat(
            turn.model,
            messages,
            think=think,
            options=settings.options(),
            keep_alive=settings.keep_alive_param(),
        )
        async with aclosing(events):
            async for event in events:
                if isinstance(event, ThinkingDelta):
                    timer.thinking(event.text)
                    turn.thinking += event.text
                elif isinstance(event, AnswerDelta):
                    timer.answer(event.text)
                    turn.answer += event.text
                elif isinstance(event, AnswerWasThinking):
                    timer.answer_was_thinking(event.text)
                    turn.thinking += event.text
                    turn.answer = ""
                elif isinstance(event, Done):
                    turn.stats = event.stats
                    continue
                else:
                    turn.failure = event
                    if event.kind in (ErrorKind.CONNECTION, ErrorKind.NOT_OLLAMA):
                        self.server.connected = False
                    continue
                await self._emit(event)

    async def _finish_shielded(self, turn: ActiveTurn) -> TurnEnded:
        task = asyncio.ensure_future(self._finish(turn))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # Cancelled again while finishing: the record still completes, in the background.
            raise

    async def _finish(self, turn: ActiveTurn) -> TurnEnded:
        try:
            turn.timer.end()
            end = await self.monitor.mark()
            stats = turn.stats
            remote = self.remote_host(turn.model)
            # A cloud model's answer was computed elsewhere: this machine's readings are not its cost.
            cost = None if remote else self.monitor.cost(turn.mark, end, stats.eval_count if stats else None)
            running = await self.server.ps_quietly()
            load = self._load_for(turn, running)
            result = TurnEnded(
                prompt=turn.prompt,
                model=turn.model,
                times=turn.timer.times(),
                stats=stats,
                failure=turn.failure,
                cancelled=turn.cancelled,
                cost=cost,
                load=load,
                thinking=turn.thinking,
                answer=turn.answer,
                record=turn.record,
                running=tuple(running),
                samples=() if remote else self._timeline(turn.mark, end),
                remote_host=remote,
            )
            if self.recorder is not None and turn.record is not None:
                problem = await asyncio.to_thread(
                    self.recorder.complete,
                    turn.record,
                    result,
                    load=load,
                    power=self.monitor.power_context(),
                    interval_s=self.monitor.interval,
                )
                if problem:
                    await self._emit_quietly(RecordProblem(problem))
            if turn.answer or turn.failure is None:
                self.conversation.add_turn(turn.prompt, turn.answer)
        finally:
            self.turn, self._task = None, None
            self._turn_over.set()
        await self._emit_quietly(result)
        return result

    def _load_for(self, turn: ActiveTurn, running: list[LoadedModel]) -> LoadInfo:
        """An explicit load counts for the first turn after it only."""
        explicit, self._explicit_load = self._explicit_load, None
        predicted = self.fits.as_recorded(turn.model)
        return turn_load(turn.model, explicit, turn.cold_before, turn.stats, running, predicted)

    def _timeline(self, start: float | None, end: float | None) -> tuple[Sample, ...]:
        """The monitor's readings during the turn, as the record keeps them."""
        from tui.core.chat.recorder import timeline  # the records load with the first turn, not before the first screen

        return tuple(timeline(self.monitor.window(start, end), start)) if start is not None else ()

    async def stop(self) -> None:
        """Stop the answer in flight (what came stays) and wait until its record is complete."""
        task = self._task
        if self.turn is None or task is None:
            return
        task.cancel()
        if task is asyncio.current_task():  # stopped from inside the turn: nothing to wait for
            return
        await self._turn_over.wait()
        await asyncio.wait({task})  # the caller's task has finished too (it may be a UI worker)

    async def new_chat(self) -> None:
        """Forget the conversation (settings and model stay); a running answer is stopped first."""
        await self.stop()
        self.conversation.clear()
        self.last_prompt = None
        if self.recorder is not None:
            self.recorder.new_chat()

    async def reopen(self, session_id: str) -> Reopened | None:
        """Continue a past chat: its messages go with the next prompt; None if it is gone."""
        if self.recorder is None:
            return None
        await self.stop()
        store = self.recorder.store
        chat = await asyncio.to_thread(store.get_chat, session_id)
        if chat is None:
            return None
        turns = await asyncio.to_thread(store.chat_turns, session_id)
        from tui.core.records.schema import chat_messages  # the records load with the first turn or reopen

        self.conversation.settings = ChatSettings.from_saved(chat.settings)
        self.conversation.turns = chat_messages(turns)
        self.last_prompt = turns[-1].prompt if turns else None
        self.recorder.resume(session_id, len(turns))
        last = next((turn.model.name for turn in reversed(turns) if turn.model.name), None)
        return Reopened(chat, turns, last or chat.model)
