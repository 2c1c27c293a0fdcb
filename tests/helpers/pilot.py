"""What a person does in the app, as Pilot steps, and the waits the app tests and snapshots share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tui.app import OllamonApp
from tui.ui.chat.messages import AssistantMessage
from tui.ui.chat.model_picker import ModelPicker
from tui.ui.chat.prompt import PromptInput


async def wait_until(pilot: Pilot, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until `predicate` holds; fail with a clear message after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)


def steady_cursors(app: App[Any]) -> None:
    """Stop every text cursor on the current screen blinking: a blink timer is a clock a snapshot sees."""
    for widget in (*app.screen.query(Input), *app.screen.query(TextArea)):
        widget.cursor_blink = False  # type queries match subclasses (PromptInput is a TextArea)


def settled(app: App[Any]) -> bool:
    """No model-list refresh in flight: what /api/ps said is on screen."""
    return not any(worker.group == "poll" and worker.is_running for worker in app.workers)


async def choose(pilot: Pilot, app: OllamonApp, name: str) -> None:
    """Pick `name` in the dropdown and wait until it is loaded (or failed to load)."""
    await wait_until(pilot, lambda: bool(app.models))
    app.query_one(ModelPicker).value = name
    await wait_until(pilot, lambda: app.timer_state.phase in ("ready", "load failed"))


async def send(pilot: Pilot, app: OllamonApp, text: str) -> None:
    """Type `text`, press Enter and wait until the answer has ended."""
    prompt = app.query_one(PromptInput)
    prompt.focus()
    prompt.text = text
    before = len(app.query(AssistantMessage))
    await pilot.press("enter")
    await wait_until(pilot, lambda: len(app.query(AssistantMessage)) > before and not app.streaming)
    await pilot.pause(0.05)


async def burst(pilot: Pilot, *keys: str) -> None:
    """Send `keys` as a paste or a laggy link delivers them: all queued at once, then let the app catch up.

    `pilot.press` waits for the app to go idle after each key, so it never shows what the app does
    with keys that arrive before it has handled the ones before them.
    """
    app = pilot.app
    assert app._driver is not None  # Textual 8.2.8 has no public way to queue input without waiting
    for key in keys:
        key_event = events.Key(key, key if len(key) == 1 else {"tab": "\t", "enter": "\r"}.get(key))
        key_event.set_sender(app)
        app._driver.send_message(key_event)
    await pilot.pause(0.1)
    await pilot.wait_for_scheduled_animations()


def notices(app: App[Any]) -> list[str]:
    """The text of the notifications the app has shown, oldest first."""
    # Textual 8.2.8 has no public reader of its notifications (toasts expire); this is the one place tests read it.
    return [str(notification.message) for notification in app._notifications]
