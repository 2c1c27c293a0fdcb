"""Stopping, new chats and reopening in the middle of an answer: the app lives, records are final."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from devtools.fake_ollama import FakeModel, FakeOllama
from tests.helpers.apps import make_app, recording_app
from tests.helpers.pilot import choose, notices, send, wait_until
from tests.helpers.resources import NORMAL
from tui.app import OllamonApp
from tui.core.chat.recorder import TurnRecorder
from tui.core.records.schema import HostInfo, Status
from tui.core.records.store import RecordStore
from tui.ui.chat.messages import AssistantMessage, NoteMessage, UserMessage
from tui.ui.chat.prompt import PromptInput

SIZE = (120, 40)
QUICK = FakeModel("quick:1b", family="llama", answer="short and done")
STALLS = FakeModel("stall:1b", family="llama", answer="one two three four five six", stall_after=3)


@pytest.fixture
def server() -> Iterator[FakeOllama]:
    fake = FakeOllama([QUICK, STALLS], rate=2000.0).start()
    yield fake
    fake.stop()


async def start_answer(pilot: Pilot, app: OllamonApp, text: str) -> None:
    """Send `text` to the stalling model and wait until part of the answer is on its way."""
    app.query_one(PromptInput).text = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.session.turn is not None and bool(app.session.turn.answer))


async def test_ctrl_n_mid_answer_keeps_the_app_and_finishes_the_record(server: FakeOllama, tmp_path: Path) -> None:
    """Ctrl+N mid-answer keeps the app running and finishes the turn's record."""
    app, store = recording_app(server.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "stall:1b")
        await start_answer(pilot, app, "tell me")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.streaming and not app.query(UserMessage))
        assert app.is_running and app.conversation.turns == []
        await choose(pilot, app, "quick:1b")
        await send(pilot, app, "still here?")
        assert app.query(AssistantMessage).last().answer_text == "short and done"
    statuses = [record.status for record in store.records(newest_first=False)]
    assert statuses == [Status.CANCELLED, Status.OK]


async def test_reopen_mid_answer_keeps_the_app_and_finishes_the_record(server: FakeOllama, tmp_path: Path) -> None:
    """Reopening a chat mid-answer keeps the app running and finishes the turn's record."""
    app, store = recording_app(server.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "quick:1b")
        await send(pilot, app, "first chat")
        past = store.records()[0].session_id
        await pilot.press("ctrl+n")
        await choose(pilot, app, "stall:1b")
        await start_answer(pilot, app, "second chat")
        app.reopen_chat(past or "")
        await wait_until(pilot, lambda: any("Reopened" in str(n.render()) for n in app.query(NoteMessage)))
        assert app.is_running and [str(m.render()) for m in app.query(UserMessage)] == ["first chat"]
        await wait_until(pilot, lambda: app.current_model == "quick:1b" and app.timer_state.phase == "ready")
        await send(pilot, app, "and now?")
    statuses = [record.status for record in store.records(newest_first=False)]
    assert statuses == [Status.OK, Status.CANCELLED, Status.OK]


async def test_escape_right_after_enter_never_blocks_later_prompts(server: FakeOllama, tmp_path: Path) -> None:
    """Escape right after Enter never blocks the prompts after it."""
    app, store = recording_app(server.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "quick:1b")
        prompt = app.query_one(PromptInput)
        prompt.text = "stop at once"
        await pilot.press("enter", "escape")
        await wait_until(pilot, lambda: not app.streaming)
        await send(pilot, app, "this one goes through")
        assert app.query(AssistantMessage).last().answer_text == "short and done"
    records = store.records(newest_first=False, with_content=True)
    assert records[-1].status is Status.OK and records[-1].prompt == "this one goes through"
    assert all(record.status is not Status.RUNNING for record in records)


async def test_a_failing_history_read_is_a_message_not_an_exit(
    server: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history read that fails is a notification, not an exit."""
    app, store = recording_app(server.url, tmp_path / "r.sqlite")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("unexpected row")

    monkeypatch.setattr(store, "query", broken)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: any("unexpected row" in notice for notice in notices(app)))
        assert app.is_running
        await pilot.press("escape")
        await choose(pilot, app, "quick:1b")
        await send(pilot, app, "still chatting")
        assert app.query(AssistantMessage).last().answer_text == "short and done"


async def test_choosing_the_blank_entry_loads_nothing(server: FakeOllama, tmp_path: Path) -> None:
    """Choosing the blank dropdown entry loads nothing and keeps the model."""
    from textual.widgets import Select

    from tui.ui.chat.model_picker import ModelPicker

    app, store = recording_app(server.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "quick:1b")
        loads = len([r for r in server.requests if r["path"] in ("/api/generate", "/api/show")])
        picker = app.query_one(ModelPicker)
        picker.value = Select.NULL
        await pilot.pause(0.3)
        # Read afresh: the picker set to blank just above has chosen the model again.
        assert app.current_model == "quick:1b" and app.query_one(ModelPicker).value == "quick:1b"
        assert len([r for r in server.requests if r["path"] in ("/api/generate", "/api/show")]) == loads
        await send(pilot, app, "still the same model")
    assert [r.model.name for r in store.records()] == ["quick:1b"]


async def test_a_prompt_during_the_idle_measurement_stops_it(server: FakeOllama, tmp_path: Path) -> None:
    """A prompt sent during the idle measurement stops it."""
    store = RecordStore.open(tmp_path / "r.sqlite")
    app = make_app(
        server.url,
        live=True,
        recorder=TurnRecorder(store, HostInfo(hostname="testhost")),
        scenario=NORMAL,
        ticks=8,
        baseline_seconds=30,
    )
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "quick:1b")
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.monitor.measuring)
        await send(pilot, app, "a prompt while measuring")
        await wait_until(pilot, lambda: any("Idle measurement stopped" in notice for notice in notices(app)))
        assert app.monitor.baseline is None and not app.monitor.measuring
