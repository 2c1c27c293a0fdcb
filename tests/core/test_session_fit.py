"""The session's fit advisor: one prediction per listed model, recomputed only when its inputs change."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.fake_ollama import TODAY, FakeOllama, deepseek_r1_sweep_models
from tests.helpers.fit import M4_GPU
from tests.helpers.records import record
from tui.core.chat.conversation import ChatSettings
from tui.core.chat.recorder import TurnRecorder
from tui.core.chat.session import ChatSession
from tui.core.fit import gather
from tui.core.fit.inputs import GIB, MIB, Fact
from tui.core.fit.verdict import Verdict
from tui.core.fit.what_if import WhatIf
from tui.core.ollama.client import OllamaEngine
from tui.core.records.schema import EngineInfo, HostInfo, LoadInfo
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import ResourceMonitor

M4 = WhatIf(ram=16 * GIB, gpu_memory=M4_GPU)


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    # Pinned: the sweep ran on Ollama 0.12.6, and the fit predictions follow the server's version.
    server = FakeOllama(deepseek_r1_sweep_models(), rate=2000.0, version="0.12.6").start()
    yield server
    server.stop()


def verbose_shows(fake: FakeOllama) -> list[str]:
    return [r["body"]["model"] for r in fake.requests if r["path"] == "/api/show" and r["body"].get("verbose")]


async def test_every_model_predicted_and_asked_once(fake: FakeOllama) -> None:
    """Every model gets a prediction; tensors are fetched once and recomputed only on new settings."""
    session = ChatSession(OllamaEngine(fake.url), ResourceMonitor(None), fit_machine=M4)
    await session.refresh()
    fits = await session.refresh_predictions()
    assert sorted(fits) == sorted(model.name for model in deepseek_r1_sweep_models())
    assert fits["deepseek-r1:7b-qwen-distill-fp16"].verdict is Verdict.SWAPS
    assert fits["deepseek-r1:7b-qwen-distill-fp16"].processor == "26%/74% CPU/GPU"
    assert sorted(verbose_shows(fake)) == sorted(fits)
    asked = len(fake.requests)
    await session.refresh()
    assert await session.refresh_predictions() is fits  # nothing changed: nothing recomputed
    session.settings = ChatSettings(num_ctx=8192)
    again = await session.refresh_predictions()
    assert again is not fits
    assert again["deepseek-r1:7b-qwen-distill-q4_K_M"].inputs["num_ctx"] == Fact(8192, "chat settings")
    # The tensors were fetched once: only the refresh asked the server anything since (both at once).
    assert sorted(r["path"] for r in fake.requests[asked:]) == ["/api/ps", "/api/tags"]
    await session.engine.aclose()


async def test_a_machine_nothing_describes_gives_no_predictions(
    fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote Ollama gives no predictions, says why, and the server is not asked again."""
    monkeypatch.setattr(gather, "is_local", lambda _host: False)  # as if Ollama ran on another machine
    session = ChatSession(OllamaEngine(fake.url), ResourceMonitor(None))
    await session.refresh()
    assert await session.refresh_predictions() == {}
    assert session.fit_problem is not None and "runs on another machine" in session.fit_problem
    asked = len(fake.requests)
    assert await session.refresh_predictions() == {}
    assert len(fake.requests) == asked  # not asked again: the answer would not change
    await session.engine.aclose()


async def test_advisor_off(fake: FakeOllama) -> None:
    """With the fit advisor off no model is predicted and no verbose /api/show is sent."""
    session = ChatSession(OllamaEngine(fake.url), ResourceMonitor(None), fit_machine=None)
    await session.refresh()
    assert await session.refresh_predictions() == {}
    assert verbose_shows(fake) == [] and session.fits.as_recorded("deepseek-r1:7b-qwen-distill-fp16") is None
    await session.engine.aclose()


async def test_the_chat_corrects_its_margin_from_this_hosts_past_loads(tmp_path: Path) -> None:
    """With stored era C loads at the server's version on this host, the chat's predictions say they used them."""
    store = RecordStore.open(tmp_path / "r.sqlite")
    here = HostInfo(hostname=socket.gethostname())
    guess = {"processor": "22%/78% CPU/GPU", "verdict": "spills", "era": "C", "size_vram_bytes": 9000 * MIB}
    past = record(
        "deepseek-r1:14b-qwen-distill-q8_0",
        host=here,
        load=LoadInfo(
            cold=True, processor="26%/74% CPU/GPU", ps_vram_bytes=8800 * MIB, predicted=guess | {"inputs": {}}
        ),
        engine=EngineInfo(version=TODAY),
    )
    store.import_records([past])
    with FakeOllama(deepseek_r1_sweep_models(), rate=2000.0) as today:
        recorder = TurnRecorder(store, here)
        session = ChatSession(OllamaEngine(today.url), ResourceMonitor(None), recorder=recorder)
        await session.refresh()
        fits = await session.refresh_predictions()
    store.close()
    margins = {fit.inputs["fit_margin"].source for fit in fits.values()}
    assert margins == {"margin from 1 past load on this host"}
    assert all(
        "margin from 1 past load on this host" in fit.reason for fit in fits.values() if "±1 layer" in fit.reason
    )
