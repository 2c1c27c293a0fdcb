"""How the fit advisor looks: the dropdown's marks at 80x24 and 160x48, the question before a
swapping load, and the prediction beside /api/ps in the processor panel."""

from __future__ import annotations

from textual.pilot import Pilot

from devtools.fake_ollama import FakeOllama, deepseek_r1_sweep_models
from tests.helpers.apps import snapshot_app
from tests.helpers.fit import MAC_24GB, MAC_MINI_M4_16GB
from tests.helpers.pilot import settled, steady_cursors, wait_until
from tests.helpers.snapshots import SnapCompare
from tui.app import OllamonApp
from tui.ui.chat.load_anyway import LoadAnywayScreen
from tui.ui.chat.model_picker import ModelPicker

FP16 = "deepseek-r1:7b-qwen-distill-fp16"


async def _marked(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, OllamonApp)
    await wait_until(pilot, lambda: len(app.session.predictions) == len(deepseek_r1_sweep_models()))
    await wait_until(pilot, lambda: settled(app) and all(w.is_finished for w in app.workers if w.group == "fit"))
    steady_cursors(app)
    await pilot.pause()


async def _open_dropdown(pilot: Pilot) -> None:
    await _marked(pilot)
    await pilot.press("ctrl+l")
    await pilot.pause()


async def _ask_about_fp16(pilot: Pilot) -> None:
    await _marked(pilot)
    pilot.app.query_one(ModelPicker).value = FP16
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LoadAnywayScreen))
    await pilot.pause()


async def _loaded_fp16(pilot: Pilot) -> None:
    await _ask_about_fp16(pilot)
    await pilot.press("enter")
    app = pilot.app
    assert isinstance(app, OllamonApp)
    await wait_until(pilot, lambda: FP16 in app.loaded and app.timer_state.phase == "ready")
    await _marked(pilot)


class TestFitAdvisor:
    def test_dropdown_marks_80x24(self, snap_compare: SnapCompare, sweep_snapshot_server: FakeOllama) -> None:
        """80x24: each model's mark right after its name, where the narrow dropdown still shows it."""
        assert snap_compare(
            snapshot_app(sweep_snapshot_server.url, fit_machine=MAC_24GB),
            terminal_size=(80, 24),
            run_before=_open_dropdown,
        )

    def test_dropdown_marks_160x48(self, snap_compare: SnapCompare, sweep_snapshot_server: FakeOllama) -> None:
        """160x48: fits ✓, spills ◐ with its CPU share, swaps ⚠, in aligned columns."""
        assert snap_compare(
            snapshot_app(sweep_snapshot_server.url, fit_machine=MAC_24GB),
            terminal_size=(160, 48),
            run_before=_open_dropdown,
        )

    def test_question_before_a_swapping_load_80x24(
        self, snap_compare: SnapCompare, sweep_snapshot_server: FakeOllama
    ) -> None:
        """Choosing a model predicted to swap asks first: the prediction, the reason, the keys."""
        assert snap_compare(
            snapshot_app(sweep_snapshot_server.url, fit_machine=MAC_MINI_M4_16GB),
            terminal_size=(80, 24),
            run_before=_ask_about_fp16,
        )

    def test_processor_panel_prediction_beside_ps(
        self, snap_compare: SnapCompare, sweep_snapshot_server: FakeOllama
    ) -> None:
        """After the load: /api/ps's split and the predicted one, one under the other."""
        assert snap_compare(
            snapshot_app(sweep_snapshot_server.url, fit_machine=MAC_MINI_M4_16GB),
            terminal_size=(120, 40),
            run_before=_loaded_fp16,
        )
