"""Shared fixtures: a neutral environment, snapshot files in snapshots/, the fake Ollama server."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_textual_snapshot
from syrupy.location import PyTestLocation
from textual.app import App
from textual.pilot import Pilot

from devtools.fake_ollama import FakeOllama, default_models
from tui.perf.switch import tuning_on

SNAPSHOT_ROOT = Path(__file__).resolve().parents[1] / "snapshots"


class TopLevelSnapshots(pytest_textual_snapshot.SVGImageExtension):
    """Keep UI snapshots in the top-level snapshots/<test module>/ folder."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(SNAPSHOT_ROOT / Path(test_location.filepath).stem)


# snap_compare looks the extension up on the module at call time.
pytest_textual_snapshot.SVGImageExtension = TopLevelSnapshots


LEAKY_VARIABLES = ("OLLAMA_HOST", "NO_COLOR", "TEXTUAL", "OLLAMON_DB", "OLLAMA_API_KEY", "OLLAMON_NO_TUNING")


def neutral_directories(root: Path) -> dict[str, str]:
    """Data and config directories under `root`, never the user's own."""
    return {"XDG_DATA_HOME": str(root / "xdg-data"), "XDG_CONFIG_HOME": str(root / "xdg-config")}


@pytest.fixture(autouse=True)
def neutral_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user config, host, colour or tuning settings leak into a test."""
    for name in LEAKY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    tuning_on.cache_clear()  # the switch is read once a process: read it again without the user's setting
    for name, value in neutral_directories(tmp_path).items():
        monkeypatch.setenv(name, value)


# The wall-clock time every snapshot sees, so "unloads in 5 min" is exact on every run.
FROZEN_WALL = 1_760_000_000.0


def frozen_wall_clock() -> float:
    return FROZEN_WALL


@pytest.fixture
def snapshot_server() -> Iterator[FakeOllama]:
    """The fake server for UI snapshots: on a free port, stats independent of timing, frozen wall clock."""
    server = FakeOllama(default_models(), rate=5000.0, nominal_stats=True, wall_clock=frozen_wall_clock).start()
    yield server
    server.stop()


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """A real HTTP server on 127.0.0.1 speaking Ollama's wire format, fast enough for tests."""
    server = FakeOllama(default_models(), rate=2000.0).start()
    yield server
    server.stop()


class StepClock:
    """A monotonic clock that advances a fixed step on every reading: timers become deterministic."""

    def __init__(self, step: float = 0.05, start: float = 1000.0) -> None:
        self._ticks = itertools.count()
        self._step = step
        self._start = start

    def __call__(self) -> float:
        return self._start + next(self._ticks) * self._step


@pytest.fixture
def step_clock() -> StepClock:
    return StepClock()


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
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type selectors match subclasses (PromptInput is a TextArea)


def settled(app: App[Any]) -> bool:
    """No model-list refresh in flight: what /api/ps said is on screen."""
    return not any(worker.group == "poll" and worker.is_running for worker in app.workers)
