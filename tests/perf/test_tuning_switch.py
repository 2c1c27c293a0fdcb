"""OLLAMON_NO_TUNING turns every tuning off; without it the hooks pause, schedule and forget as before."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.geometry import Size

from tui.perf import collector, hooks
from tui.perf.sized_by_layout import SizedByLayout
from tui.perf.switch import NO_TUNING, tuning_on

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

ROOT = Path(__file__).resolve().parents[2]


def switch_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NO_TUNING, "1")
    tuning_on.cache_clear()


class TimerApp:
    """Stands in for the app: records the timers the hooks set."""

    def __init__(self) -> None:
        self.timers: list[tuple[float, Callable[[], Any]]] = []

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> None:
        self.timers.append((delay, callback))


class Part:
    """A widget inside a message: counts its refreshes."""

    def __init__(self) -> None:
        self.refreshed = 0

    def refresh(self) -> None:
        self.refreshed += 1


class Message(Part):
    """A message of the chat with one part."""

    def __init__(self) -> None:
        super().__init__()
        self.part = Part()

    def walk_children(self, *, with_self: bool) -> list[Part]:
        return [self, self.part] if with_self else [self.part]


class Chat:
    """Stands in for the chat view."""

    def __init__(self) -> None:
        self.children = [Message(), Message()]

    def refreshed(self) -> list[int]:
        return [widget.refreshed for message in self.children for widget in (message, message.part)]


def as_app(app: TimerApp) -> App[Any]:
    """The stand-in where a hook takes the app: the hooks only call its set_timer."""
    return cast("App[Any]", app)


def as_widget(chat: Chat) -> Widget:
    """The stand-in where a hook takes the chat view: the hooks only walk and refresh its children."""
    return cast("Widget", chat)


def _fill_textual_style_cache() -> None:
    StylesCache().get_inner_outer(Color(0, 0, 0), Color(10, 20, 30))
    assert StylesCache.get_inner_outer.cache_info().currsize > 0


@pytest.mark.parametrize(("value", "on"), [(None, True), ("", True), ("0", True), ("1", False), ("yes", False)])
def test_the_switch_is_off_only_when_the_variable_is_set(
    monkeypatch: pytest.MonkeyPatch, value: str | None, on: bool
) -> None:
    """Unset, empty or 0 leaves the tuning on; any other value turns it off."""
    if value is not None:
        monkeypatch.setenv(NO_TUNING, value)
    tuning_on.cache_clear()
    assert tuning_on() is on


def test_the_switch_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting the variable after the first reading changes nothing in a running process."""
    assert tuning_on()
    monkeypatch.setenv(NO_TUNING, "1")
    assert tuning_on()


def test_switched_off_the_entry_point_never_pauses_the_collector() -> None:
    """`ollamon` with OLLAMON_NO_TUNING=1 imports the app and parses with the collector on."""
    script = (
        "import gc, sys\n"
        "import tui.__main__ as entry\n"
        "sys.argv = ['ollamon', '--version']\n"
        "try:\n"
        "    entry.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('tui.cli.main' in sys.modules, gc.isenabled())\n"
    )
    env = {**os.environ, NO_TUNING: "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    assert result.stdout.split()[-2:] == ["True", "True"]


def test_switched_off_no_hook_does_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    """No pause, no timer, no forgotten lines, Textual's style cache kept."""
    switch_off(monkeypatch)
    app, chat = TimerApp(), Chat()
    _fill_textual_style_cache()
    hooks.before_start()
    assert gc.isenabled()
    hooks.command_parsed()
    hooks.app_started(as_app(app))
    hooks.first_models_shown(as_app(app))
    hooks.turn_ended(as_app(app), as_widget(chat))
    assert app.timers == []
    assert chat.refreshed() == [0, 0, 0, 0]
    assert StylesCache.get_inner_outer.cache_info().currsize > 0


def test_switched_on_the_hooks_pause_schedule_and_forget() -> None:
    """The entry point pauses the collector, start-up schedules its resume, a turn's end forgets and trims."""
    hooks.before_start()
    assert not gc.isenabled()
    hooks.command_parsed()
    assert gc.isenabled()
    app, chat = TimerApp(), Chat()
    hooks.app_started(as_app(app))
    hooks.first_models_shown(as_app(app))
    assert app.timers == [
        (hooks.START_WAIT_S, collector.resume_collector),
        (hooks.RELEASE_AFTER_S, collector.resume_collector),
    ]
    _fill_textual_style_cache()
    app.timers.clear()
    hooks.turn_ended(as_app(app), as_widget(chat))
    assert chat.refreshed() == [1, 1, 1, 1]
    assert StylesCache.get_inner_outer.cache_info().currsize == 0
    assert app.timers == [(hooks.RELEASE_AFTER_S, hooks.release_freed)]


class SizeRecorder:
    """The base a SizedByLayout widget passes its new size to: records whether it asked for a layout."""

    def __init__(self) -> None:
        self.layouts: list[bool] = []

    def _size_updated(self, size: Any, virtual_size: Any, container_size: Any, layout: bool = True) -> bool:
        self.layouts.append(layout)
        return False


class Sized(SizedByLayout, SizeRecorder):
    """A SizedByLayout over the recorder."""


def test_a_size_set_by_layout_asks_for_no_layout_only_when_tuned(monkeypatch: pytest.MonkeyPatch) -> None:
    """On: `layout` becomes False; off: it passes through unchanged."""
    sized, size = Sized(), Size(0, 0)
    sized._size_updated(size, size, size, layout=True)
    switch_off(monkeypatch)
    sized._size_updated(size, size, size, layout=True)
    sized._size_updated(size, size, size, layout=False)
    assert sized.layouts == [False, True, False]


def test_the_switch_is_documented() -> None:
    """README's options and docs/performance.md both name OLLAMON_NO_TUNING."""
    assert NO_TUNING in (ROOT / "README.md").read_text()
    assert NO_TUNING in (ROOT / "docs" / "performance.md").read_text()
