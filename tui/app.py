"""The Textual app: renders what the chat session and the resource monitor report, and turns keys
into intents. Loading, turns, records and sampling all live in the core (`tui.core.chat.session`,
`tui.core.sampling.monitor`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from functools import partial
from importlib.resources import files
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, ClassVar, assert_never

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from tui.core import units
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
from tui.core.chat.session import ChatSession, NoModel, NothingToRegenerate, SessionBusy
from tui.core.ollama.client import OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.events import AnswerDelta, AnswerWasThinking, ThinkingDelta
from tui.core.ollama.models import CatalogModel
from tui.core.sampling.monitor import BaselineInterrupted
from tui.perf import hooks as perf
from tui.perf.keys_footer import KeysFooter
from tui.ui.chat.banner import ConnectionBanner
from tui.ui.chat.chat_view import ChatView
from tui.ui.chat.load_anyway import LoadAnywayScreen
from tui.ui.chat.messages import AssistantMessage, NoteMessage, UserMessage, outcome_line
from tui.ui.chat.model_picker import ModelPicker
from tui.ui.chat.prompt import PromptInput
from tui.ui.chat.status import StatusLine
from tui.ui.ending import EndRequested, ExitSignals
from tui.ui.panels.column import ResourceColumn, ResourceLine
from tui.ui.panels.timers import TimersLine, TimersPanel, TimersState

if TYPE_CHECKING:
    from textual.driver import Driver

    from tui.core.chat.recorder import TurnRecorder

STYLESHEETS = ("app.tcss", "chat.tcss", "panels.tcss", "settings.tcss", "history.tcss")
# Seconds of readings the idle baseline (f5) is measured over.
BASELINE_SECONDS = 10.0
# Quitting waits this long at most for an answer in flight to stop and its record to be finished.
STOP_TURN_S = 2.0
# Keys a browser keeps for itself (new window, new tab; Firefox quits on ctrl+q), each bound to an
# F key too: under `textual serve` the footer and the palette show that key instead.
BROWSER_KEEPS = {"ctrl+n": "f3", "ctrl+t": "f4", "ctrl+q": "f10"}
# The smallest terminal the chat screen lays out in (keep in step with the text of #too-small).
MIN_WIDTH, MIN_HEIGHT = 60, 16
# Opens the record store: the recorder, or None and why records cannot be saved.
OpenRecords = Callable[[], "tuple[TurnRecorder | None, str | None]"]
# Starts the metrics endpoint: the line to show, and whether it says metrics are off.
ServeMetrics = Callable[[], tuple[str, bool]]


def stylesheet_paths() -> list[str | PurePath]:
    """The .tcss files shipped in the package (`styles/` in a checkout)."""
    root = files("tui.styles")
    return [Path(str(root / name)) for name in STYLESHEETS]


def breakpoint_classes(
    size: Size, horizontal: list[tuple[int, str]] | None, vertical: list[tuple[int, str]] | None
) -> dict[str, bool]:
    """Each breakpoint class and whether it applies at `size`, as Textual decides on a resize."""
    classes: dict[str, bool] = {}
    for points, extent in ((horizontal or [], size.width), (vertical or [], size.height)):
        reached = [point for point in points if extent >= point[0]]
        chosen = max(reached)[1] if reached else None
        classes.update((name, name == chosen) for _, name in points)
    return classes


class OllamonApp(App[None]):
    """Chat with a local model and watch what each answer costs."""

    TITLE = "ollamon"
    CSS_PATH = stylesheet_paths()
    # Below MIN_WIDTH x MIN_HEIGHT the chat has no room for a line of answer: the screen then
    # shows one line saying so (`.-tiny`, `.-short` in app.tcss) instead of a squeezed layout.
    # Textual declares the breakpoints as instance attributes, so no ClassVar here.
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-tiny"),
        (MIN_WIDTH, "-narrow"),
        (100, "-wide"),
        (150, "-xwide"),
    ]
    # Under 48 rows the side column cannot hold the timers and all three resource panels: it
    # scrolls, the timers first, so Ollama's own figures stay in view after each turn.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (MIN_HEIGHT, "-tall"), (48, "-roomy")]  # noqa: RUF012
    # Footer order after Quit (Textual's own ctrl+q binding comes first) and the prompt's PgUp.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+l", "pick_model", "Model"),
        Binding("ctrl+n,f3", "new_chat", "New"),
        Binding("f2", "history", "History"),
        Binding("ctrl+s", "settings", "Settings"),
        Binding("ctrl+o", "copy_answer", "Copy"),
        # Shown where the footer has room (KeysFooter's `spare`), and always in the palette (ctrl+p).
        Binding("ctrl+r", "regenerate", "Again"),
        Binding("f5", "measure_baseline", "Idle W"),
        Binding("ctrl+t,f4", "toggle_thinking", "Thinking"),
        Binding("ctrl+q,f10", "quit", "Quit"),
    ]

    def __init__(
        self,
        session: ChatSession,
        *,
        model: str | None = None,
        live: bool = True,
        retry_interval: float = 2.0,
        refresh_interval: float = 5.0,
        live_interval: float = 0.25,
        wall_clock: Callable[[], float] = time.time,
        store_problem: str | None = None,
        open_records: OpenRecords | None = None,
        serve_metrics: ServeMetrics | None = None,
        baseline_seconds: float = BASELINE_SECONDS,
        exit_deadline: float | None = None,
    ) -> None:
        """`open_records` opens the record store after the first screen is drawn (the command
        line's way); a test gives the session its recorder, or `store_problem`, up front.
        `serve_metrics` (`--metrics`) starts the Prometheus endpoint then too and says how it went.
        `exit_deadline`: the process exits this many seconds after SIGTERM or SIGHUP, ended
        cleanly or not (the command line's; a test process must outlive its app)."""
        super().__init__()
        self._exit_deadline = exit_deadline
        self._exit_signals: ExitSignals | None = None
        self._leaving = False
        self.session = session
        session.listener = self._on_session_event
        self.monitor = session.monitor
        self._store_problem = store_problem
        self._open_records = open_records
        self._serve_metrics = serve_metrics
        self._wall_clock = wall_clock
        self._live = live
        self._retry_interval = retry_interval
        self._refresh_interval = refresh_interval
        self._live_interval = live_interval
        self._baseline_seconds = baseline_seconds
        self._preselect = model
        self.timer_state = TimersState()
        self._reply: AssistantMessage | None = None
        self._load_note: tuple[str, NoteMessage] | None = None
        self._live_timer: Timer | None = None
        self._beats = 0
        self._refreshed_at = 0.0
        self._asked_fit: set[str] = set()  # models whose predicted swap was asked about (once a run)
        self._confirmed_oversize: str | None = None  # a prompt beyond the context, warned about once

    # What the session knows, for the widgets (and tests) to read.

    @property
    def models(self) -> list[CatalogModel]:
        return self.session.models

    @property
    def loaded(self) -> set[str]:
        return {item.name for item in self.session.running}

    @property
    def current_model(self) -> str | None:
        return self.session.model

    @property
    def conversation(self) -> Conversation:
        return self.session.conversation

    @property
    def connected(self) -> bool | None:
        return self.session.connected

    @property
    def streaming(self) -> bool:
        """An answer is in flight, or a send is about to start one."""
        return self.session.busy or any(w.group == "chat" and not w.is_finished for w in self.workers)

    def compose(self) -> ComposeResult:
        # Textual gives the screen its breakpoint classes on its first Resize, after the first
        # frame: set them now, so a small terminal never flashes the squeezed chat. Before the
        # widgets mount, so their styles are worked out once, not again for the new classes.
        horizontal, vertical = self.HORIZONTAL_BREAKPOINTS, self.VERTICAL_BREAKPOINTS
        self.screen.update_classes(breakpoint_classes(self.size, horizontal, vertical))
        # Kept as attributes: workers may still finish while the app is tearing its screen down.
        self.picker = ModelPicker(id="model-select")
        self.status_line = StatusLine(id="status")
        self.banner = ConnectionBanner(id="banner")
        self.chat_view = ChatView(id="chat")
        self.timers_line = TimersLine(id="timers-line")
        self.prompt_input = PromptInput(id="prompt", placeholder="Ask something · Enter sends · ctrl+j new line")
        self.timers_panel = TimersPanel(id="timers")
        self.timers_panel.border_title = "Timers"
        self.resource_line = ResourceLine(id="resources-line")
        self.resources = ResourceColumn(
            self.monitor,
            line=self.resource_line,
            wall_clock=self._wall_clock,
            id="resources",
        )
        yield Static(Content(f"Needs at least {MIN_WIDTH}×{MIN_HEIGHT} · ctrl+q quits"), id="too-small")
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
        yield KeysFooter(compact=True, spare=("regenerate", "toggle_thinking", "measure_baseline"))

    def get_driver_class(self) -> type[Driver]:
        chosen = super().get_driver_class()
        if chosen.__name__ == "WebDriver":  # `textual serve` names it in TEXTUAL_DRIVER
            from tui.ui.served import ServedDriver

            if issubclass(ServedDriver, chosen):
                return ServedDriver
        return chosen

    def get_key_display(self, binding: Binding) -> str:
        """In a browser, a key it keeps for itself is shown as the F key that does the same."""
        instead = BROWSER_KEEPS.get(binding.key) if self.is_web else None
        return super().get_key_display(Binding(instead, binding.action) if instead else binding)

    def on_mount(self) -> None:
        # A `kill` or an SSH drop ends the app as ctrl+q does: Textual restores the screen and
        # the records are completed.
        self._exit_signals = ExitSignals(self, deadline=self._exit_deadline)
        self._exit_signals.install()
        self.banner.hide()
        self._set_status(f"connecting to {self.session.engine.host}…")
        self._show_timers()
        self.prompt_input.focus()
        if self._live:
            resources = self.resources

            def sampled(_sample: object) -> None:  # from the monitor's thread: post_message is thread-safe
                resources.post_message(ResourceColumn.Sampled())

            self.monitor.start(sampled)
        self.call_after_refresh(self._finish_start)
        new_chat = BROWSER_KEEPS["ctrl+n"] if self.is_web else "ctrl+n"
        self.call_later(
            self._note,
            "Choose a model (ctrl+l), type a prompt and press Enter. Escape stops an answer; "
            f"{new_chat} starts a new chat.",
        )
        if self._store_problem:
            self.call_later(self._note, f"Records are not being saved: {self._store_problem}", True)
        if self.session.recorder is not None:
            self.recover_records()

    @work(group="start", exit_on_error=False)
    async def _finish_start(self) -> None:
        """After the first paint: open the records, import the HTTP client (slow to import), then
        ask for the models: no model can be chosen, so no turn sent, before the records are open."""
        perf.app_started(self)
        if self._open_records is not None:
            recorder, problem = await asyncio.to_thread(self._open_records)
            self.session.recorder = recorder
            if problem:
                await self._note(f"Records are not being saved: {problem}", True)
            elif recorder is not None:
                self.recover_records()
        if self._serve_metrics is not None:
            said, off = await asyncio.to_thread(self._serve_metrics)
            await self._note(said, off)
        self.session.engine.prepare()
        self.refresh_models()
        if self._retry_interval > 0:  # polling starts here: no model list before the records are open
            self.set_interval(self._retry_interval, self._poll)

    def on_resize(self, _event: events.Resize) -> None:
        # Started too small (nothing to focus), the terminal made big enough gets its prompt back.
        if self.screen is self.screen_stack[0] and self.screen.focused is None:
            self.call_after_refresh(self.prompt_input.focus)

    def on_unmount(self) -> None:
        if self._exit_signals is not None:
            self._exit_signals.uninstall()
        self.monitor.stop()

    def on_end_requested(self, _message: EndRequested) -> None:
        self.leave()

    async def action_quit(self) -> None:
        """Quit (an answer in flight is stopped first, what came kept)."""
        self.leave()

    @work(group="leave", exit_on_error=False)
    async def leave(self) -> None:
        """End the app, an answer in flight stopped first and its record finished as cancelled."""
        if self._leaving:
            return
        self._leaving = True
        # A stop stuck past STOP_TURN_S must not keep the app: the next start marks the record interrupted.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_TURN_S):
                await self.session.stop()
        self.exit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """No worker error exits the app: the person sees what went wrong, the app stays."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"Something went wrong ({event.worker.group}): {type(error).__name__}: {error}",
                severity="error",
                timeout=10,
            )

    @work(group="store", exit_on_error=False)
    async def recover_records(self) -> None:
        """Turns a crash left running become `interrupted`: nothing is silently lost."""
        recorder = self.session.recorder
        assert recorder is not None
        count, problem = await asyncio.to_thread(recorder.recover)
        if problem:
            await self._note(f"Records: {problem}", True)
        elif count:
            await self._note(f"{count} turn(s) left running by an earlier crash were marked interrupted.")

    # Connection and model list

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def refresh_models(self) -> None:
        """List models and loaded models; on failure say so and retry."""
        first_contact = not self.session.connected
        try:
            await self.session.refresh()
        except OllamaError as exc:
            self._set_disconnected(exc)
        else:
            if first_contact:
                self.resources.remote_host = self.session.engine.host if self.session.remote else None
            self.resources.show_loaded(self.session.running)
            if self.monitor.sampler is not None:
                self.monitor.sampler.note_server(None)
            self._set_connected(first_contact)
            # Not exclusive: a first prediction fetching many tensor lists must not be restarted by every refresh.
            if not any(worker.group == "fit" and not worker.is_finished for worker in self.workers):
                self.predict_fits()
        self._refreshed_at = time.monotonic()
        if first_contact:
            perf.first_models_shown(self)

    @work(group="fit", exit_on_error=False)
    async def predict_fits(self) -> None:
        """The fit advisor's predictions (the session recomputes only what changed) for the marks and panel."""
        predictions = await self.session.refresh_predictions()
        self.picker.show_fits(predictions)
        self.resources.show_predictions(predictions)

    def _poll(self) -> None:
        """Retry often while Ollama is unreachable; otherwise refresh now and then."""
        busy = any(worker.group == "poll" and worker.is_running for worker in self.workers)
        due = not self.connected or time.monotonic() - self._refreshed_at >= self._refresh_interval
        if due and not busy:
            self.refresh_models()

    def _set_disconnected(self, exc: OllamaError) -> None:
        host = self.session.engine.host
        not_ollama = exc.kind is ErrorKind.NOT_OLLAMA
        if not_ollama:
            # It answered, so it is reachable: just not Ollama, and its process is not Ollama's.
            self.banner.show_not_ollama(exc.message, exc.kind.hint)
            self._set_status(f"Not Ollama at {host}: check --host", "not Ollama")
            self.resources.show_loaded_unknown("not Ollama")
        else:
            self.banner.show_unreachable(
                host, "connection refused" if exc.kind is ErrorKind.CONNECTION else exc.message
            )
            self._set_status(f"Ollama unreachable at {host}", "Ollama unreachable")
            self.resources.show_loaded_unknown("Ollama unreachable")
        if self.monitor.sampler is not None:
            self.monitor.sampler.note_server(exc.message if not_ollama else None)

    def _set_connected(self, first_contact: bool) -> None:
        models = self.session.models
        self.banner.hide()
        self.picker.show_models(models, self.loaded, keep=self.current_model)
        if first_contact:
            version = f"Ollama {self.session.version}" if self.session.version else "Ollama"
            self._set_status(
                f"{version} · {self.session.engine.host} · {len(models)} models", f"{version} · {len(models)} models"
            )
            if not models:
                self.call_later(
                    self._note, "No models installed yet: fetch one with `ollamon pull qwen3:8b` (or `ollama pull`)."
                )
            self._apply_preselect()

    def _apply_preselect(self) -> None:
        name, self._preselect = self._preselect, None
        if name is None or self.current_model is not None:
            return
        if any(model.name == name for model in self.models):
            self._show_choice(name)
            self.load_model(name)
        else:
            self.call_later(
                self._note,
                f"Model {name} is not installed here. Fetch it with `ollamon pull {name}` (or `ollama pull`).",
                True,
            )

    def _show_choice(self, name: str) -> None:
        with self.picker.prevent(Select.Changed):
            self.picker.value = name

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select is not self.picker:  # a dialog's choice (the settings' think level) is not a model
            return
        if event.value is Select.NULL:
            # The blank "Choose a model" entry is not a model: keep the chat's model on show.
            if self.current_model is not None:
                self._show_choice(self.current_model)
            return
        if event.value == self.current_model:
            return
        name = str(event.value)
        fit = self.session.predictions.get(name)
        if fit is None or not fit.verdict.unfit or name in self._asked_fit:
            self.load_model(name)
            self.prompt_input.focus()
            return
        self._asked_fit.add(name)
        previous = self.current_model

        def answer(load: bool | None) -> None:
            if load:
                self.load_model(name)
            elif previous is not None:
                self._show_choice(previous)
            else:
                with self.picker.prevent(Select.Changed):
                    self.picker.clear()
            self.prompt_input.focus()

        self.push_screen(LoadAnywayScreen(fit), answer)

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load_model(self, name: str) -> None:
        """Load the chosen model (the session times it and stops a running answer first)."""
        await self.session.choose(name)

    # Chatting

    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        if self.current_model is None:
            self.notify("Choose a model first (ctrl+l).", severity="warning")
            return
        if self.streaming:
            self.notify("Still answering: wait, or press Escape to stop it.", severity="warning")
            return
        oversize = self.session.over_context(message.text)
        if oversize is not None and message.text != self._confirmed_oversize:
            self._confirmed_oversize = message.text  # the same text again means: send it anyway
            estimate, context = oversize
            await self._note(
                f"This prompt and the chat so far are about {estimate:,} tokens; {self.current_model} runs with a "
                f"context of {context:,}, so Ollama would cut it. Enter sends it anyway; edit it, or raise num_ctx "
                "(ctrl+s), to keep it whole.",
                True,
            )
            return
        self._confirmed_oversize = None
        self.prompt_input.clear()
        self.run_turn(message.text)
        self.refresh_bindings()

    def action_toggle_thinking(self) -> None:
        """Open or fold the last answer's reasoning, focus staying where it is."""
        replies = self.query(AssistantMessage)
        if not any(reply.toggle_thinking() for reply in reversed(replies)):
            self.notify("No finished answer with reasoning to open.", severity="warning")

    def on_key(self, event: events.Key) -> None:
        # A letter typed with focus elsewhere in the chat (an answer, a panel) is meant for the prompt.
        prompt = self.prompt_input
        if event.is_printable and event.character and self.screen is prompt.screen and not prompt.has_focus:
            event.stop()
            prompt.focus()
            prompt.insert(event.character)

    @work(group="chat", exit_on_error=False)
    async def action_regenerate(self) -> None:
        """Answer the last prompt again (a new turn and record; the old answer stays on screen)."""
        try:
            await self.session.regenerate()
        except (SessionBusy, NothingToRegenerate) as exc:
            self.notify(str(exc), severity="warning")
        finally:
            self.refresh_bindings()

    @work(group="chat", exit_on_error=False)
    async def run_turn(self, prompt: str) -> None:
        """Send one prompt; the session streams it back through `_on_session_event`."""
        try:
            await self.session.send(prompt)
        except (SessionBusy, NoModel) as exc:
            self.notify(str(exc), severity="warning")
        finally:
            self.refresh_bindings()

    async def _on_session_event(self, event: SessionEvent) -> None:
        """Render what the session reports; an event type left out here is a type error (mypy)."""
        match event:
            case ThinkingDelta() | AnswerDelta() | AnswerWasThinking():
                await self._show_delta(event)
            case TurnStarted():
                await self._turn_started(event)
            case TurnEnded():
                await self._turn_ended(event)
            case LoadStarted():
                await self._load_started(event.model)
            case LoadFinished():
                self._load_finished(event)
            case LoadFailed():
                self._load_failed(event)
            case RecordProblem():
                self.notify(f"Records: {event.text}", severity="warning", timeout=8)
            case Unloaded():
                pass  # only `bench --cold` unloads; the app never asks for it
            case _:
                assert_never(event)

    async def _show_delta(self, event: ThinkingDelta | AnswerDelta | AnswerWasThinking) -> None:
        reply = self._reply
        if reply is None:
            return
        if isinstance(event, ThinkingDelta):
            reply.add_thinking(event.text)
        elif isinstance(event, AnswerDelta):
            reply.add_answer(event.text)
        else:
            await reply.answer_was_thinking(event.text)

    async def _load_started(self, name: str) -> None:
        if self._load_note is not None:
            before, note = self._load_note
            note.update(Content(f"Loading {before} stopped: {name} was chosen."))
        self._show_choice(name)
        note = NoteMessage(f"Loading {name}…")
        self._load_note = (name, note)
        await self.chat_view.add(note)
        self._set_status(f"loading {name}…", "loading…")
        self.timer_state = TimersState(phase="loading")
        self._show_timers()

    def _load_finished(self, event: LoadFinished) -> None:
        how = "cold load" if event.cold else "was in memory"
        took = units.seconds(event.seconds)
        if self._load_note is not None:
            if event.remote_host:
                done = f"{event.model} runs on {event.remote_host} (cloud): nothing loads on this machine"
            else:
                done = f"{event.model} loaded in {took} ({how})"
            self._load_note[1].update(Content(done))
            self._load_note = None
        self.timer_state = TimersState(phase="ready", load_s=event.seconds)
        self._show_timers()
        if event.remote_host:
            self._set_status(f"{event.model} · cloud, runs on {event.remote_host}", "cloud model")
        else:
            self._set_status(f"{event.model} · loaded in {took}", f"loaded in {took}")
        self.picker.show_models(self.models, self.loaded, keep=event.model)
        self.resources.show_loaded(self.session.running)

    def _load_failed(self, event: LoadFailed) -> None:
        failure = event.failure
        if self._load_note is not None:
            note = self._load_note[1]
            note.update(Content(f"Could not load {event.model}: {failure.message}\n{failure.hint}"))
            note.add_class("error")
            self._load_note = None
        self.timer_state = TimersState(phase="load failed")
        self._show_timers()
        self._set_status(f"{event.model} failed to load", "load failed")
        if failure.kind in (ErrorKind.CONNECTION, ErrorKind.NOT_OLLAMA):
            self._set_disconnected(OllamaError(failure.kind, failure.message))

    async def _turn_started(self, event: TurnStarted) -> None:
        await self.chat_view.add(UserMessage(event.prompt))
        self._reply = AssistantMessage(event.model)
        await self.chat_view.add(self._reply)
        self.resources.turn_started()
        self.timer_state = TimersState(phase="waiting", load_s=self.timer_state.load_s)
        self._show_timers()
        self.refresh_bindings()
        if self._live:
            self._beats = 0
            self._live_timer = self.set_interval(self._live_interval, self._beat)

    async def _turn_ended(self, result: TurnEnded) -> None:
        if self._live_timer is not None:
            self._live_timer.stop()
            self._live_timer = None
        times, failure, cost = result.times, result.failure, result.cost
        if result.cancelled:
            phase, outcome = "stopped", f"Stopped after {units.seconds(times.total)}; kept what came."
        elif failure is not None:
            phase = "failed"
            outcome = f"Error ({failure.kind.value}): {failure.message}\n{failure.hint}"
            if failure.kind in (ErrorKind.CONNECTION, ErrorKind.NOT_OLLAMA):
                self._set_disconnected(OllamaError(failure.kind, failure.message))
        else:
            phase, outcome = "done", outcome_line(times.total, times.chars_per_s, result.stats)
        if cost is not None and cost.swapped:
            outcome += f"\n⚠ swap grew by {units.memory_bytes(cost.swap_growth)} during this answer"
        if result.remote_host:
            outcome += f"\ncomputed remotely on {result.remote_host}: this machine's memory and power are not its cost"
        reply, self._reply = self._reply, None
        if reply is not None and reply.is_attached:
            await reply.finish(outcome, error=failure is not None)
        perf.turn_ended(self, self.chat_view)
        self.resources.turn_ended(cost)
        if self.connected is not False:  # else what is loaded stays unknown until Ollama answers
            self.resources.show_loaded(result.running or self.session.running)
        load_s = self.timer_state.load_s
        if result.load.cold and result.load.load_ms is not None:
            # The model was (re)loaded for this answer (another num_ctx, or it had been unloaded).
            load_s = result.load.load_ms / 1000
            took = units.seconds(load_s)
            self._set_status(f"{result.model} · loaded in {took}", f"loaded in {took}")
        self.timer_state = TimersState(phase=phase, load_s=load_s, times=times, stats=result.stats)
        self._show_timers()
        self.refresh_bindings()
        if self.connected:
            self.refresh_models()  # a cold load during the chat changes what /api/ps shows

    async def _beat(self) -> None:
        """The answer's text every second beat, the timers every fourth, in between.

        A frame repaints the rectangle around everything that changed: text and side-column
        timers in one frame would repaint the whole screen, in two frames only each column.
        """
        beat, self._beats = self._beats, self._beats + 1
        if beat % 2 == 0:
            await self._show_text()
        elif beat % 4 == 1:
            self._show_live_timers()

    async def _show_text(self) -> None:
        if self._reply is not None:
            await self._reply.flush()

    def _show_live_timers(self) -> None:
        turn = self.session.turn
        if turn is not None:
            self.timer_state = TimersState(phase=turn.phase, load_s=self.timer_state.load_s, times=turn.timer.times())
            self._show_timers()

    # Actions

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's commands, then every key of the screen by name: ctrl+p finds what the footer has no room for."""
        yield from super().get_system_commands(screen)
        seen = {"quit", "command_palette"}  # Textual lists these itself
        # A text field's own editing keys (cursor moves, selection, deletion) mean nothing as commands.
        editing = {binding.action for binding in (*TextArea.BINDINGS, *Input.BINDINGS) if isinstance(binding, Binding)}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            if isinstance(active.node, TextArea | Input) and binding.action in editing:
                continue
            seen.add(binding.action)
            name = binding.action.split("(")[0].rsplit(".", 1)[-1]
            method = getattr(active.node, f"action_{name}", None)
            help_text = (method.__doc__ or "").strip().splitlines()[0] if method and method.__doc__ else ""
            yield SystemCommand(
                f"{binding.description} ({self.get_key_display(binding) or key})",
                help_text,
                partial(self.run_action, binding.action, active.node),
            )

    def action_scroll_chat(self, where: str) -> None:
        """Scroll the conversation while typing (PageUp/PageDown, ctrl+home/end in the prompt)."""
        chat = self.chat_view
        if where == "home":
            chat.scroll_home()
        elif where == "end":
            chat.scroll_end()
        elif where == "up":
            chat.scroll_page_up()
        else:
            chat.scroll_page_down()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            # Hidden while idle: at 80 columns the footer has no cell to spare for a dim key.
            return self.streaming
        return True

    def action_stop(self) -> None:
        """Stop the answer; what came so far stays (the session completes its record)."""
        self.workers.cancel_group(self, "chat")

    @work(group="control", exit_on_error=False)
    async def action_new_chat(self) -> None:
        """Forget the conversation and clear the screen (settings and model stay)."""
        await self.session.new_chat()
        await self.chat_view.clear()
        self.resources.forget_last_answer()
        self.timer_state = TimersState(phase="ready" if self.current_model else "idle", load_s=self.timer_state.load_s)
        self._show_timers()
        self.prompt_input.focus()

    def reopen_chat(self, session_id: str) -> None:
        """Continue a past chat: show its turns and send its messages as context again."""
        self.run_worker(self._reopen(session_id), group="control", exit_on_error=False)

    async def _reopen(self, session_id: str) -> None:
        reopened = await self.session.reopen(session_id)
        if reopened is None:
            self.notify("That chat is no longer in the store.", severity="warning")
            return
        await self.chat_view.clear()
        await self.chat_view.replay(reopened.turns)
        title = reopened.chat.title or session_id[:8]
        await self._note(f"Reopened “{title}” ({len(reopened.turns)} turns): its messages go with the next prompt.")
        # The last chat's timers, load figures and answer cost are not this chat's: start as a new chat does.
        self.resources.forget_last_answer()
        self.timer_state = TimersState(phase="ready" if self.current_model else "idle")
        self._show_timers()
        model = reopened.model or self.current_model
        self._set_status(f"Reopened “{title}” · {model or 'no model'}", "reopened chat")
        self.call_after_refresh(self.chat_view.scroll_end, animate=False)
        model = reopened.model
        if model and model != self.current_model and any(item.name == model for item in self.models):
            self._show_choice(model)
            self.load_model(model)
        self.prompt_input.focus()

    def action_pick_model(self) -> None:
        """Open the model dropdown."""
        picker = self.picker
        picker.focus()
        picker.action_show_overlay()

    def action_settings(self) -> None:
        """Edit this chat's settings."""
        from tui.ui.settings.settings_screen import SettingsScreen  # on first use, like the history

        def apply(settings: ChatSettings | None) -> None:
            if settings is None:
                return
            reload = settings.num_ctx != self.session.settings.num_ctx and self.current_model is not None
            self.session.settings = settings
            if reload and not self.streaming:
                # Ollama reloads the model for another context length: time it now, in view,
                # rather than inside the next answer.
                self.load_model(self.current_model)
            self.notify("Settings saved for this chat.")

        self.push_screen(
            SettingsScreen(
                self.session.settings,
                can_think=self.session.can_think,
                model=self.current_model,
                context_length=self.session.context_length,
            ),
            apply,
        )

    @work(exclusive=True, group="baseline", exit_on_error=False)
    async def action_measure_baseline(self) -> None:
        """Measure idle power over a quiet window; a prompt sent meanwhile stops it."""
        if self.streaming:
            self.notify("Wait for the answer to end: idle means idle.", severity="warning")
            return
        if self.monitor.power_why:
            self.notify(
                "Idle power cannot be measured: there is no power reading (see the Power panel).", severity="warning"
            )
            return
        hint = " Unload models for a true idle." if self.loaded else ""
        self.notify(f"Measuring idle power for {self._baseline_seconds:.0f} s: keep the machine quiet.{hint}")
        try:
            baseline = await self.monitor.measure_baseline(self._baseline_seconds)
        except BaselineInterrupted:
            self.notify("Idle measurement stopped: a prompt was sent. The old baseline stays.", severity="warning")
            return
        if baseline is None:
            self.notify("No power readings came in; the idle baseline is unchanged.", severity="warning")
            return
        self.resources.refresh_view()
        self.notify(f"Idle power: {baseline.watts:.1f} W (mean over {baseline.samples} readings), remembered.")

    def action_history(self) -> None:
        """Past turns, the comparison table and saved chats."""
        recorder = self.session.recorder
        if recorder is None:
            self.notify("Records are not being saved, so there is no history to show.", severity="warning")
            return
        # Imported on first use: the charts' plotting library is not needed to start chatting.
        from tui.ui.history.history_screen import HistoryScreen

        self.push_screen(HistoryScreen(recorder.store, on_reopen=self.reopen_chat))

    def action_copy_answer(self) -> None:
        """Copy the focused answer, else the last (OSC 52, so it works over SSH)."""
        focused = self.focused
        chosen = next(
            (node for node in (focused.ancestors_with_self if focused else ()) if isinstance(node, AssistantMessage)),
            None,
        )
        replies = self.query(AssistantMessage)
        if chosen is None and not replies:
            self.notify("No answer to copy yet.", severity="warning")
            return
        reply = chosen or replies.last()
        which = "this" if chosen is not None else "the last"
        if not reply.answer_text:  # stopped while thinking: leave the clipboard as it was
            self.notify(f"No answer to copy yet: {which} reply has no answer text.", severity="warning")
            return
        self.copy_to_clipboard(reply.answer_text)
        self.notify(f"Copied {len(reply.answer_text)} characters of {which} answer.")

    # Rendering helpers

    async def _note(self, text: str, error: bool = False) -> None:
        await self.chat_view.add(NoteMessage(text, error=error))

    def _set_status(self, text: str, short: str | None = None) -> None:
        # The short form leaves out what the model picker beside it already shows.
        self.status_line.say(text, short)

    def _show_timers(self) -> None:
        self.timers_panel.show(self.timer_state)
        self.timers_line.show(self.timer_state)
