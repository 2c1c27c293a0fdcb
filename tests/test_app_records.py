"""Every chat turn becomes a record that matches what the fake server sent."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from devtools.fake_ollama import FakeModel, FakeOllama, default_models
from tests.helpers.apps import make_app, recording_app
from tests.helpers.pilot import choose, send, wait_until
from tui.core.records.schema import Record, Status
from tui.core.records.store import RecordStore
from tui.ui.chat.messages import AssistantMessage, NoteMessage
from tui.ui.chat.prompt import PromptInput
from tui.ui.panels.resources import MemoryPanel, PowerPanel

SIZE = (120, 40)


def records(store: RecordStore) -> list[Record]:
    return store.records(newest_first=False, with_content=True)


async def test_record_matches_what_the_server_sent(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A chat turn's record holds what the fake server sent and measured."""
    app, store = recording_app(fake_ollama.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await send(pilot, app, "用中文解释大语言模型")
        reply = app.query(AssistantMessage).last()
    [record] = records(store)
    model = next(m for m in default_models() if m.name == "qwen3:8b")
    assert record.status is Status.OK and record.turn_index == 0 and record.session_id
    stats = app.timer_state.stats
    assert stats is not None and record.counts.eval_tokens == stats.eval_count
    assert record.counts.thinking_chars == len(model.thinking_zh) == len(reply.thinking_text)
    assert record.counts.answer_chars == len(model.answer_zh)
    assert record.answer == model.answer_zh and record.prompt == "用中文解释大语言模型"
    timing = record.timing_ms
    assert timing.thinking is not None and timing.answer is not None and timing.total_wall is not None
    assert timing.thinking + timing.answer <= timing.total_wall
    assert record.counts.eval_tokens is not None and timing.eval is not None
    assert record.rates.eval_tok_s == pytest.approx(record.counts.eval_tokens / (timing.eval / 1000))
    assert record.load.processor == "100% GPU" and record.load.cold is True and record.load.load_ms
    assert record.model.quantization == "Q4_K_M" and "thinking" in record.model.capabilities
    assert record.engine.version == "0.12.6" and record.engine.remote is False
    assert record.host.hostname == "testhost"
    assert record.power.source == "fake-meter" and record.power.baseline_w == 5.0
    assert record.samples and record.resources.mem_used_peak_bytes
    assert oct(os.stat(tmp_path / "r.sqlite").st_mode & 0o777) == "0o600"


async def test_spilled_model_split_and_multi_turn_session(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A spilled model's CPU/GPU split is recorded, and turns of one chat share its session."""
    app, store = recording_app(fake_ollama.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "one")
        await send(pilot, app, "two")
        await pilot.press("ctrl+n")
        await send(pilot, app, "three")
    first, second, third = records(store)
    assert first.load.processor == "26%/74% CPU/GPU"
    assert first.session_id == second.session_id != third.session_id
    assert (first.turn_index, second.turn_index, third.turn_index) == (0, 1, 0)
    assert second.request.history_messages == 2 and first.timing_ms.thinking is None
    assert second.load.cold is False  # loaded before, not by this turn


async def test_failed_and_cancelled_turns_are_recorded(tmp_path: Path) -> None:
    """Failed and cancelled turns are recorded with their status."""
    flaky = FakeModel(
        name="flaky:1b",
        answer="one two three four five",
        midstream_error="model runner has unexpectedly stopped",
        midstream_after=2,
    )
    slow = FakeModel(name="slow:1b", answer=" ".join(["word"] * 200))
    with FakeOllama([flaky, slow], rate=2000.0) as server:
        app, store = recording_app(server.url, tmp_path / "r.sqlite")
        async with app.run_test(size=SIZE) as pilot:
            await choose(pilot, app, "flaky:1b")
            await send(pilot, app, "go")
            server.rate = 20.0
            await choose(pilot, app, "slow:1b")
            app.query_one(PromptInput).text = "go slowly"
            await pilot.press("enter")
            await wait_until(pilot, lambda: len(app.query(AssistantMessage).last().answer_text) > 3)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not app.streaming)
            await pilot.pause(0.1)
    failed, cancelled = records(store)
    assert failed.status is Status.FAILED and failed.error_kind is not None
    assert failed.error_kind.value == "runner_crashed"
    assert "unexpectedly stopped" in (failed.error or "") and failed.answer == "one two "
    assert failed.counts.estimated and failed.counts.eval_tokens == 2
    assert cancelled.status is Status.CANCELLED and cancelled.counts.estimated
    assert cancelled.answer and cancelled.answer.startswith("word")


async def test_content_can_be_left_out(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """With content off, the record keeps the figures but not the text."""
    app, store = recording_app(fake_ollama.url, tmp_path / "r.sqlite", keep_content=False)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "secret prompt")
    [record] = records(store)
    assert record.prompt is None and record.answer is None and record.counts.answer_chars


async def test_crashed_turns_become_interrupted_at_start(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A turn left running by a gone process is marked interrupted at start."""
    db = tmp_path / "r.sqlite"
    with RecordStore.open(db) as store:
        store.start_turn(Record())  # stamped with this pid: alive, so left alone
    with RecordStore.open(db) as store:
        store._conn.execute("UPDATE records SET writer_pid = 999999999")  # a process that is gone
    app, store = recording_app(fake_ollama.url, db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("interrupted" in str(n.render()) for n in app.query(NoteMessage)))
    [record] = store.records()
    assert record.status is Status.INTERRUPTED


async def test_unusable_database_is_reported_and_chat_still_works(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """An unusable database is reported and the chat still works."""
    app = make_app(
        fake_ollama.url,
        clock=time.monotonic,
        refresh_interval=5.0,
        store_problem="/x/records.sqlite: not an ollamon database (left untouched)",
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("not being saved" in str(n.render()) for n in app.query(NoteMessage)))
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "still works?")
        assert app.query(AssistantMessage).last().answer_text


async def test_reopened_chat_continues_with_its_context(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A reopened chat sends its earlier turns as context and continues its session."""
    app, store = recording_app(fake_ollama.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "remember 42")
        first = records(store)[0]
        assert "last answer" in app.query_one(MemoryPanel).plain_text()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "last answer" not in app.query_one(MemoryPanel).plain_text()  # the chat it measured is gone
        await send(pilot, app, "unrelated")
        app.reopen_chat(first.session_id or "")
        await wait_until(pilot, lambda: any("Reopened" in str(n.render()) for n in app.query(NoteMessage)))
        assert [str(m.render()) for m in app.query("UserMessage")] == ["remember 42"]
        await send(pilot, app, "what number?")
        request = fake_ollama.chat_requests[-1]
        assert [m["content"] for m in request["messages"]] == ["remember 42", first.answer, "what number?"]
    last = records(store)[-1]
    assert last.session_id == first.session_id and last.turn_index == 1


async def test_reopened_chat_shows_its_end_and_not_the_last_chats_figures(
    fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    """Ctrl+N and reopening drop the last chat's answer peaks; reopening scrolls to its end, resets status, timers."""
    app, store = recording_app(fake_ollama.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        for prompt in ("one", "two", "three", "four"):
            await send(pilot, app, prompt)
        first = records(store)[0]
        assert "last answer" in app.query_one(MemoryPanel).plain_text()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "last answer" not in app.query_one(MemoryPanel).plain_text()  # the chat it measured is gone
        await send(pilot, app, "unrelated")
        assert app.timer_state.times is not None
        assert "last answer" in app.query_one(MemoryPanel).plain_text()
        before = str(app.query_one("#status").render())
        app.reopen_chat(first.session_id or "")
        await wait_until(pilot, lambda: any("Reopened" in str(n.render()) for n in app.query(NoteMessage)))
        await pilot.pause()
        await pilot.pause()
        chat = app.chat_view
        assert chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y
        status = str(app.query_one("#status").render())
        assert status != before and "Reopened" in status and "llama3.2:3b" in status
        assert app.timer_state.times is None and app.timer_state.stats is None
        assert "last answer" not in app.query_one(MemoryPanel).plain_text()
        assert "last answer" not in app.query_one(PowerPanel).plain_text()
