"""The fit advisor in the chat app: dropdown marks, the question before a swapping load, the
prediction beside /api/ps in the processor panel, and in the turn's record."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from devtools.fake_ollama import FakeOllama, deepseek_r1_sweep_models
from tests.helpers.apps import make_app
from tests.helpers.fit import MAC_24GB, MAC_MINI_M4_16GB
from tests.helpers.pilot import choose, send, wait_until
from tui.app import OllamonApp
from tui.core.chat.recorder import TurnRecorder
from tui.core.fit.gather import fit_report, read_machine
from tui.core.fit.what_if import WhatIf
from tui.core.ollama.client import OllamaEngine
from tui.core.records.schema import HostInfo
from tui.core.records.store import RecordStore
from tui.ui.chat.load_anyway import LoadAnywayScreen
from tui.ui.chat.model_picker import ModelPicker, fit_mark, marks_legend
from tui.ui.panels.column import ResourceLine
from tui.ui.panels.resources import ProcessorPanel

SIZE = (120, 40)
Q4 = "deepseek-r1:7b-qwen-distill-q4_K_M"
FP16 = "deepseek-r1:7b-qwen-distill-fp16"


def labels(app: OllamonApp) -> dict[str, str]:
    return {value: str(prompt) for prompt, value in app.query_one(ModelPicker).choices}


async def marked(pilot: Pilot, app: OllamonApp) -> dict[str, str]:
    await wait_until(pilot, lambda: len(app.session.predictions) == len(deepseek_r1_sweep_models()))
    await wait_until(pilot, lambda: "✓" in labels(app).get(Q4, ""))
    return labels(app)


def panel_text(app: OllamonApp) -> str:
    return app.query_one(ProcessorPanel).plain_text()


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        (
            MAC_MINI_M4_16GB,
            {
                Q4: "✓",
                "deepseek-r1:7b-qwen-distill-q8_0": "✓",
                FP16: "⚠ swap",
                "deepseek-r1:14b-qwen-distill-q8_0": "⚠ swap",
            },
        ),
        (
            MAC_24GB,
            {
                Q4: "✓",
                FP16: "◐ 17% CPU",
                "deepseek-r1:8b-llama-distill-fp16": "◐ 23% CPU",
                "deepseek-r1:14b-qwen-distill-fp16": "⚠ swap",
            },
        ),
    ],
)
async def test_dropdown_marks_agree_with_fit(
    sweep_ollama: FakeOllama, machine: WhatIf, expected: dict[str, str]
) -> None:
    """Each dropdown option shows the mark `ollamon fit` gives that model on that machine."""
    app = make_app(sweep_ollama.url, fit_machine=machine)
    async with app.run_test(size=SIZE) as pilot:
        shown = await marked(pilot, app)
        engine = OllamaEngine(sweep_ollama.url)
        try:
            fits, _ = await fit_report(engine, machine=await read_machine(engine, machine))
        finally:
            await engine.aclose()
    # What `ollamon fit` predicts is what each option shows, right before the name.
    assert len(fits) == len(shown)
    for fit in fits:
        before, _, _ = shown[fit.model].partition(fit.model)
        assert before.strip(" ●").rstrip() == fit_mark(fit), shown[fit.model]
    for model, mark in expected.items():
        assert mark in shown[model]


async def choose_now(pilot: Pilot, app: OllamonApp, name: str) -> None:
    """Pick `name` and wait until it, not an earlier choice, is loaded."""
    await choose(pilot, app, name)
    await wait_until(pilot, lambda: app.current_model == name and app.timer_state.phase == "ready")


@pytest.mark.parametrize("key", ["enter", "y"])
async def test_swapping_model_asks_once_then_loads(sweep_ollama: FakeOllama, key: str) -> None:
    """A model predicted to swap asks first, loads on yes, and is not asked about again."""
    app = make_app(sweep_ollama.url, fit_machine=MAC_MINI_M4_16GB)
    async with app.run_test(size=SIZE) as pilot:
        await marked(pilot, app)
        await choose_now(pilot, app, Q4)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: isinstance(app.screen, LoadAnywayScreen))
        dialog = app.screen
        text = " ".join(str(widget.render()) for widget in dialog.query("Static"))
        assert "will swap, likely to fail" in text and "26%/74% CPU/GPU" in text and "stay on the CPU" in text
        assert FP16 not in sweep_ollama.loaded
        await pilot.press(key)
        await wait_until(pilot, lambda: app.current_model == FP16 and app.timer_state.phase == "ready")
        assert FP16 in sweep_ollama.loaded
        # Asked once per model: choosing it again loads without the question.
        await choose_now(pilot, app, Q4)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: app.current_model == FP16 and app.timer_state.phase == "ready")
        assert not isinstance(app.screen, LoadAnywayScreen)


@pytest.mark.parametrize("key", ["escape", "n"])
async def test_cancel_keeps_the_previous_model(sweep_ollama: FakeOllama, key: str) -> None:
    """Saying no to a swapping model keeps the model loaded before and loads nothing."""
    app = make_app(sweep_ollama.url, fit_machine=MAC_MINI_M4_16GB)
    async with app.run_test(size=SIZE) as pilot:
        await marked(pilot, app)
        await choose_now(pilot, app, Q4)
        loads = len(sweep_ollama.requests)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: isinstance(app.screen, LoadAnywayScreen))
        await pilot.press(key)
        await wait_until(pilot, lambda: not isinstance(app.screen, LoadAnywayScreen))
        await pilot.pause(0.1)
        assert app.current_model == Q4 and app.query_one(ModelPicker).value == Q4
        assert FP16 not in sweep_ollama.loaded
        assert not any(
            r["body"] and r["body"].get("model") == FP16 and r["path"] in ("/api/generate", "/api/chat")
            for r in sweep_ollama.requests[loads:]
        )


async def test_cancel_with_no_model_chosen_clears_the_choice(sweep_ollama: FakeOllama) -> None:
    """Saying no with no model loaded before leaves the dropdown blank."""
    app = make_app(sweep_ollama.url, fit_machine=MAC_MINI_M4_16GB)
    async with app.run_test(size=SIZE) as pilot:
        await marked(pilot, app)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: isinstance(app.screen, LoadAnywayScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LoadAnywayScreen))
        assert app.current_model is None and app.query_one(ModelPicker).is_blank()


async def test_processor_panel_shows_prediction_beside_ps(sweep_ollama: FakeOllama) -> None:
    """After the load the processor panel shows /api/ps's split and the predicted one."""
    app = make_app(sweep_ollama.url, fit_machine=MAC_MINI_M4_16GB)
    async with app.run_test(size=SIZE) as pilot:
        await marked(pilot, app)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: isinstance(app.screen, LoadAnywayScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: FP16 in app.loaded and app.timer_state.phase == "ready")
        await wait_until(pilot, lambda: "predicted" in panel_text(app))
        lines = panel_text(app).splitlines()
        ps = next(line for line in lines if "deepseek-r1:7b" in line)
        predicted = next(line for line in lines if "predicted" in line)
        # The fake's /api/ps shows the split the Mac mini M4 16 GB sweep saw; the advisor predicted the same.
        assert "26%/74% CPU/GPU" in ps and "26%/74% CPU/GPU" in predicted
        line = str(app.query_one(ResourceLine).render())
        assert "ps 26%/74% CPU/GPU · predicted 26%/74% CPU/GPU" in line


async def test_record_keeps_prediction_and_ps(sweep_ollama: FakeOllama, tmp_path: Path) -> None:
    """The turn's record keeps the prediction and what /api/ps said."""
    store = RecordStore.open(tmp_path / "r.sqlite")
    recorder = TurnRecorder(store, HostInfo(hostname="testhost"), keep_content=True)
    app = make_app(sweep_ollama.url, fit_machine=MAC_MINI_M4_16GB, recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        await marked(pilot, app)
        await choose_now(pilot, app, Q4)
        await send(pilot, app, "hello")
    [record] = store.records(newest_first=False)
    store.close()
    predicted = record.load.predicted
    assert predicted is not None
    assert predicted["model"] == Q4 and predicted["verdict"] == "fits" and predicted["processor"] == "100% GPU"
    assert predicted["gpu_layers"] == predicted["total_layers"] == 29
    assert predicted["inputs"]["gpu_memory"]["source"] == "--gpu-memory"
    assert record.load.processor == "100% GPU" and record.load.ps_size_bytes == 5_100_000_000


def overlay_lines(app: OllamonApp) -> list[str]:
    overlay = app.query_one("SelectOverlay", OptionList)
    return [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]


def test_legend_explains_only_the_marks_in_use() -> None:
    """The legend under the models names each mark shown once, and none that is not shown."""
    legend = marks_legend(["◐ CPU only?", "◐ CPU only", "✗ no load", ""], any_loaded=False).splitlines()
    assert legend == [
        "◐ CPU only: runs wholly on the CPU",
        "✗ no load: will not load",
        "? after a mark: a rough estimate (the server sent no tensor list)",
    ]
    assert marks_legend(["◐ 17% CPU", "✓"], any_loaded=True).splitlines() == [
        "✓ fits on the GPU",
        "◐ 26% CPU: spills that share to the CPU",
        "● in memory now",
    ]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_open_dropdown_shows_whole_lines_and_the_legend(sweep_ollama: FakeOllama, size: tuple[int, int]) -> None:
    """Open at 80x24 and 120x40, the list shows each quantization whole and, under the models, what the marks mean."""
    app = make_app(sweep_ollama.url, fit_machine=MAC_MINI_M4_16GB)
    async with app.run_test(size=size) as pilot:
        await marked(pilot, app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        overlay = app.query_one("SelectOverlay", OptionList)
        lines = overlay_lines(app)
        assert "✓ fits on the GPU" in lines and "⚠ swap: will swap" in lines
        widest = max(len(label) for label in labels(app).values())
        assert overlay.content_region.width >= widest + 2, (overlay.content_region.width, widest)
        assert overlay.region.right <= size[0]
        # The last model highlighted, the legend under it scrolls into view.
        await pilot.press("end")
        await wait_until(pilot, lambda: overlay.scroll_y == overlay.max_scroll_y)
        assert overlay.highlighted == len(labels(app))
