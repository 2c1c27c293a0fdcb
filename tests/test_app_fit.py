"""The fit advisor in the chat app: dropdown marks, the question before a swapping load, the
prediction beside /api/ps in the processor panel, and in the turn's record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.fake_ollama import FakeOllama, reviewer_models
from tests.app_factory import build_app
from tests.conftest import StepClock, wait_until
from tests.fit_helpers import M4_GPU
from tests.pilot_steps import choose, send
from tui.app import OllamonApp
from tui.core.chat.recorder import TurnRecorder
from tui.core.fit.gather import WhatIf, fit_models, read_machine
from tui.core.fit.inputs import GIB
from tui.core.ollama.client import OllamaEngine
from tui.core.records.schema import HostInfo
from tui.core.records.store import RecordStore
from tui.ui.chat.load_anyway import LoadAnywayScreen
from tui.ui.chat.model_picker import ModelPicker, fit_mark
from tui.ui.panels.column import ResourceLine
from tui.ui.panels.resources import ProcessorPanel

SIZE = (120, 40)
# The reviewer's 16 GB Mac mini M4, and a 24 GB Mac whose GPU may use 12 GiB (some models spill).
M4 = WhatIf(ram=16 * GIB, gpu_memory=M4_GPU)
MAC_24GB = WhatIf(ram=24 * GIB, gpu_memory=12 * GIB)
Q4 = "deepseek-r1:7b-qwen-distill-q4_K_M"
FP16 = "deepseek-r1:7b-qwen-distill-fp16"


@pytest.fixture
def reviewer_ollama() -> Iterator[FakeOllama]:
    server = FakeOllama(reviewer_models(), rate=2000.0).start()
    yield server
    server.stop()


def make_app(url: str, machine: WhatIf = M4, **kwargs: object) -> OllamonApp:
    return build_app(
        url, clock=StepClock(), live=False, retry_interval=0.1, refresh_interval=0.2, fit_machine=machine, **kwargs
    )  # type: ignore[arg-type]


def labels(app: OllamonApp) -> dict[str, str]:
    return {value: str(prompt) for prompt, value in app.query_one(ModelPicker)._options if isinstance(value, str)}


async def marked(pilot, app: OllamonApp) -> dict[str, str]:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: len(app.session.predictions) == len(reviewer_models()))
    await wait_until(pilot, lambda: "✓" in labels(app).get(Q4, ""))
    return labels(app)


def panel_text(app: OllamonApp) -> str:
    return app.query_one(ProcessorPanel).plain_text()


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        (
            M4,
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
    reviewer_ollama: FakeOllama, machine: WhatIf, expected: dict[str, str]
) -> None:
    app = make_app(reviewer_ollama.url, machine)
    async with app.run_test(size=SIZE) as pilot:
        shown = await marked(pilot, app)
        engine = OllamaEngine(reviewer_ollama.url)
        try:
            fits = await fit_models(engine, machine=await read_machine(engine, machine))
        finally:
            await engine.aclose()
    # What `ollamon fit` predicts is what each option shows, right before the name.
    assert len(fits) == len(shown)
    for fit in fits:
        before, _, _ = shown[fit.model].partition(fit.model)
        assert before.strip(" ●").rstrip() == fit_mark(fit), shown[fit.model]
    for model, mark in expected.items():
        assert mark in shown[model]


async def choose_now(pilot, app: OllamonApp, name: str) -> None:  # type: ignore[no-untyped-def]
    """Pick `name` and wait until it, not an earlier choice, is loaded."""
    await choose(pilot, app, name)
    await wait_until(pilot, lambda: app.current_model == name and app.timer_state.phase == "ready")


@pytest.mark.parametrize("key", ["enter", "y"])
async def test_swapping_model_asks_once_then_loads(reviewer_ollama: FakeOllama, key: str) -> None:
    app = make_app(reviewer_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await marked(pilot, app)
        await choose_now(pilot, app, Q4)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: isinstance(app.screen, LoadAnywayScreen))
        dialog = app.screen
        text = " ".join(str(widget.render()) for widget in dialog.query("Static"))
        assert "will swap, likely to fail" in text and "26%/74% CPU/GPU" in text and "stay on the CPU" in text
        assert FP16 not in reviewer_ollama.loaded
        await pilot.press(key)
        await wait_until(pilot, lambda: app.current_model == FP16 and app.timer_state.phase == "ready")
        assert FP16 in reviewer_ollama.loaded
        # Asked once per model: choosing it again loads without the question.
        await choose_now(pilot, app, Q4)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: app.current_model == FP16 and app.timer_state.phase == "ready")
        assert not isinstance(app.screen, LoadAnywayScreen)


@pytest.mark.parametrize("key", ["escape", "n"])
async def test_cancel_keeps_the_previous_model(reviewer_ollama: FakeOllama, key: str) -> None:
    app = make_app(reviewer_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await marked(pilot, app)
        await choose_now(pilot, app, Q4)
        loads = len(reviewer_ollama.requests)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: isinstance(app.screen, LoadAnywayScreen))
        await pilot.press(key)
        await wait_until(pilot, lambda: not isinstance(app.screen, LoadAnywayScreen))
        await pilot.pause(0.1)
        assert app.current_model == Q4 and app.query_one(ModelPicker).value == Q4
        assert FP16 not in reviewer_ollama.loaded
        assert not any(
            r["body"] and r["body"].get("model") == FP16 and r["path"] in ("/api/generate", "/api/chat")
            for r in reviewer_ollama.requests[loads:]
        )


async def test_cancel_with_no_model_chosen_clears_the_choice(reviewer_ollama: FakeOllama) -> None:
    app = make_app(reviewer_ollama.url)
    async with app.run_test(size=SIZE) as pilot:
        await marked(pilot, app)
        app.query_one(ModelPicker).value = FP16
        await wait_until(pilot, lambda: isinstance(app.screen, LoadAnywayScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LoadAnywayScreen))
        assert app.current_model is None and app.query_one(ModelPicker).is_blank()


async def test_processor_panel_shows_prediction_beside_ps(reviewer_ollama: FakeOllama) -> None:
    app = make_app(reviewer_ollama.url)
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
        # The fake's /api/ps shows the reviewer's observed split; the advisor predicted the same.
        assert "26%/74% CPU/GPU" in ps and "26%/74% CPU/GPU" in predicted
        line = str(app.query_one(ResourceLine).render())
        assert "ps 26%/74% CPU/GPU · predicted 26%/74% CPU/GPU" in line


async def test_record_keeps_prediction_and_ps(reviewer_ollama: FakeOllama, tmp_path: Path) -> None:
    store = RecordStore.open(tmp_path / "r.sqlite")
    recorder = TurnRecorder(store, HostInfo(hostname="testhost"), keep_content=True)
    app = make_app(reviewer_ollama.url, recorder=recorder)
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
