"""The Textual app: renders core state and turns keys into intents; all Ollama work is in the core."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from contextlib import aclosing
from importlib.resources import files
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Footer, Select, Static

from tui.core.chat.conversation import ChatSettings, Conversation
from tui.core.sampling.energy import Baseline, BaselineStore
from tui.core.ollama.host import is_local
from tui.core.records.hostfacts import engine_facts
from tui.core.records.journal import TurnJournal, record_model
from tui.core.records.recorder import TurnEnd, timeline
from tui.core.sampling.sampler import Sampler
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.events import AnswerDelta, AnswerWasThinking, Done, Failure, ThinkingDelta
from tui.core.chat.timers import TurnTimer
from tui.core.ollama.models import LoadedModel, ModelDetails, ModelInfo
from tui.core.sampling.monitor import no_power_reason
from tui.core.records.schema import Record, chat_messages
from tui.core.ollama.stats import DoneStats
from tui.core import units
from tui.ui.chat.banner import ConnectionBanner
from tui.ui.chat.chat_view import ChatView
from tui.ui.chat.messages import AssistantMessage, NoteMessage, UserMessage, outcome_line
from tui.ui.chat.model_picker import ModelPicker
from tui.ui.chat.prompt import PromptInput
from tui.ui.panels.column import ResourceColumn, ResourceLine
from tui.ui.panels.timers import TimersLine, TimersPanel, TimersState
from tui.ui.settings.settings_screen import SettingsScreen

STYLESHEETS = ("app.tcss", "chat.tcss", "panels.tcss", "settings.tcss", "history.tcss")
# Seconds of readings the idle baseline is the median of.
BASELINE_SECONDS = 10.0


def stylesheet_paths() -> list[Path]:
    """The .tcss files shipped in the package (`styles/` in a checkout)."""
    root = files("tui.styles")
    return [Path(str(root / name)) for name in STYLESHEETS]


class OllamonApp(App[None]):
    """Chat with a local model and watch what each answer costs."""

    TITLE = "ollamon"
    CSS_PATH = stylesheet_paths()
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide"), (150, "-xwide")]
    # Footer order: what a person needs most comes first (80 columns cut the rest).
    BINDINGS = [
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+l", "pick_model", "Model"),
        Binding("ctrl+n", "new_chat", "New"),
        Binding("f2", "history", "History"),
        Binding("ctrl+s", "settings", "Settings"),
        Binding("ctrl+o", "copy_answer", "Copy"),
        Binding("f5", "measure_baseline", "Idle W"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        engine: OllamaEngine,
        *,
        model: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        live: bool = True,
        retry_interval: float = 2.0,
        refresh_interval: float = 5.0,
        live_interval: float = 0.33,
        sampler: Sampler | None = None,
        baselines: BaselineStore | None = None,
        idle_watts: float | None = None,
        wall_clock: Callable[[], float] = time.time,
        journal: TurnJournal | None = None,
        store_problem: str | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.journal = journal
        self._store_problem = store_problem
        self.sampler = sampler
        self._baselines = baselines
        self._idle_watts = idle_watts
        self._wall_clock = wall_clock
        self.conversation = Conversation()
        self._clock = clock
        self._live = live
        self._retry_interval = retry_interval
        self._refresh_interval = refresh_interval
        self._live_interval = live_interval
        self._preselect = model
        self.models: list[ModelInfo] = []
        self.loaded: set[str] = set()
        self.current_model: str | None = None
        self.details: ModelDetails | None = None
        self.connected: bool | None = None
        self.streaming = False
        self.timer_state = TimersState()
        self._turn: TurnTimer | None = None
        self._reply: AssistantMessage | None = None
        self._live_timer: Timer | None = None
        self._version = ""
        self._refreshed_at = 0.0

    def compose(self) -> ComposeResult:
        # Kept as attributes: workers may still finish while the app is tearing its screen down.
        self.picker = ModelPicker(id="model-select")
        self.status_line = Static(id="status")
        self.banner = ConnectionBanner(id="banner")
        self.chat_view = ChatView(id="chat")
        self.timers_line = TimersLine(id="timers-line")
        self.prompt_input = PromptInput(id="prompt", placeholder="Ask something · Enter sends · ctrl+j new line")
        self.timers_panel = TimersPanel(id="timers")
        self.timers_panel.border_title = "Timers"
        self.resource_line = ResourceLine(id="resources-line")
        self.resources = ResourceColumn(
            self.sampler,
            line=self.resource_line,
            live=self._live,
            wall_clock=self._wall_clock,
            remote_host=None if is_local(self.engine.host) else self.engine.host,
            baseline=self._initial_baseline(),
            power_why=no_power_reason(self.sampler) if self.sampler else "",
            id="resources",
        )
        with Horizontal(id="topbar"):
            yield self.picker
            yield self.status_line
        with Horizontal(id="body"):
            with Vertical(id="chat-column"):
                yield self.banner
                yield self.chat_view
                yield self.timers_line
                yield self.resource_line
                yield self.prompt_input
            with VerticalScroll(id="side"):
                yield self.timers_panel
                yield self.resources
        yield Footer()

    def _initial_baseline(self) -> Baseline | None:
        """`--idle-watts` wins; else what was measured before on this host with this source."""
        power = self.sampler.power if self.sampler else None
        if power is None:
            return None
        if self._idle_watts is not None:
            return Baseline(power.name, self._idle_watts, 0, manual=True)
        return self._baselines.get(socket.gethostname(), power.name) if self._baselines else None

    def on_mount(self) -> None:
        self.banner.hide()
        self._set_status(f"connecting to {self.engine.host}…")
        self._show_timers()
        self.prompt_input.focus()
        self.refresh_models()
        if self._retry_interval > 0:
            self.set_interval(self._retry_interval, self._poll)
        self.call_later(self._note, "Choose a model (ctrl+l), type a prompt and press Enter. "
                        "Escape stops an answer; ctrl+n starts a new chat.")
        if self._store_problem:
            self.call_later(self._note, f"Records are not being saved: {self._store_problem}", True)
        if self.journal is not None:
            self.recover_records()

    @work(group="store")
    async def recover_records(self) -> None:
        """Turns a crash left running become `interrupted`: nothing is silently lost."""
        assert self.journal is not None
        count, problem = await asyncio.to_thread(self.journal.recover)
        if problem:
            await self._note(f"Records: {problem}", True)
        elif count:
            await self._note(f"{count} turn(s) left running by an earlier crash were marked interrupted.")

    # Connection and model list

    @work(exclusive=True, group="poll")
    async def refresh_models(self) -> None:
        """List models and loaded models; on failure say so and retry."""
        try:
            models = await self.engine.list_models()
            running = await self.engine.ps()
            loaded = {item.name for item in running}
            if not self.connected:
                self._version = await self.engine.version()
        except OllamaError as exc:
            failure: OllamaError | None = exc
        else:
            failure = None
        try:
            if failure is not None:
                self._set_disconnected(failure)
            else:
                self.resources.show_loaded(running)
                self._set_connected(models, loaded)
        except NoMatches:
            return  # the app closed its screen while the request was out
        self._refreshed_at = time.monotonic()

    def _poll(self) -> None:
        """Retry often while Ollama is unreachable; otherwise refresh now and then."""
        busy = any(worker.group == "poll" and worker.is_running for worker in self.workers)
        due = not self.connected or time.monotonic() - self._refreshed_at >= self._refresh_interval
        if due and not busy:
            self.refresh_models()

    def _set_disconnected(self, exc: OllamaError) -> None:
        self.connected = False
        detail = "connection refused" if exc.kind is ErrorKind.CONNECTION else exc.message
        self.banner.show_unreachable(self.engine.host, detail)
        self._set_status(f"Ollama unreachable at {self.engine.host}")

    def _set_connected(self, models: list[ModelInfo], loaded: set[str]) -> None:
        first_contact = not self.connected
        self.connected = True
        self.models, self.loaded = models, loaded
        self.banner.hide()
        self.picker.show_models(models, loaded, keep=self.current_model)
        if first_contact:
            version = f"Ollama {self._version}" if self._version else "Ollama"
            self._set_status(f"{version} · {self.engine.host} · {len(models)} models")
            if not models:
                self.call_later(self._note, "No models installed yet: pull one with `ollama pull qwen3:8b`.")
            self._apply_preselect()

    def _apply_preselect(self) -> None:
        name, self._preselect = self._preselect, None
        if name is None or self.current_model is not None:
            return
        if any(model.name == name for model in self.models):
            picker = self.picker
            with picker.prevent(Select.Changed):
                picker.value = name
            self._choose(name)
        else:
            self.call_later(
                self._note, f"Model {name} is not installed here. Pull it with `ollama pull {name}`.", True
            )

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK and event.value != self.current_model:
            self._choose(str(event.value))
            self.prompt_input.focus()

    def _choose(self, name: str) -> None:
        self.current_model = name
        self.details = None
        self.load_model(name)

    @work(exclusive=True, group="load")
    async def load_model(self, name: str) -> None:
        """Load the chosen model and time it on the wall clock."""
        cold = name not in self.loaded
        note = NoteMessage(f"Loading {name}…")
        await self.chat_view.add(note)
        self._set_status(f"loading {name}…")
        self.timer_state = TimersState(phase="loading")
        self._show_timers()
        try:
            self.details = await self.engine.show(name)
            load_s = await self.engine.load(name, keep_alive=self.conversation.settings.keep_alive)
        except OllamaError as exc:
            note.update(Content(f"Could not load {name}: {exc.message}\n{exc.kind.hint}"))
            note.add_class("error")
            self.timer_state = TimersState(phase="load failed")
            self._show_timers()
            self._set_status(f"{name} failed to load")
            if exc.kind is ErrorKind.CONNECTION:
                self._set_disconnected(exc)
            return
        how = "cold load" if cold else "already in memory"
        if self.journal is not None:
            self.journal.loaded(name, load_s, cold)
        note.update(Content(f"{name} loaded in {units.seconds(load_s)} ({how})"))
        self.timer_state = TimersState(phase="ready", load_s=load_s)
        self._show_timers()
        self._set_status(f"{name} · loaded in {units.seconds(load_s)}")
        self.loaded.add(name)
        self.picker.show_models(self.models, self.loaded, keep=name)
        self.refresh_models()  # /api/ps now has the model's size and CPU/GPU split

    # Chatting

    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        if self.current_model is None:
            self.notify("Choose a model first (ctrl+l).", severity="warning")
            return
        if self.streaming:
            self.notify("Still answering: wait, or press Escape to stop it.", severity="warning")
            return
        self.prompt_input.clear()
        self.streaming = True
        self.refresh_bindings()
        self.run_turn(message.text)

    @work(exclusive=True, group="chat")
    async def run_turn(self, prompt: str) -> None:
        """Send one prompt with the chat's context and stream the answer into the chat."""
        model = self.current_model or ""
        settings = self.conversation.settings
        can_think = self.details.can_think if self.details else False
        messages = self.conversation.request_messages(prompt)
        chat = self.chat_view
        await chat.add(UserMessage(prompt))
        reply = self._reply = AssistantMessage(model)
        await chat.add(reply)
        self.resources.turn_started()
        mark = await self.resources.mark()
        record = await self._begin_record(prompt, model, messages, settings.think_param(can_think))
        cold_before = model not in self.loaded
        timer = self._turn = TurnTimer(self._clock)
        self.timer_state = TimersState(phase="waiting", load_s=self.timer_state.load_s, times=timer.times())
        self._start_live()
        stats: DoneStats | None = None
        failure: Failure | None = None
        try:
            events = self.engine.chat(
                model, messages, think=settings.think_param(can_think),
                options=settings.options(), keep_alive=settings.keep_alive,
            )
            async with aclosing(events):
                async for event in events:
                    if isinstance(event, ThinkingDelta):
                        timer.thinking(event.text)
                        reply.add_thinking(event.text)
                    elif isinstance(event, AnswerDelta):
                        timer.answer(event.text)
                        reply.add_answer(event.text)
                    elif isinstance(event, AnswerWasThinking):
                        timer.answer_was_thinking(event.text)
                        await reply.answer_was_thinking(event.text)
                    elif isinstance(event, Done):
                        stats = event.stats
                    else:
                        failure = event
        except asyncio.CancelledError:
            ended = await self._end_turn(prompt, reply, timer, mark, None, None, cancelled=True)
            await self._finish_record(record, ended, cold_before)
            raise
        ended = await self._end_turn(prompt, reply, timer, mark, stats, failure, cancelled=False)
        await self._finish_record(record, ended, cold_before)

    async def _end_turn(
        self,
        prompt: str,
        reply: AssistantMessage,
        timer: TurnTimer,
        mark: float | None,
        stats: DoneStats | None,
        failure: Failure | None,
        *,
        cancelled: bool,
    ) -> TurnEnd:
        timer.end()
        self._stop_live()
        times = timer.times()
        end_mark = await self.resources.mark()
        cost = self.resources.turn_ended(mark, end_mark, stats.eval_count if stats else None)
        if cancelled:
            phase, outcome = "stopped", f"Stopped after {units.seconds(times.total)}; kept what came."
        elif failure is not None:
            phase = "failed"
            outcome = f"Error ({failure.kind.value}): {failure.message}\n{failure.hint}"
            if failure.kind is ErrorKind.CONNECTION:
                self._set_disconnected(OllamaError(failure.kind, failure.message))
        else:
            phase = "done"
            outcome = outcome_line(times.total, times.chars_per_s, stats)
        if cost is not None and cost.swapped:
            outcome += f"\n⚠ swap grew by {units.human_bytes(cost.swap_growth)} during this answer"
        await reply.finish(outcome, error=failure is not None)
        if reply.answer_text or failure is None:
            self.conversation.add_turn(prompt, reply.answer_text)
        self.timer_state = TimersState(phase=phase, load_s=self.timer_state.load_s, times=times, stats=stats)
        self._show_timers()
        self.streaming = False
        self.refresh_bindings()
        if self.connected:
            self.refresh_models()  # a cold load during the chat changes what /api/ps shows
        readings = self.sampler.window(mark, end_mark) if self.sampler and mark is not None and end_mark is not None else []
        return TurnEnd(times, stats, failure, cancelled, cost,
                       timeline(readings, mark) if mark is not None else [], reply.thinking_text, reply.answer_text)

    async def _begin_record(
        self, prompt: str, model: str, messages: list[dict[str, str]], think: bool | None
    ) -> Record | None:
        journal = self.journal
        if journal is None:
            return None
        details = self.details if self.details and self.details.name == model else None
        info = next((item for item in self.models if item.name == model), None)
        record, problem = await asyncio.to_thread(
            journal.begin, prompt, record_model(info, details, model),
            engine_facts(self._version or None, self.engine.host), self.conversation.settings,
            think, len(messages) - 1,
        )
        if problem:
            self.notify(f"Records: {problem}", severity="warning", timeout=8)
        return record

    async def _finish_record(self, record: Record | None, ended: TurnEnd, cold_before: bool) -> None:
        """Complete the turn's record with every figure and store it."""
        if self.journal is None or record is None:
            return
        running = await self._ps_quietly()
        problem = await asyncio.to_thread(
            self.journal.complete, record, ended, cold_before=cold_before, running=running, sampler=self.sampler
        )
        if problem:
            self.notify(f"Records: {problem}", severity="error", timeout=8)

    async def _ps_quietly(self) -> list[LoadedModel]:
        """/api/ps for the record; an unreachable Ollama just leaves the split blank."""
        if not self.connected:
            return []
        try:
            return await self.engine.ps()
        except OllamaError:
            return []

    def _start_live(self) -> None:
        self.timer_state = TimersState(phase="streaming", load_s=self.timer_state.load_s)
        self._show_timers()
        if self._live:
            self._live_timer = self.set_interval(self._live_interval, self._tick_live)

    def _stop_live(self) -> None:
        if self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None

    async def _tick_live(self) -> None:
        # One tick moves the text and the timers together, so they cost one screen update.
        turn, reply = self._turn, self._reply
        if turn is None or reply is None or turn.ended is not None:
            return
        with self.batch_update():
            await reply.flush()
            phase = "answering" if turn.first_answer else ("thinking" if turn.first_thinking else "waiting")
            self.timer_state = TimersState(phase=phase, load_s=self.timer_state.load_s, times=turn.times())
            self._show_timers()

    # Actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.streaming else None
        return True

    def action_stop(self) -> None:
        """Stop the answer; what came so far stays."""
        if self.streaming:
            self.workers.cancel_group(self, "chat")

    async def action_new_chat(self) -> None:
        """Forget the conversation and clear the screen (settings and model stay)."""
        self.workers.cancel_group(self, "chat")
        self.conversation.clear()
        if self.journal is not None:
            self.journal.new_chat()
        await self.chat_view.clear()
        self.timer_state = TimersState(phase="ready" if self.current_model else "idle", load_s=self.timer_state.load_s)
        self._show_timers()
        self.prompt_input.focus()

    def reopen_session(self, session_id: str) -> None:
        """Continue a past chat: show its turns and send its messages as context again."""
        self.run_worker(self._reopen(session_id), exclusive=True, group="chat")

    async def _reopen(self, session_id: str) -> None:
        journal = self.journal
        if journal is None:
            return
        store = journal.store
        session = await asyncio.to_thread(store.get_session, session_id)
        turns = await asyncio.to_thread(store.session_turns, session_id)
        if session is None:
            self.notify("That chat is no longer in the store.", severity="warning")
            return
        await self.chat_view.clear()
        self.conversation.settings = ChatSettings.from_saved(session.settings)
        self.conversation.turns = chat_messages(turns)
        await self.chat_view.replay(turns)
        journal.resume(session_id, len(turns))
        title = session.title or session_id[:8]
        await self._note(f"Reopened “{title}” ({len(turns)} turns): its messages go with the next prompt.")
        model = session.model
        if model and model != self.current_model and any(item.name == model for item in self.models):
            with self.picker.prevent(Select.Changed):
                self.picker.value = model
            self._choose(model)
        self.prompt_input.focus()

    def action_pick_model(self) -> None:
        """Open the model dropdown."""
        picker = self.picker
        picker.focus()
        picker.action_show_overlay()

    def action_settings(self) -> None:
        """Edit this chat's settings."""
        can_think = self.details.can_think if self.details else False

        def apply(settings: object) -> None:
            if settings is not None:
                self.conversation.settings = settings  # type: ignore[assignment]
                self.notify("Settings saved for this chat.")

        self.push_screen(
            SettingsScreen(self.conversation.settings, can_think=can_think, model=self.current_model), apply
        )

    @work(exclusive=True, group="baseline")
    async def action_measure_baseline(self) -> None:
        """Measure idle power: the median of the power source over a quiet window."""
        sampler = self.sampler
        if sampler is None or sampler.power is None:
            self.notify(f"No power source to measure: {no_power_reason(sampler) if sampler else 'sampling is off'}",
                        severity="warning", timeout=8)
            return
        if self.streaming:
            self.notify("Wait for the answer to end: idle means idle.", severity="warning")
            return
        hint = " Unload models for a true idle." if self.resources.loaded else ""
        self.notify(f"Measuring idle power for {BASELINE_SECONDS:.0f} s: keep the machine quiet.{hint}")
        start = await self.resources.mark()
        await asyncio.sleep(BASELINE_SECONDS)
        end = await self.resources.mark()
        if start is None or end is None:
            return
        watts = [value for _, value in sampler.series["watts"].between(start, end)]
        baseline = Baseline.from_watts(sampler.power.name, watts)
        if baseline is None:
            self.notify("No power readings came in; the idle baseline is unchanged.", severity="warning")
            return
        self.resources.baseline = baseline
        self.resources.refresh_view()
        if self._baselines is not None:
            self._baselines.set(socket.gethostname(), baseline)
        self.notify(f"Idle power: {baseline.watts:.1f} W (median of {baseline.samples} readings), remembered.")

    def action_history(self) -> None:
        """Past turns, the comparison table and saved chats."""
        if self.journal is None:
            self.notify("Records are not being saved, so there is no history to show.", severity="warning")
            return
        # Imported on first use: the charts' plotting library is not needed to start chatting.
        from tui.ui.history.history_screen import HistoryScreen

        self.push_screen(HistoryScreen(self.journal.store, on_reopen=self.reopen_session))

    def action_copy_answer(self) -> None:
        """Copy the last answer (OSC 52, so it works over SSH)."""
        replies = self.query(AssistantMessage)
        if not replies:
            self.notify("No answer to copy yet.", severity="warning")
            return
        text = replies.last().answer_text
        self.copy_to_clipboard(text)
        self.notify(f"Copied {len(text)} characters of the last answer.")

    # Rendering helpers

    async def _note(self, text: str, error: bool = False) -> None:
        await self.chat_view.add(NoteMessage(text, error=error))

    def _set_status(self, text: str) -> None:
        self.status_line.update(Content(text))

    def _show_timers(self) -> None:
        self.timers_panel.show(self.timer_state)
        self.timers_line.show(self.timer_state)
