"""Pilot tests of the chat app against the fake Ollama server: what a person does and sees."""

from __future__ import annotations

import gc
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual._styles_cache import StylesCache  # the private cache is what the memory tests measure
from textual.widget import Widget
from textual.widgets import Collapsible, Input, Select
from textual.widgets._collapsible import CollapsibleTitle
from textual.widgets._footer import FooterKey  # not exported; the app's own footer imports it so too

from devtools.fake_ollama import FakeModel, FakeOllama, default_models
from tests.helpers.apps import make_app, recording_app
from tests.helpers.pilot import burst, choose, notices, send, wait_until
from tui.app import OllamonApp
from tui.core.chat.think import ThinkLevel
from tui.core.records.schema import Status
from tui.ui.chat.banner import ConnectionBanner
from tui.ui.chat.markdown_text import MarkdownText
from tui.ui.chat.messages import AssistantMessage, NoteMessage, UserMessage
from tui.ui.chat.model_picker import ModelPicker
from tui.ui.chat.prompt import PromptInput
from tui.ui.panels.timers import TimersPanel

SIZE = (120, 40)


def _render_text(app: OllamonApp) -> str:
    return app.query_one(TimersPanel).plain_text(40)


async def test_models_listed_with_size_and_quantization(fake_ollama: FakeOllama) -> None:
    """The dropdown lists every model with its size and quantization, and the status shows the version."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        picker = app.query_one(ModelPicker)
        labels = [str(prompt) for prompt, _ in picker.choices]
        names = [model.name for model in default_models()]
        assert sorted(value for _, value in picker.choices) == sorted(names)
        assert any("qwen3:8b" in label and "5.2 GB" in label and "Q4_K_M" in label for label in labels)
        assert "0.12.6" in str(app.query_one("#status").render())


async def test_choose_model_loads_and_shows_load_time(fake_ollama: FakeOllama) -> None:
    """Choosing a model loads it, says how long the load took and marks it loaded."""
    fake_ollama.load_delay = 0.3
    app = make_app(fake_ollama.url, clock=time.monotonic)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        assert app.timer_state.load_s is not None and app.timer_state.load_s >= 0.3
        note = app.query(NoteMessage).last()
        assert "qwen3:8b loaded in" in str(note.render()) and "cold load" in str(note.render())
        assert "qwen3:8b" in fake_ollama.loaded
        await wait_until(pilot, lambda: "qwen3:8b" in app.loaded)
        label = next(str(p) for p, v in app.query_one(ModelPicker).choices if v == "qwen3:8b")
        assert label.startswith("●")


async def test_preselected_model_is_loaded(fake_ollama: FakeOllama) -> None:
    """A model named at start-up is loaded and shown as chosen in the dropdown."""
    app = make_app(fake_ollama.url, model="llama3.2:3b")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.timer_state.phase == "ready")
        assert app.current_model == "llama3.2:3b"
        assert app.query_one(ModelPicker).value == "llama3.2:3b"


async def test_missing_preselected_model_says_how_to_pull(fake_ollama: FakeOllama) -> None:
    """A model named at start-up that is not installed gets an error note saying to `ollamon pull` it."""
    app = make_app(fake_ollama.url, model="nope:1b")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("nope:1b" in str(n.render()) for n in app.query(NoteMessage)))
        note = next(n for n in app.query(NoteMessage) if "nope:1b" in str(n.render()))
        assert "ollamon pull nope:1b" in str(note.render()) and note.has_class("error")


async def test_thinking_then_answer_stream_and_timers(fake_ollama: FakeOllama) -> None:
    """Thinking then the answer stream in as the server sent them, and the timers show every figure."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await send(pilot, app, "Why is the sky blue?")
        reply = app.query(AssistantMessage).last()
        model = next(m for m in default_models() if m.name == "qwen3:8b")
        assert reply.thinking_text == model.thinking
        assert reply.answer_text == model.answer
        request = fake_ollama.chat_requests[-1]
        assert request["think"] is True
        assert request["messages"] == [{"role": "user", "content": "Why is the sky blue?"}]
        times = app.timer_state.times
        assert times is not None and times.thinking is not None and times.answer is not None
        assert times.thinking + times.answer <= times.total
        assert app.timer_state.stats is not None and app.timer_state.stats.eval_count
        text = _render_text(app)
        for label in (
            "first token",
            "thinking",
            "answer",
            "total",
            "chars/s",
            "eval rate",
            "prompt eval rate",
            "load duration",
        ):
            assert label in text
        assert "tokens/s" in text


async def test_chinese_answer_counts_characters(fake_ollama: FakeOllama) -> None:
    """A Chinese answer's thinking and answer are counted in characters, as the reply shows them."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await send(pilot, app, "用中文解释大语言模型")
        reply = app.query(AssistantMessage).last()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in reply.answer_text)
        times = app.timer_state.times
        assert times is not None
        assert times.answer_chars == len(reply.answer_text)
        assert times.thinking_chars == len(reply.thinking_text)


async def test_multi_turn_context_is_sent(fake_ollama: FakeOllama) -> None:
    """The second prompt goes with the first exchange before it, and with no think flag for this model."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "first")
        first_answer = app.query(AssistantMessage).last().answer_text
        await send(pilot, app, "second")
        request = fake_ollama.chat_requests[-1]
        assert request["messages"] == [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": first_answer},
            {"role": "user", "content": "second"},
        ]
        assert "think" not in request or request["think"] is None


async def test_inline_think_tags_are_split(fake_ollama: FakeOllama) -> None:
    """A model's inline <think> tags split its text into thinking and answer; neither shows a tag."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "deepseek-r1:1.5b")
        await send(pilot, app, "hello")
        reply = app.query(AssistantMessage).last()
        assert reply.thinking_text and "<think>" not in reply.thinking_text
        assert reply.answer_text and "think>" not in reply.answer_text


async def test_escape_stops_the_answer_and_closes_the_stream(fake_ollama: FakeOllama) -> None:
    """Escape stops the answer, the text so far stays on screen and in the conversation, the stream closes."""
    # The runner hangs after three tokens, so Escape always comes before the end, however busy
    # the machine (at 20 tok/s the short answer sometimes finished first under xdist).
    fake_ollama.models["llama3.2:3b"].stall_after = 3
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        prompt = app.query_one(PromptInput)
        prompt.text = "tell me a story"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.query(AssistantMessage).last().answer_text) > 5)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.streaming)
        reply = app.query(AssistantMessage).last()
        kept = reply.answer_text
        assert kept and app.timer_state.phase == "stopped"
        assert "Stopped after" in str(reply.query_one(".outcome").render())
        await wait_until(pilot, lambda: fake_ollama.disconnects == 1, timeout=15)  # hang guard only
        assert app.conversation.turns[-1] == {"role": "assistant", "content": kept}


async def test_new_chat_clears_conversation(fake_ollama: FakeOllama) -> None:
    """Ctrl+N empties the chat, and the next prompt is sent without the old turns."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "hi")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not app.query(UserMessage) and not app.conversation.turns
        await send(pilot, app, "again")
        assert len(fake_ollama.chat_requests[-1]["messages"]) == 1


async def test_empty_prompt_is_ignored(fake_ollama: FakeOllama) -> None:
    """Enter on a blank prompt sends nothing and says nothing; a real prompt then goes through once."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        prompt = app.query_one(PromptInput)
        prompt.focus()
        prompt.text = "   \n  "
        await pilot.press("enter")
        await pilot.pause()
        # Nothing to see: no message, no warning, the blank text left where it was.
        assert not app.query(UserMessage) and not notices(app) and prompt.text == "   \n  "
        # Positive control: in the same state a real prompt goes through, and it is the only request.
        await send(pilot, app, "hello")
        assert [m.content for m in app.query(UserMessage)] == ["hello"] and prompt.text == ""
        assert [r["messages"][-1]["content"] for r in fake_ollama.chat_requests] == ["hello"]


async def test_multi_line_paste_is_sent_whole(fake_ollama: FakeOllama) -> None:
    """A pasted 20,000-character text of several lines is sent exactly as pasted (Enter twice: it is beyond 4,096)."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        prompt = app.query_one(PromptInput)
        prompt.focus()
        pasted = "line one\nline two\n" + "x" * 20_000
        app.post_message(events.Paste(pasted))  # as the driver delivers it
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("context of" in str(n.render()) for n in app.query(NoteMessage)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(fake_ollama.chat_requests))
        await wait_until(pilot, lambda: not app.streaming)
        assert fake_ollama.chat_requests[-1]["messages"][-1]["content"] == pasted


async def test_load_failure_is_shown_and_app_stays_usable(fake_ollama: FakeOllama) -> None:
    """A model too big to load says why and what to do, and another model can then be chosen and used."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "deepseek-r1:14b")
        note = str(app.query(NoteMessage).last().render())
        assert "Could not load deepseek-r1:14b" in note
        assert "requires more system memory" in note
        assert "smaller model" in note
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "still there?")
        assert app.query(AssistantMessage).last().answer_text


async def test_mid_stream_error_keeps_partial_answer() -> None:
    """A runner crash mid-answer keeps the words so far and names the error under them."""
    model = FakeModel(
        name="flaky:1b",
        answer="one two three four five six",
        midstream_error="model runner has unexpectedly stopped, this may be due to "
        "resource limitations or an internal error",
        midstream_after=3,
    )
    with FakeOllama([model], rate=2000.0) as server:
        app = make_app(server.url)
        async with app.run_test(size=SIZE) as pilot:
            await choose(pilot, app, "flaky:1b")
            await send(pilot, app, "go")
            reply = app.query(AssistantMessage).last()
            outcome = str(reply.query_one(".outcome").render())
            assert reply.answer_text == "one two three "
            assert "runner_crashed" in outcome and "unexpectedly stopped" in outcome
            assert app.timer_state.phase == "failed"


async def test_stream_without_done_says_figures_are_estimated() -> None:
    """An answer that ends without Ollama's final figures says that its figures are estimated."""
    model = FakeModel(name="cut:1b", answer="a b c", end_without_done=True)
    with FakeOllama([model], rate=2000.0) as server:
        app = make_app(server.url)
        async with app.run_test(size=SIZE) as pilot:
            await choose(pilot, app, "cut:1b")
            await send(pilot, app, "go")
            outcome = str(app.query(AssistantMessage).last().query_one(".outcome").render())
            assert "estimated" in outcome
            assert app.timer_state.stats is None and app.timer_state.phase == "done"


async def test_untrusted_output_is_literal_and_escape_free() -> None:
    """Markup in an answer or prompt shows as literal text, and terminal escape codes are dropped."""
    nasty = "[bold]x[/] [link=http://evil]y[/link] \x1b]0;pwned\x07\x1b[31mred\x1b[0m done"
    with FakeOllama([FakeModel(name="nasty:1b", answer=nasty)], rate=2000.0) as server:
        app = make_app(server.url)
        async with app.run_test(size=SIZE) as pilot:
            await choose(pilot, app, "nasty:1b")
            await send(pilot, app, "[red]prompt[/]")
            reply = app.query(AssistantMessage).last()
            assert "\x1b" not in reply.answer_text and "\x07" not in reply.answer_text
            assert "[bold]x[/]" in reply.answer_text and "red done" in reply.answer_text
            assert "[red]prompt[/]" in str(app.query(UserMessage).last().render())


async def test_ollama_down_then_up_is_survived() -> None:
    """With Ollama down a banner names its URL and --host; it goes when Ollama is back, each time."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(f"http://127.0.0.1:{port}")
    async with app.run_test(size=SIZE) as pilot:
        banner = app.query_one(ConnectionBanner)
        await wait_until(pilot, lambda: app.connected is False)
        text = str(banner.render())
        assert banner.display and f"http://127.0.0.1:{port}" in text and "--host" in text
        with FakeOllama(default_models(), rate=2000.0, port=port):
            await wait_until(pilot, lambda: app.connected is True)
            assert not banner.display and app.models
            await choose(pilot, app, "llama3.2:3b")
        await wait_until(pilot, lambda: app.connected is False)
        assert banner.display
        with FakeOllama(default_models(), rate=2000.0, port=port):
            await wait_until(pilot, lambda: app.connected is True)
            await send(pilot, app, "back?")
            assert app.query(AssistantMessage).last().answer_text


async def test_settings_are_sent_with_each_request(fake_ollama: FakeOllama) -> None:
    """Saved settings (system prompt, temperature, num_ctx, seed, think, keep_alive) go with the next request."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#system", Input).value = "Answer briefly."
        screen.query_one("#temperature", Input).value = "0.2"
        screen.query_one("#num_ctx", Input).value = "8192"
        screen.query_one("#seed", Input).value = "7"
        screen.query_one("#think", Select).value = ThinkLevel.OFF
        screen.query_one("#keep_alive", Input).value = "10m"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await send(pilot, app, "hi")
        request = fake_ollama.chat_requests[-1]
        assert request["options"] == {"temperature": 0.2, "num_ctx": 8192, "seed": 7}
        assert request["think"] is False and request["keep_alive"] == "10m"
        assert request["messages"][0] == {"role": "system", "content": "Answer briefly."}
        assert not app.query(AssistantMessage).last().thinking_text


async def test_settings_typed_in_one_burst_land_in_their_fields(fake_ollama: FakeOllama) -> None:
    """`A` Tab `1` Tab `2048` Tab `42` arriving at once fill their four fields; Shift+Tab goes back as promptly."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        typed = ["A", "tab", "1", "tab", "2", "0", "4", "8", "tab", "4", "2"]
        await burst(pilot, *typed, "shift+tab", "shift+tab", "0", ".", "5")
        fields = ("system", "temperature", "num_ctx", "seed")
        assert [app.screen.query_one(f"#{name}", Input).value for name in fields] == ["A", "0.5", "2048", "42"]


async def test_settings_reject_bad_values(fake_ollama: FakeOllama) -> None:
    """A temperature out of range is refused with the range allowed, and Escape leaves the setting unset."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#temperature", Input).value = "9"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "0 to 2" in str(app.screen.query_one("#temperature-why").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.conversation.settings.temperature is None


async def test_think_level_chosen_by_keyboard_is_sent(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """Tab to Think, Enter, pick "high", Tab to Save, Enter: the next request and its record carry think "high"."""
    app, store = recording_app(fake_ollama.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*["tab"] * 5)
        assert app.focused is app.screen.query_one("#think", Select)
        await pilot.press("enter", "down", "down", "down", "enter", "tab")
        assert app.focused is not None and app.focused.id == "save"
        await pilot.press("enter")
        await pilot.pause()
        # Only the model picker picks models: the dialog's choice left the chat's model alone.
        assert app.session.settings.think is ThinkLevel.HIGH and app.current_model == "qwen3:8b"
        await send(pilot, app, "hi")
    assert fake_ollama.chat_requests[-1]["think"] == "high"
    with store:
        [record] = store.records(newest_first=False)
    assert record.request.think == "high"


async def test_think_is_offered_only_for_a_model_that_can_think(fake_ollama: FakeOllama) -> None:
    """For a model without the thinking capability Think is disabled, says why, and Tab goes past it to Save."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.query_one("#think", Select).disabled
        assert "llama3.2:3b has no thinking capability" in str(app.screen.query_one("#think-note").render())
        await pilot.press(*["tab"] * 5)
        assert app.focused is not None and app.focused.id == "save"


# What Ollama before 0.22 answers (HTTP 400, before any byte) to think "max".
OLD_OLLAMA_REFUSES_MAX = 'invalid think value: "max" (must be "high", "medium", "low", true, or false)'


async def test_a_think_level_the_server_refuses_ends_the_turn_with_its_message(
    fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    """Think "max" goes to the server as it is; an older Ollama's 400 ends the turn failed, in Ollama's words."""
    app, store = recording_app(fake_ollama.url, tmp_path / "r.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        app.session.settings = replace(app.session.settings, think=ThinkLevel.MAX)
        # The fake's error before any byte stands in for the older server's refusal.
        refusing = fake_ollama.models["qwen3:8b"]
        refusing.load_error, refusing.load_error_status = OLD_OLLAMA_REFUSES_MAX, 400
        await send(pilot, app, "hi")
        outcome = str(app.query(AssistantMessage).last().query_one(".outcome").render())
        assert OLD_OLLAMA_REFUSES_MAX in outcome and app.timer_state.phase == "failed"
    assert fake_ollama.chat_requests[-1]["think"] == "max"
    with store:
        [record] = store.records(newest_first=False)
    assert record.status is Status.FAILED and record.request.think == "max"
    assert OLD_OLLAMA_REFUSES_MAX in (record.error or "")


async def test_copy_last_answer(fake_ollama: FakeOllama) -> None:
    """Ctrl+O copies the last answer to the clipboard."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "hi")
        await pilot.press("ctrl+o")
        assert app.clipboard == app.query(AssistantMessage).last().answer_text != ""


async def test_copy_after_stopping_while_thinking_copies_nothing(fake_ollama: FakeOllama) -> None:
    """Ctrl+O on a reply stopped during its thinking says there is no answer and leaves the clipboard alone."""
    fake_ollama.models["qwen3:8b"].stall_after = 3  # hangs inside the thinking
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        app.copy_to_clipboard("kept")
        app.query_one(PromptInput).text = "think about it"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.turn is not None and app.session.turn.phase == "thinking")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.streaming)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: bool(notices(app)))
        assert app.clipboard == "kept"
        assert notices(app)[-1] == "No answer to copy yet: the last reply has no answer text."


async def test_prompt_needs_a_model_first(fake_ollama: FakeOllama) -> None:
    """Enter before a model is chosen asks for one and keeps the text, which is sent once a model is chosen."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        prompt = app.query_one(PromptInput)
        prompt.focus()
        prompt.text = "hello"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(notices(app)))
        assert notices(app) == ["Choose a model first (ctrl+l)."]
        assert not app.query(UserMessage) and prompt.text == "hello"  # kept, to send once a model is chosen
        # Positive control: with a model chosen, the same Enter sends the kept text.
        await choose(pilot, app, "llama3.2:3b")
        before = len(app.query(AssistantMessage))
        prompt.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.query(AssistantMessage)) > before and not app.streaming)
        assert [m.content for m in app.query(UserMessage)] == ["hello"]
        assert [r["messages"][-1]["content"] for r in fake_ollama.chat_requests] == ["hello"]


@pytest.mark.parametrize("width", [80, 160])
async def test_side_column_folds_on_narrow_terminals(fake_ollama: FakeOllama, width: int) -> None:
    """Below 100 columns the side panels fold into one timers line; from 100 up they stand beside the chat."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        assert app.query_one("#side").display is (width >= 100)
        assert app.query_one("#timers-line").display is (width < 100)


async def test_the_paragraph_being_written_renders_as_markdown(fake_ollama: FakeOllama) -> None:
    """The paragraph still being written shows as Markdown: bold as bold, no asterisks or backticks."""
    # The runner stops mid-paragraph: what came so far shows bold as bold, not as asterisks.
    fake_ollama.models["llama3.2:3b"].answer = "Some **bold** words and `code` here, then more text never sent"
    fake_ollama.models["llama3.2:3b"].stall_after = 6
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        prompt = app.query_one(PromptInput)
        prompt.text = "hi"
        await pilot.press("enter")
        reply = await _first_reply(pilot, app)
        await wait_until(pilot, lambda: "here," in reply.answer_text)
        await app._show_text()  # what the live beat does (off in these tests)
        answer = reply.query_one(".answer-text", MarkdownText)
        await wait_until(pilot, lambda: "here," in answer.shown)
        shown = answer.shown
        assert "bold words" in shown and "**" not in shown and "`" not in shown
        await pilot.press("escape")


async def _first_reply(pilot: Any, app: OllamonApp) -> AssistantMessage:
    await wait_until(pilot, lambda: bool(app.query(AssistantMessage)))
    return app.query(AssistantMessage).last()


def _kept_lines(widget: AssistantMessage) -> int:
    """Lines Textual keeps drawn for a message and its parts (a private cache: only this test reads it)."""
    return sum(len(part._styles_cache._cache) for part in widget.walk_children(Widget, with_self=True))


async def test_finished_turns_do_not_keep_their_drawn_lines(fake_ollama: FakeOllama) -> None:
    """An answer pushed off the screen by the next one keeps none of its drawn lines cached."""
    fake_ollama.models["llama3.2:3b"].answer = "\n\n".join(f"Paragraph {n} of a long answer." for n in range(60))
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "first")
        first = app.query(AssistantMessage).last()
        await send(pilot, app, "second")
        await pilot.pause(0.1)
        # The first answer drew ~120 lines while streaming; the second pushed it off the screen.
        assert first.region.height == 0 or not first.region.overlaps(app.query_one("#chat").region)
        assert _kept_lines(first) == 0


async def test_widgets_that_are_gone_leave_no_drawn_lines_behind(fake_ollama: FakeOllama) -> None:
    """Removed messages leave no drawn lines behind in Textual's cache, turn after turn."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        for prompt in ("one", "two", "three", "four"):
            await send(pilot, app, prompt)
            await pilot.press("ctrl+n")  # removes the turn's messages, each with the lines it drew
            await wait_until(pilot, lambda: not app.query(AssistantMessage))
        await send(pilot, app, "five")  # its end empties Textual's cache of the removed widgets
        await pilot.pause(0.1)
        gc.collect()
        # Only Textual's private per-widget caches show lines kept for widgets that are gone.
        owned = {id(widget._styles_cache) for widget in gc.get_objects() if isinstance(widget, Widget)}
        orphans = [cache for cache in gc.get_objects() if isinstance(cache, StylesCache) and id(cache) not in owned]
        # Widgets gone after the last turn's end wait for the next one; none pile up turn after turn.
        assert len(orphans) <= 2 * len(app.query("FooterKey"))


async def test_start_up_ends_once_the_model_names_are_shown(
    fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The paused collector comes back once the first model list is on screen."""
    # The collector paused for start-up comes back after the first list, so the client is frozen too.
    app = make_app(fake_ollama.url, retry_interval=0, refresh_interval=5.0)  # no poll to list first
    monkeypatch.setattr("tui.perf.hooks.START_WAIT_S", 60.0)  # nor the fallback
    seen: list[tuple[bool, bool]] = []
    monkeypatch.setattr(
        "tui.perf.hooks.resume_collector", lambda: seen.append((app.session.engine._wire is not None, bool(app.models)))
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(seen))
    assert seen[0] == (True, True)


async def test_start_up_ends_after_a_while_when_no_list_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The paused collector comes back after a while when no model list comes."""
    resumed: list[int] = []
    monkeypatch.setattr("tui.perf.hooks.resume_collector", lambda: resumed.append(1))
    monkeypatch.setattr("tui.perf.hooks.START_WAIT_S", 0.05)
    with socket.socket() as silent:  # takes the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        app = make_app(
            f"http://127.0.0.1:{silent.getsockname()[1]}", clock=time.monotonic, retry_interval=0, refresh_interval=5.0
        )
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: bool(resumed))
            assert not app.models


async def test_each_turn_gives_freed_memory_back(fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> None:
    """After each answer the app gives freed memory back to the system, once per turn."""
    released: list[int] = []
    monkeypatch.setattr("tui.perf.hooks.release_freed", lambda: released.append(1))
    monkeypatch.setattr("tui.perf.hooks.RELEASE_AFTER_S", 0.01)
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        assert released == []
        for turns, prompt in enumerate(("one", "two"), start=1):
            await send(pilot, app, prompt)

            def released_per_turn(turns: int = turns) -> bool:
                return len(released) == turns

            await wait_until(pilot, released_per_turn)


async def test_the_second_turn_shows_its_cached_prompt_tokens() -> None:
    """Against today's Ollama the timers panel says how many prompt tokens were cached, and the rate excludes them."""
    with FakeOllama(default_models(), rate=5000.0) as today:  # today's version serves the prompt cache
        app = make_app(today.url)
        async with app.run_test(size=(160, 50)) as pilot:
            await choose(pilot, app, "qwen3:8b")
            await send(pilot, app, "first")
            assert "of them cached" not in _render_text(app)
            await send(pilot, app, "second")
            stats = app.timer_state.stats
            assert stats is not None and stats.prompt_eval_cached_count
            shown = _render_text(app)
            assert f"of them cached {stats.prompt_eval_cached_count} tokens" in " ".join(shown.split())
            assert stats.prompt_eval_rate is not None
            assert f"{stats.prompt_eval_rate:.2f} tokens/s" in shown


async def test_the_think_hint_says_what_the_chosen_level_does(fake_ollama: FakeOllama) -> None:
    """The hint beside Think follows the choice: no reasoning when off, the effort for a level."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        think: Select[ThinkLevel] = app.screen.query_one("#think", Select)

        def hint() -> str:
            return str(app.screen.query_one("#think-note").render())

        assert hint() == "reasoning shown separately"
        think.value = ThinkLevel.OFF
        await wait_until(pilot, lambda: hint() == "answers without reasoning")
        think.value = ThinkLevel.HIGH
        await wait_until(pilot, lambda: hint() == "high effort, reasoning shown separately")


async def test_an_invalid_keep_alive_is_refused_beside_its_field(fake_ollama: FakeOllama) -> None:
    """`10x` turns keep_alive red and Save stays on it; `-1` is accepted and sent as the number -1."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        field = app.screen.query_one("#keep_alive", Input)
        field.value = "10x"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        why = app.screen.query_one("#keep_alive-why")
        assert "seconds (300, -1) or a duration" in str(why.render()) and why.has_class("error")
        assert app.screen.focused is field
        field.value = "-1"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.session.settings.keep_alive == "-1")
        await send(pilot, app, "hi")
        assert fake_ollama.chat_requests[-1]["keep_alive"] == -1


async def test_a_paste_far_beyond_the_context_is_said_before_it_is_sent(fake_ollama: FakeOllama) -> None:
    """A 1,000-line paste waits at the first Enter: a note gives its size against the context; Enter again sends."""
    app = make_app(fake_ollama.url)
    pasted = "\n".join(f"line {n}: some log text that goes on for a while" for n in range(1000))
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        prompt = app.query_one(PromptInput)
        prompt.focus()
        prompt.text = pasted
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: any("runs with a context of" in str(n.render()) for n in app.query(NoteMessage))
        )
        note = next(str(n.render()) for n in app.query(NoteMessage) if "runs with a context of" in str(n.render()))
        assert "about 12,223 tokens" in note and "context of 4,096" in note
        assert fake_ollama.chat_requests == [] and prompt.text == pasted
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(fake_ollama.chat_requests) == 1)
        assert fake_ollama.chat_requests[0]["messages"][-1]["content"] == pasted
        await pilot.press("escape")  # the fake takes its time to "evaluate" 12k prompt tokens
        await wait_until(pilot, lambda: not app.streaming)


@pytest.mark.parametrize(("width", "shown"), [(120, True), (80, False)])
async def test_again_and_idle_keys_are_in_the_footer_where_it_has_room(
    fake_ollama: FakeOllama, width: int, shown: bool
) -> None:
    """ctrl+r Again, ctrl+t Thinking and f5 Idle W are in the footer at 120 columns; at 80 only the palette has them."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(width, 40)) as pilot:
        await wait_until(pilot, lambda: bool(app.query(FooterKey)))
        await pilot.pause(0.1)
        drawn = {str(key.description) for key in app.query(FooterKey) if key.display}
        assert {"Again", "Thinking", "Idle W"} <= drawn if shown else not {"Again", "Thinking", "Idle W"} & drawn
        assert "Copy" in drawn


async def test_ctrl_t_opens_the_reasoning_and_letters_go_to_the_prompt(fake_ollama: FakeOllama) -> None:
    """ctrl+t opens the last reasoning, titled "Enter closes"; a letter typed elsewhere lands in the prompt."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await send(pilot, app, "hi")
        section = app.query(AssistantMessage).last().query_one(Collapsible)
        assert section.collapsed and section.title == "Thinking · Enter opens"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not section.collapsed and section.title == "Thinking · Enter closes"
        section.query_one(CollapsibleTitle).focus()
        await pilot.press("enter", "o", "k")
        assert section.collapsed and section.title == "Thinking · Enter opens"
        prompt = app.query_one(PromptInput)
        assert prompt.has_focus and prompt.text == "ok"
