"""How the resource panels look with scripted readings: normal, swapping, spilled, no power."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from devtools.fake_ollama import FakeOllama
from tests.helpers.apps import snapshot_app
from tests.helpers.pilot import settled, steady_cursors, wait_until
from tests.helpers.resources import NO_POWER, NORMAL, SWAPPING
from tests.helpers.snapshots import SnapCompare
from tui.app import OllamonApp
from tui.ui.chat.messages import AssistantMessage
from tui.ui.chat.model_picker import ModelPicker
from tui.ui.chat.prompt import PromptInput


def exchange(model: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, OllamonApp)
        await wait_until(pilot, lambda: bool(app.models))
        app.query_one(ModelPicker).value = model
        await wait_until(pilot, lambda: app.timer_state.phase == "ready" and bool(app.resources.loaded))
        app.query_one(PromptInput).text = "hello"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query(AssistantMessage)) and not app.streaming)
        await wait_until(pilot, lambda: app.resources.cost is not None and settled(app))
        steady_cursors(app)
        await pilot.pause()

    return run


class TestResourcePanels:
    def test_normal_wide(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """160x48: timers beside memory, processor (100% GPU) and power with its idle baseline."""
        app = snapshot_app(snapshot_server.url, NORMAL)
        assert snap_compare(app, terminal_size=(160, 48), run_before=exchange("qwen3:8b"))

    def test_spilled_to_cpu(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """A model that did not fit the GPU: 26%/74% CPU/GPU as `ollama ps` prints it."""
        app = snapshot_app(snapshot_server.url, NORMAL)
        assert snap_compare(app, terminal_size=(160, 48), run_before=exchange("llama3.2:3b"))

    def test_swapping(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """Swap grows during the answer: the memory panel and the answer say so in red."""
        app = snapshot_app(snapshot_server.url, SWAPPING)
        assert snap_compare(app, terminal_size=(160, 48), run_before=exchange("qwen3:8b"))

    def test_power_unavailable(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """No power source: "n/a" and the reason, no J/token."""
        app = snapshot_app(snapshot_server.url, NO_POWER, idle_watts=None)
        assert snap_compare(app, terminal_size=(160, 48), run_before=exchange("qwen3:8b"))

    def test_narrow_resource_line(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """80x24: panels fold into one line of memory, swap, split and watts above the prompt."""
        app = snapshot_app(snapshot_server.url, SWAPPING)
        assert snap_compare(app, terminal_size=(80, 24), run_before=exchange("llama3.2:3b"))

    def test_timers_first_at_120x40(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """120x40 after a turn: Timers with Ollama's figures top the side column, which scrolls to the rest."""
        app = snapshot_app(snapshot_server.url, NORMAL)
        assert snap_compare(app, terminal_size=(120, 40), run_before=exchange("qwen3:8b"))

    def test_shrunk_from_200x60(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """A turn at 200x60, then the window shrunk to 120x40: each panel as tall as its figures, no empty rows."""
        app = snapshot_app(snapshot_server.url, NORMAL)

        async def shrink(pilot: Pilot) -> None:
            await exchange("qwen3:8b")(pilot)
            await pilot.resize_terminal(120, 40)
            await wait_until(pilot, lambda: app.query_one("#side").region.width == 42 and settled(app))
            await pilot.pause()

        assert snap_compare(app, terminal_size=(200, 60), run_before=shrink)
