"""What a person does in the app, as Pilot steps shared by the app tests."""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot

from tests.conftest import wait_until
from tui.app import OllamonApp
from tui.ui.chat.messages import AssistantMessage
from tui.ui.chat.model_picker import ModelPicker
from tui.ui.chat.prompt import PromptInput


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


def notices(app: App[None]) -> list[str]:
    """The text of the notifications the app has shown, oldest first.

    Textual keeps them only on a private attribute; this is the one place the tests read it.
    """
    return [notification.message for notification in app._notifications]
