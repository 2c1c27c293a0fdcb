"""ChatSession against the fake server (no UI): every way a turn ends leaves one final record."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devtools.fake_ollama import FakeModel, FakeOllama, default_models
from tests.helpers.clocks import StepClock
from tests.helpers.resources import NORMAL, scenario_sampler
from tui.core.chat.events import LoadFailed, LoadFinished, SessionEvent, TurnEnded, TurnStarted
from tui.core.chat.recorder import SweepTag, TurnRecorder
from tui.core.chat.session import ChatSession, NoModel, NothingToRegenerate, SessionBusy
from tui.core.ollama.client import OllamaEngine
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.events import AnswerDelta, ThinkingDelta
from tui.core.records.schema import HostInfo, Record, Status
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import ResourceMonitor

STALLS = FakeModel("stall:1b", family="llama", answer="one two three four five six", stall_after=2)


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    server = FakeOllama([*default_models(), STALLS], rate=2000.0).start()
    yield server
    server.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    with RecordStore.open(tmp_path / "r.sqlite") as opened:
        yield opened


class Events:
    """A listener that keeps every event and can act on one kind."""

    def __init__(self) -> None:
        self.seen: list[SessionEvent] = []
        self.on: dict[type, object] = {}

    async def __call__(self, event: SessionEvent) -> None:
        self.seen.append(event)
        action = self.on.pop(type(event), None)
        if callable(action):
            result = action()
            if asyncio.iscoroutine(result):
                await result

    def kinds(self) -> list[str]:
        return [type(event).__name__ for event in self.seen]


def make_session(fake: FakeOllama, store: RecordStore, events: Events) -> ChatSession:
    monitor = ResourceMonitor(scenario_sampler(NORMAL, ticks=3))
    recorder = TurnRecorder(store, HostInfo(hostname="testhost"))
    engine = OllamaEngine(fake.url, clock=StepClock())
    return ChatSession(engine, monitor, recorder=recorder, listener=events, clock=StepClock())


def final(store: RecordStore) -> list[Record]:
    records = store.records(newest_first=False, with_content=True)
    assert all(record.status is not Status.RUNNING for record in records), [r.status for r in records]
    return records


async def ready(fake: FakeOllama, store: RecordStore, model: str = "qwen3:8b") -> tuple[ChatSession, Events]:
    events = Events()
    session = make_session(fake, store, events)
    await session.refresh()
    assert await session.choose(model)
    return session, events


async def test_ok_turn_has_its_figures_and_explicit_load(fake: FakeOllama, store: RecordStore) -> None:
    """A good turn is recorded with its figures; only the first turn carries the explicit cold load."""
    session, events = await ready(fake, store)
    result = await session.send("hello")
    second = await session.send("again")
    assert result.status is Status.OK and result.answer and result.thinking
    first, again = final(store)
    assert first.status is Status.OK and first.load.cold is True and first.load.load_ms == pytest.approx(50)
    # The next turn does not inherit the explicit load: it has Ollama's warm load_duration.
    assert again.load.cold is False and again.load.load_ms is not None and again.load.load_ms < 50
    assert second.record is again or (second.record is not None and second.record.record_id == again.record_id)
    assert again.request.history_messages == 2 and first.session_id == again.session_id
    assert "TurnStarted" in events.kinds() and events.kinds()[-1] == "TurnEnded"


async def test_load_failure_is_an_event_not_an_exception(fake: FakeOllama, store: RecordStore) -> None:
    """A model that cannot load sends a LoadFailed event with its kind instead of raising."""
    events = Events()
    session = make_session(fake, store, events)
    await session.refresh()
    assert not await session.choose("deepseek-r1:14b")
    [failed] = [event for event in events.seen if isinstance(event, LoadFailed)]
    assert failed.failure.kind is ErrorKind.OUT_OF_MEMORY and not session.loading


async def test_midstream_error_is_a_failed_record(fake: FakeOllama, store: RecordStore) -> None:
    """A runner crash mid-answer leaves a failed record with the partial answer and estimated counts."""
    session, _ = await ready(fake, store, "gemma3:1b")
    result = await session.send("tell me more")
    [record] = final(store)
    assert result.status is Status.FAILED and record.status is Status.FAILED
    assert record.error_kind is ErrorKind.RUNNER_CRASHED and record.counts.estimated
    assert record.answer == result.answer != ""


@pytest.mark.parametrize("at", [TurnStarted, ThinkingDelta, AnswerDelta])
async def test_cancel_at_each_point_leaves_a_cancelled_record(fake: FakeOllama, store: RecordStore, at: type) -> None:
    """Cancelling at any point of a turn leaves a cancelled record and a session ready for the next."""
    session, events = await ready(fake, store)
    task = asyncio.ensure_future(session.send("hello"))
    events.on[at] = lambda: task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [record] = final(store)
    assert record.status is Status.CANCELLED and not session.busy
    assert isinstance(events.seen[-1], TurnEnded) and events.seen[-1].cancelled
    assert (await session.send("next")).status is Status.OK  # nothing is left stuck


async def test_cancel_while_finishing_still_completes_the_record(fake: FakeOllama, store: RecordStore) -> None:
    """Cancelling again and again while a turn winds down still leaves its cancelled record."""
    session, events = await ready(fake, store, "stall:1b")
    task = asyncio.ensure_future(session.send("hello"))
    events.on[AnswerDelta] = lambda: task.cancel()
    await asyncio.sleep(0)
    while not task.done():
        task.cancel()  # cancelled again and again, as an impatient user would
        await asyncio.sleep(0.01)
    await asyncio.wait_for(session._turn_over.wait(), 5)
    [record] = final(store)
    assert record.status is Status.CANCELLED


async def test_new_chat_mid_answer(fake: FakeOllama, store: RecordStore) -> None:
    """A new chat mid-answer cancels the turn, keeps its partial answer and closes the stream."""
    session, events = await ready(fake, store, "stall:1b")
    task = asyncio.ensure_future(session.send("hello"))
    started = asyncio.Event()
    events.on[AnswerDelta] = started.set
    await asyncio.wait_for(started.wait(), 5)
    await session.new_chat()
    assert task.done() and not session.busy and session.conversation.turns == []
    [record] = final(store)
    assert record.status is Status.CANCELLED and record.answer
    assert session.recorder is not None and session.recorder.session_id is None
    assert await asyncio.wait_for(_disconnected(fake), 5)


async def _disconnected(fake: FakeOllama) -> bool:
    while fake.disconnects == 0:
        await asyncio.sleep(0.01)
    return True


async def test_timeout_closes_the_stream_and_records_timeout(fake: FakeOllama, store: RecordStore) -> None:
    """A turn past its timeout closes the stream and is recorded as a timeout naming the limit."""
    session, _ = await ready(fake, store, "stall:1b")
    result = await session.send("hello", timeout=0.3)
    [record] = final(store)
    assert result.status is Status.TIMEOUT and record.status is Status.TIMEOUT
    assert record.error_kind is ErrorKind.TIMEOUT and "0.3 s" in (record.error or "")
    assert await asyncio.wait_for(_disconnected(fake), 5)


async def test_listener_error_fails_the_turn_and_reaches_the_caller(fake: FakeOllama, store: RecordStore) -> None:
    """An error in an event listener fails the turn's record and is raised to the caller."""
    session, events = await ready(fake, store)

    def broken() -> None:
        raise RuntimeError("widget gone")

    events.on[AnswerDelta] = broken
    with pytest.raises(RuntimeError, match="widget gone"):
        await session.send("hello")
    [record] = final(store)
    assert record.status is Status.FAILED and "widget gone" in (record.error or "")
    assert not session.busy


async def test_prompt_during_a_load_waits_for_it(fake: FakeOllama, store: RecordStore) -> None:
    """A prompt sent while the model loads is sent after the load, and the turn records it cold."""
    fake.load_delay = 0.3
    events = Events()
    session = make_session(fake, store, events)
    await session.refresh()
    loading = asyncio.ensure_future(session.choose("llama3.2:3b"))
    await asyncio.sleep(0.05)
    assert session.loading
    result = await session.send("hi")
    assert loading.done() and await loading
    assert result.status is Status.OK
    paths = [(r["path"], bool((r["body"] or {}).get("messages"))) for r in fake.requests if r["method"] == "POST"]
    assert paths.index(("/api/generate", False)) < paths.index(("/api/chat", True))
    [record] = final(store)
    assert record.load.cold is True and record.load.load_ms is not None and record.load.load_ms >= 0


async def test_refusals_before_anything_starts(fake: FakeOllama, store: RecordStore) -> None:
    """Sending with no model or during another turn is refused before anything starts."""
    events = Events()
    session = make_session(fake, store, events)
    await session.refresh()
    with pytest.raises(NoModel):
        await session.send("hi")
    await session.choose("stall:1b")
    task = asyncio.ensure_future(session.send("hi"))
    started = asyncio.Event()
    events.on[AnswerDelta] = started.set
    await asyncio.wait_for(started.wait(), 5)
    with pytest.raises(SessionBusy):
        await session.send("again")
    await session.stop()
    assert task.done() and len(final(store)) == 1


async def test_reopen_mid_answer_finishes_the_turn_first(fake: FakeOllama, store: RecordStore) -> None:
    """Reopening a chat mid-answer cancels that turn first, then loads the old chat's turns."""
    session, events = await ready(fake, store, "llama3.2:3b")
    await session.send("first chat")
    assert session.recorder is not None
    past = session.recorder.session_id
    assert past is not None
    await session.new_chat()
    await session.choose("stall:1b")
    task = asyncio.ensure_future(session.send("second chat"))
    started = asyncio.Event()
    events.on[AnswerDelta] = started.set
    await asyncio.wait_for(started.wait(), 5)
    reopened = await session.reopen(past)
    assert task.done() and reopened is not None and reopened.model == "llama3.2:3b"
    assert [m["role"] for m in session.conversation.turns] == ["user", "assistant"]
    statuses = [record.status for record in final(store)]
    assert statuses == [Status.OK, Status.CANCELLED]


async def test_sweep_runs_carry_their_tag_and_no_chat_session(fake: FakeOllama, store: RecordStore) -> None:
    """Sweep runs record their sweep tag and create no chat."""
    session, _ = await ready(fake, store, "llama3.2:3b")
    await session.send("hi", sweep=SweepTag("sweep1", repetition=0, warmup=True))
    [record] = final(store)
    assert (record.sweep_id, record.repetition, record.warmup) == ("sweep1", 0, True)
    assert record.session_id is None and store.chats() == []


async def test_cold_unload_is_confirmed(fake: FakeOllama, store: RecordStore) -> None:
    """Unloading all models is confirmed by Ollama and the session no longer holds the model."""
    session, events = await ready(fake, store, "llama3.2:3b")
    unloaded = await session.unload_all()
    assert unloaded.models == ("llama3.2:3b",) and unloaded.confirmed and fake.loaded == {}
    assert not session.holds("llama3.2:3b")
    assert any(isinstance(event, LoadFinished) for event in events.seen)


async def test_a_reopened_chat_gets_its_latest_settings_and_turns_keep_the_system_prompt(
    fake: FakeOllama, store: RecordStore
) -> None:
    """A reopened chat gets its latest settings; each turn keeps its own system prompt."""
    from tui.core.chat.conversation import ChatSettings

    session, _ = await ready(fake, store, "llama3.2:3b")
    session.settings = ChatSettings(system_prompt="Answer in French.", temperature=0.2)
    await session.send("first")
    session.settings = ChatSettings(system_prompt="Answer in German.", temperature=0.7)
    await session.send("second")
    assert session.recorder is not None
    chat = session.recorder.session_id
    assert chat is not None
    await session.new_chat()
    session.settings = ChatSettings()
    reopened = await session.reopen(chat)
    assert reopened is not None
    assert (session.settings.system_prompt, session.settings.temperature) == ("Answer in German.", 0.7)
    first, second = final(store)
    assert (first.request.system_prompt, second.request.system_prompt) == ("Answer in French.", "Answer in German.")


async def test_without_content_only_the_system_prompt_hash_is_kept(fake: FakeOllama, store: RecordStore) -> None:
    """With content off a turn keeps only the SHA-256 of its system prompt."""
    import hashlib

    from tui.core.chat.conversation import ChatSettings

    session, _ = await ready(fake, store, "llama3.2:3b")
    assert session.recorder is not None
    session.recorder.keep_content = False
    session.settings = ChatSettings(system_prompt="secret instructions")
    await session.send("hi")
    [record] = final(store)
    assert record.request.system_prompt is None
    assert record.request.system_prompt_sha256 == hashlib.sha256(b"secret instructions").hexdigest()


async def test_reload_for_another_num_ctx_is_a_cold_load(fake: FakeOllama, store: RecordStore) -> None:
    """The same model, loaded again with another context length, is loaded anew: cold, timed."""
    fake.load_delay = 0.05
    session, events = await ready(fake, store)
    session.settings = replace(session.settings, num_ctx=8192)
    assert await session.choose("qwen3:8b")
    bigger = session.last_load
    # Back to the model's default: the chat has no num_ctx, Ollama still reloads (8192 -> 4096).
    session.settings = replace(session.settings, num_ctx=None)
    assert await session.choose("qwen3:8b")
    default = session.last_load
    assert await session.choose("qwen3:8b")
    again = session.last_load
    assert bigger is not None and bigger.cold and default is not None and default.cold
    assert again is not None and not again.cold
    loads = [event for event in events.seen if isinstance(event, LoadFinished)]
    assert [event.cold for event in loads] == [True, True, True, False]
    await session.send("hello")
    [record] = final(store)
    assert record.load.cold is False  # the explicit load before it found the model in memory


async def test_regenerate_is_a_new_record_without_the_old_answer_in_context(
    fake: FakeOllama, store: RecordStore
) -> None:
    """Regenerate makes a new record; the model is not sent the answer being replaced."""
    session, _ = await ready(fake, store)
    with pytest.raises(NothingToRegenerate):
        await session.regenerate()
    await session.send("first")
    await session.send("second")
    again = await session.regenerate()
    records = final(store)
    assert [record.prompt for record in records] == ["first", "second", "second"]
    assert again.record is not None and again.record.record_id == records[-1].record_id
    # The model saw the first exchange and the prompt, not the answer it replaces.
    sent = fake.chat_requests[-1]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["first", "second"]
    assert len(session.conversation.turns) == 4


async def test_the_host_is_resolved_once_and_off_the_event_loop(
    fake: FakeOllama, store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the host is local is resolved once, in a worker thread, not on the event loop."""
    import threading

    import tui.core.chat.server as server_module

    calls: list[bool] = []

    def slow_resolver(url: str) -> bool:
        calls.append(threading.current_thread() is threading.main_thread())
        return True

    monkeypatch.setattr(server_module, "is_local", slow_resolver)
    session, _ = await ready(fake, store, "llama3.2:3b")
    await session.send("one")
    await session.refresh()
    await session.send("two")
    assert calls == [False]  # once, in a worker thread: a slow resolver never freezes the UI
    assert all(record.engine.remote is False for record in final(store))


async def test_the_record_keeps_the_server_version_and_the_context_the_model_ran_with(
    fake: FakeOllama, store: RecordStore
) -> None:
    """Each turn's record names the Ollama version and the context length /api/ps showed, asked for or default."""
    session, _ = await ready(fake, store)
    await session.send("default context")
    session.settings = replace(session.settings, num_ctx=8192)
    await session.send("asked for 8k")
    default, asked = final(store)
    assert default.engine.version == asked.engine.version == fake.version
    assert (default.load.context_length, asked.load.context_length) == (4096, 8192)


async def test_a_later_turn_counts_its_cached_prompt_tokens_apart(fake: FakeOllama, store: RecordStore) -> None:
    """On today's server the second turn's record says how many prompt tokens were cached; its rate leaves them out."""
    session, _ = await ready(fake, store)
    first = await session.send("hello")
    second = await session.send("and again")
    assert first.stats is not None and second.stats is not None
    assert first.stats.prompt_eval_cached_count is None  # nothing was cached before the first turn
    cached = second.stats.prompt_eval_cached_count
    assert cached is not None and 0 < cached < (second.stats.prompt_eval_count or 0)
    _, again = final(store)
    assert again.counts.prompt_cached_tokens == cached
    evaluated = (second.stats.prompt_eval_count or 0) - cached
    duration_s = (second.stats.prompt_eval_duration or 0) / 1e9
    assert again.rates.prompt_tok_s == pytest.approx(evaluated / duration_s)
