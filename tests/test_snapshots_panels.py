"""How the resource panels look with scripted readings: normal, swapping, spilled, no power."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from devtools.fake_ollama import FakeOllama, default_models
from tests.app_factory import build_app
from tests.conftest import StepClock, settled, wait_until
from tests.resource_fakes import NO_POWER, NORMAL, SWAPPING, Scenario, scenario_sampler
from tui.app import OllamonApp
from tui.ui.chat.messages import AssistantMessage
from tui.ui.chat.model_picker import ModelPicker
from tui.ui.chat.prompt import PromptInput

PANELS_PORT = 18435


@pytest.fixture
def panels_server() -> Iterator[FakeOllama]:
    server = FakeOllama(default_models(), rate=5000.0, port=PANELS_PORT, nominal_stats=True).start()
    yield server
    server.stop()


def make_app(url: str, scenario: Scenario, idle_watts: float | None = 5.0) -> OllamonApp:
    sampler = scenario_sampler(scenario, ticks=3)
    clock = StepClock()
    return build_app(
        url, engine_clock=clock, clock=clock, live=False, retry_interval=0, refresh_interval=0,
        sampler=sampler, idle_watts=idle_watts, wall_clock=__import__("time").time,
    )


def exchange(model: str):
    async def run(pilot: Pilot) -> None:
        app: OllamonApp = pilot.app
        await wait_until(pilot, lambda: bool(app.models))
        app.query_one(ModelPicker).value = model
        await wait_until(pilot, lambda: app.timer_state.phase == "ready" and bool(app.resources.loaded))
        app.query_one(PromptInput).text = "hello"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantMessage)) and not app.streaming)
        await wait_until(pilot, lambda: app.resources.cost is not None and settled(app))
        app.query_one(PromptInput).cursor_blink = False
        await pilot.pause()

    return run


class TestResourcePanels:
    def test_normal_wide(self, snap_compare, panels_server: FakeOllama) -> None:
        """160x48: timers beside memory, processor (100% GPU) and power with its idle baseline."""
        app = make_app(panels_server.url, NORMAL)
        assert snap_compare(app, terminal_size=(160, 48), run_before=exchange("qwen3:8b"))

    def test_spilled_to_cpu(self, snap_compare, panels_server: FakeOllama) -> None:
        """A model that did not fit the GPU: 26%/74% CPU/GPU as `ollama ps` prints it."""
        app = make_app(panels_server.url, NORMAL)
        assert snap_compare(app, terminal_size=(160, 48), run_before=exchange("llama3.2:3b"))

    def test_swapping(self, snap_compare, panels_server: FakeOllama) -> None:
        """Swap grows during the answer: the memory panel and the answer say so in red."""
        app = make_app(panels_server.url, SWAPPING)
        assert snap_compare(app, terminal_size=(160, 48), run_before=exchange("qwen3:8b"))

    def test_power_unavailable(self, snap_compare, panels_server: FakeOllama) -> None:
        """No power source: "n/a" and the reason, no J/token."""
        app = make_app(panels_server.url, NO_POWER, idle_watts=None)
        assert snap_compare(app, terminal_size=(160, 48), run_before=exchange("qwen3:8b"))

    def test_narrow_resource_line(self, snap_compare, panels_server: FakeOllama) -> None:
        """80x24: panels fold into one line of memory, swap, split and watts above the prompt."""
        app = make_app(panels_server.url, SWAPPING)
        assert snap_compare(app, terminal_size=(80, 24), run_before=exchange("llama3.2:3b"))
