"""How the chat screen looks, at the sizes people use (80x24 over SSH, 120x40, 160x48)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.widgets import Input

from devtools.fake_ollama import FakeModel, FakeOllama
from tests.helpers.apps import snapshot_app
from tests.helpers.pilot import settled, steady_cursors, wait_until
from tests.helpers.snapshots import SnapCompare
from tui.app import OllamonApp
from tui.ui.chat.messages import AssistantMessage
from tui.ui.chat.model_picker import ModelPicker
from tui.ui.chat.prompt import PromptInput

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing answers there


async def _settle(pilot: Pilot) -> None:
    await wait_until(pilot, lambda: settled(pilot.app))
    steady_cursors(pilot.app)
    await pilot.pause()


def exchange(model: str, prompt: str) -> Callable[[Pilot], Awaitable[None]]:
    """run_before: pick `model`, send `prompt`, wait for the whole answer."""

    async def run(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, OllamonApp)
        await wait_until(pilot, lambda: bool(app.models))
        app.query_one(ModelPicker).value = model
        await wait_until(pilot, lambda: app.timer_state.phase in ("ready", "load failed"))
        if app.timer_state.phase == "ready":
            await wait_until(pilot, lambda: bool(app.resources.loaded))
        if prompt:
            app.query_one(PromptInput).text = prompt
            await pilot.press("enter")
            await wait_until(pilot, lambda: bool(app.query(AssistantMessage)) and not app.streaming)
        await _settle(pilot)

    return run


class TestChatScreen:
    def test_empty_app(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """Models listed in the status line, nothing chosen yet, timers idle."""

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            assert isinstance(app, OllamonApp)
            await wait_until(pilot, lambda: bool(app.models))
            await _settle(pilot)

        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(120, 40), run_before=run)

    def test_model_dropdown_open(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """The dropdown lists every model with size and quantization."""

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            assert isinstance(app, OllamonApp)
            await wait_until(pilot, lambda: bool(app.models))
            await _settle(pilot)
            await pilot.press("ctrl+l")
            await pilot.pause()

        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(120, 40), run_before=run)

    def test_finished_exchange_with_thinking(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """Thinking folded, Markdown answer, timers and Ollama's figures in the side column."""
        run = exchange("qwen3:8b", "Why is the sky blue?")
        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(120, 40), run_before=run)

    def test_chinese_exchange_wide(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """160x48: a Chinese answer, wide characters aligned."""
        run = exchange("qwen3:8b", "用中文解释大语言模型")
        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(160, 48), run_before=run)

    def test_narrow_80x24(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """80x24 over SSH: side column hidden, one-line timers above the prompt."""
        run = exchange("qwen3:8b", "Why is the sky blue?")
        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(80, 24), run_before=run)

    def test_load_error(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """A model too large for memory: Ollama's text and what to do."""
        run = exchange("deepseek-r1:14b", "")
        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(120, 40), run_before=run)

    def test_ollama_unreachable(self, snap_compare: SnapCompare) -> None:
        """Ollama down: which URL, what to do, still retrying."""

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            assert isinstance(app, OllamonApp)
            await wait_until(pilot, lambda: app.connected is False)
            await _settle(pilot)

        assert snap_compare(snapshot_app(UNREACHABLE), terminal_size=(120, 40), run_before=run)

    def test_settings_dialog(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """Per-chat settings; think is enabled for a thinking model."""

        async def run(pilot: Pilot) -> None:
            await exchange("qwen3:8b", "")(pilot)
            await pilot.press("ctrl+s")
            await pilot.pause()
            steady_cursors(pilot.app)  # the dialog's own inputs
            await pilot.pause()

        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(120, 40), run_before=run)

    def test_startup_too_small(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """40x10: one line saying the size the chat needs, instead of a crash or a squeezed layout."""

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            assert isinstance(app, OllamonApp)
            await wait_until(pilot, lambda: bool(app.models))
            await _settle(pilot)

        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(40, 10), run_before=run)

    def test_settings_dialog_invalid_value(self, snap_compare: SnapCompare, snapshot_server: FakeOllama) -> None:
        """80x24: num_ctx past the model's context, refused with the reason beside the field."""

        async def run(pilot: Pilot) -> None:
            await exchange("qwen3:8b", "")(pilot)
            await pilot.press("ctrl+s")
            await pilot.pause()
            pilot.app.screen.query_one("#num_ctx", Input).value = "99999999999"
            await pilot.press("ctrl+s")
            await pilot.pause()
            steady_cursors(pilot.app)
            await pilot.pause()

        assert snap_compare(snapshot_app(snapshot_server.url), terminal_size=(80, 24), run_before=run)

    def test_mid_answer_80x24(self, snap_compare: SnapCompare) -> None:
        """80x24 while answering: the text so far, Stop in the footer, the timers line with units."""
        stalls = FakeModel(
            "qwen3:8b",
            capabilities=["completion", "thinking"],
            family="qwen3",
            thinking="Sky light scatters.",
            answer="Blue light scatters most because " * 12 + "end.",
            stall_after=40,
        )
        server = FakeOllama([stalls], rate=5000.0, nominal_stats=True).start()

        async def run(pilot: Pilot) -> None:
            app = pilot.app
            assert isinstance(app, OllamonApp)
            await exchange("qwen3:8b", "")(pilot)
            app.query_one(PromptInput).text = "Why is the sky blue?"
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.session.turn is not None and app.session.turn.timer.chunks >= 40)
            # What the live beats do a few times a second (off in snapshots).
            await app._show_text()
            app._show_live_timers()
            await _settle(pilot)

        try:
            assert snap_compare(snapshot_app(server.url), terminal_size=(80, 24), run_before=run)
        finally:
            server.stop()
