"""Pilot tests of what a keyboard-only person over SSH meets: small terminals, focus, keys."""

from __future__ import annotations

import pytest

from tests.conftest import StepClock, wait_until
from devtools.fake_ollama import FakeOllama
from tests.app_factory import build_app
from tui.app import MIN_HEIGHT, MIN_WIDTH, OllamonApp
from tui.ui.chat.prompt import PromptInput


def make_app(url: str, **kwargs: object) -> OllamonApp:
    kwargs.setdefault("live", False)
    kwargs.setdefault("clock", StepClock())
    return build_app(url, retry_interval=0.1, refresh_interval=0.2, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [(40, 10), (41, 10), (36, 10), (40, 8), (MIN_WIDTH - 1, 24), (80, MIN_HEIGHT - 1)])
async def test_small_terminal_starts_and_says_the_size_it_needs(fake_ollama: FakeOllama, size: tuple[int, int]) -> None:
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


async def test_smallest_usable_terminal_shows_the_chat(fake_ollama: FakeOllama) -> None:
    app = make_app(fake_ollama.url)
    async with app.run_test(size=(MIN_WIDTH, MIN_HEIGHT)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        assert not app.query_one("#too-small").display
        assert app.query_one(PromptInput).region.width > 0
