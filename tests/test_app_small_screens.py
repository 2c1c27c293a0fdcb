"""Pilot tests of what a keyboard-only person over SSH meets: small terminals, focus, keys."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from types import FrameType

import pytest
from rich.console import RenderableType
from textual.screen import Screen
from textual.widgets import Input
from textual.widgets._footer import FooterKey  # not exported; the app's own footer imports it so too

from devtools.fake_ollama import FakeOllama
from tests.helpers.apps import make_app
from tests.helpers.pilot import choose, send, wait_until
from tui.app import MIN_HEIGHT, MIN_WIDTH, OllamonApp
from tui.core import units
from tui.ui.chat.messages import AssistantMessage, NoteMessage, UserMessage
from tui.ui.chat.prompt import PromptInput
from tui.ui.settings.settings_screen import SettingsScreen


@pytest.mark.parametrize("size", [(40, 10), (41, 10), (36, 10), (40, 8), (MIN_WIDTH - 1, 24), (80, MIN_HEIGHT - 1)])
async def test_small_terminal_starts_and_says_the_size_it_needs(fake_ollama: FakeOllama, size: tuple[int, int]) -> None:
    """A terminal too small says the size it needs; made bigger, the chat returns with the prompt focused."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.pause()
        assert app.query_one("#too-small").display and not app.query_one("#body").display
        assert f"{MIN_WIDTH}×{MIN_HEIGHT}" in str(app.query_one("#too-small").render())
        # Made bigger, the chat comes back with the prompt ready to type into.
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.query_one("#too-small").display and app.query_one(PromptInput).has_focus
        await pilot.press("h", "i")
        assert app.query_one(PromptInput).text == "hi"
    assert app.return_code in (None, 0)


@pytest.mark.parametrize(("size", "too_small"), [((40, 10), True), ((80, MIN_HEIGHT - 1), True), ((80, 24), False)])
async def test_first_frame_is_already_the_one_for_the_size(
    fake_ollama: FakeOllama, size: tuple[int, int], too_small: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No frame of the squeezed chat before the size line (nor of the size line before the chat)."""
    app = make_app(fake_ollama.url)
    frames: list[set[str | None]] = []
    paint = app._display

    # No public hook sees each frame: Textual paints through the private App._display (a frame inside
    # a batch is not written to the terminal) and knows what it shows only in its private compositor.
    def recording(screen: Screen[object], renderable: RenderableType | None) -> None:
        if renderable is not None and not app._batch_count:
            frames.append({widget.id for widget in screen._compositor.visible_widgets})
        paint(screen, renderable)

    monkeypatch.setattr(app, "_display", recording)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.pause()
    assert frames
    for shown in frames:
        assert ("too-small" in shown) is too_small and ("body" in shown) is not too_small


async def test_smallest_usable_terminal_shows_the_chat(fake_ollama: FakeOllama) -> None:
    """At the minimum size the chat and its prompt are shown, not the too-small line."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(MIN_WIDTH, MIN_HEIGHT)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        assert not app.query_one("#too-small").display
        assert app.query_one(PromptInput).region.width > 0


async def test_num_ctx_change_reloads_in_view_as_a_cold_load(fake_ollama: FakeOllama) -> None:
    """Changing num_ctx reloads the model in view, noted as a cold load that took the load's time."""
    fake_ollama.load_delay = 0.2
    app = make_app(fake_ollama.url, clock=time.monotonic)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#num_ctx", Input).value = "8192"
        await pilot.press("ctrl+s")

        def loads() -> list[str]:
            return [text for note in app.query(NoteMessage) if "loaded in" in (text := str(note.render()))]

        await wait_until(pilot, lambda: len(loads()) == 2 and app.timer_state.phase == "ready")
        assert "cold load" in loads()[1] and "in memory" not in loads()[1]
        assert app.timer_state.load_s is not None and app.timer_state.load_s >= 0.2
        assert "loaded in" in str(app.query_one("#status").render())


async def test_reload_inside_a_turn_shows_its_load_time(fake_ollama: FakeOllama) -> None:
    """Settings changed behind the app's back (a reopened chat's): the answer's load is shown."""
    fake_ollama.load_delay = 0.3
    app = make_app(fake_ollama.url, clock=time.monotonic)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await send(pilot, app, "hello")
        first_load = app.timer_state.load_s
        app.session.settings = replace(app.session.settings, num_ctx=8192)
        await send(pilot, app, "again")
        assert first_load is not None and app.timer_state.load_s is not None
        assert app.timer_state.load_s >= 0.3 and app.timer_state.load_s != first_load
        assert units.seconds(app.timer_state.load_s) in str(app.query_one("#status").render())


async def test_settings_check_num_ctx_against_the_model_and_let_empty_fields_be(fake_ollama: FakeOllama) -> None:
    """Settings refuse num_ctx past the model's context and a negative seed, and accept empty fields."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = app.screen
        # Tabbing through empty optional fields marks nothing.
        for _ in range(6):
            await pilot.press("tab")
        assert not screen.query(".why.error") and not screen.query("Input.-invalid")
        screen.query_one("#num_ctx", Input).value = "99999999999"
        screen.query_one("#seed", Input).value = "-5"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # not saved
        why = str(screen.query_one("#num_ctx-why").render())
        assert "40960" in why and screen.query_one("#num_ctx-why").has_class("error")
        assert screen.query_one("#seed-why").has_class("error") and screen.query_one("#num_ctx", Input).has_focus
        screen.query_one("#num_ctx", Input).value = "40960"
        screen.query_one("#seed", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.session.settings.num_ctx == 40960 and app.session.settings.seed is None


async def test_page_keys_in_the_prompt_scroll_the_chat(fake_ollama: FakeOllama) -> None:
    """Ctrl+Home, Page Down and Ctrl+End in the prompt scroll the chat; the footer names Scroll and Settings."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await choose(pilot, app, "qwen3:8b")
        for text in ("one", "two", "three"):
            await send(pilot, app, text)
        prompt, chat = app.query_one(PromptInput), app.chat_view
        assert prompt.has_focus and chat.max_scroll_y > 0
        await pilot.press("ctrl+home")
        await pilot.pause()
        assert chat.scroll_y == 0
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: chat.scroll_y > 0)
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: chat.scroll_y == chat.max_scroll_y)
        assert prompt.has_focus
        footer = [key.description for key in app.screen.query(FooterKey)]
        assert "Scroll" in footer and "Settings" in footer and "Copy" in footer


async def test_every_key_is_in_the_command_palette(fake_ollama: FakeOllama) -> None:
    """Model, New, History, Settings, Copy, Idle W and Scroll are each in the command palette with their key."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for name in ("Model", "New", "History", "Settings", "Copy", "Idle W", "Scroll"):
            assert any(title.startswith(name + " (") for title in titles), (name, titles)


async def test_the_palette_lists_no_editing_keys_of_the_prompt(fake_ollama: FakeOllama) -> None:
    """With the prompt focused, ctrl+p offers the app's commands, not the text field's cursor moves."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        app.query_one(PromptInput).focus()
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert not [title for title in titles if title.startswith(("Cursor", "Delete", "Select"))], titles
        assert any(title.startswith("Scroll (") for title in titles)


async def test_prompt_looks_focused_only_when_it_is(fake_ollama: FakeOllama) -> None:
    """The prompt looks focused only while it has focus; the chat marks when it has the keys instead."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        prompt, chat = app.query_one(PromptInput), app.chat_view
        focused_prompt, idle_chat = prompt.styles.border_top, chat.styles.border_left
        chat.focus()
        await pilot.pause()
        # The prompt's accent goes; the conversation marks that it has the keys now.
        assert prompt.styles.border_top != focused_prompt and chat.styles.border_left != idle_chat


async def test_sigterm_and_sighup_exit_as_ctrl_q_does(fake_ollama: FakeOllama) -> None:
    """SIGTERM and SIGHUP end the app cleanly, as Ctrl+Q does."""
    for number in (signal.SIGTERM, signal.SIGHUP):
        missed: list[int] = []

        # Without the app's handler the signal would land here (and not kill the test run).
        def handler(signum: int, _frame: FrameType | None, missed: list[int] = missed) -> None:
            missed.append(signum)

        previous = signal.signal(number, handler)
        try:
            app = make_app(fake_ollama.url)
            async with app.run_test(size=(80, 24)) as pilot:

                def listed(app: OllamonApp = app) -> bool:
                    return bool(app.models)

                def gone(app: OllamonApp = app, missed: list[int] = missed) -> bool:
                    return not app.is_running or bool(missed)

                await wait_until(pilot, listed)
                os.kill(os.getpid(), number)
                await wait_until(pilot, gone)
            assert not missed and app.return_code in (None, 0)
        finally:
            signal.signal(number, previous)


async def test_toasts_leave_the_prompt_uncovered(fake_ollama: FakeOllama) -> None:
    """A long toast at 80x24 does not cover the prompt."""
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        app.notify("A long message that would cover what is being typed " * 3)
        await wait_until(pilot, lambda: bool(app.screen.query("Toast")))
        await pilot.pause()
        toast, prompt = app.screen.query_one("Toast").region, app.query_one(PromptInput).region
        assert toast.height and not toast.overlaps(prompt)


async def test_copy_takes_the_focused_answer_and_ctrl_r_answers_again(
    fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+O copies the focused answer, and Ctrl+R sends the last prompt again for a new answer."""
    app = make_app(fake_ollama.url)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, app, "qwen3:8b")
        await send(pilot, app, "first")
        await send(pilot, app, "second")
        first, last = app.query(AssistantMessage)
        first.focus()
        await pilot.press("ctrl+o")
        last.focus()
        await pilot.press("ctrl+o")
        assert copied == [first.answer_text, last.answer_text] and copied[0]
        before = len(fake_ollama.chat_requests)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(app.query(AssistantMessage)) == 3 and not app.streaming)
        assert len(fake_ollama.chat_requests) == before + 1
        assert [str(m.render()) for m in app.query(UserMessage)][-1] == "second"


async def test_the_first_frame_is_laid_out_for_the_terminal_size(
    fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a 70x20 terminal the very first frame already has the narrow, short layout's classes."""
    first_frame: list[set[str]] = []
    display = OllamonApp._display

    def recording(app: OllamonApp, screen: Screen[object], renderable: RenderableType | None) -> None:
        if not first_frame:
            first_frame.append(set(screen.classes))
        display(app, screen, renderable)

    monkeypatch.setattr(OllamonApp, "_display", recording)
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(70, 20)) as pilot:
        await wait_until(pilot, lambda: bool(first_frame))
        # A narrow, short terminal: no frame with the wide layout's classes comes first.
        assert {"-narrow", "-tall"} <= first_frame[0]
        assert not first_frame[0] & {"-wide", "-xwide", "-roomy"}
