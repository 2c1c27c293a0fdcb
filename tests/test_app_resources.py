"""Pilot tests of the resource panels: live sampling, answer peaks, swap warnings, idle baseline."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from devtools.fake_ollama import FakeOllama
from tests.helpers.apps import make_app
from tests.helpers.pilot import choose, send, wait_until
from tests.helpers.resources import NO_POWER, NORMAL, SWAPPING, scenario_sampler
from tui.app import OllamonApp
from tui.core.chat.recorder import TurnRecorder
from tui.core.records.schema import HostInfo
from tui.core.records.store import RecordStore
from tui.core.sampling.energy import BaselineStore
from tui.core.sampling.monitor import ResourceMonitor
from tui.core.sampling.processes import OllamaProcesses
from tui.core.sampling.sampler import Reading
from tui.ui.chat.messages import AssistantMessage
from tui.ui.panels.column import ResourceColumn, ResourceLine
from tui.ui.panels.figures import FigurePanel, Row
from tui.ui.panels.resources import MemoryPanel, PowerPanel, ProcessorPanel, RemoteNote, ResourceView

SIZE = (160, 48)


def text_of(widget: FigurePanel | Static) -> str:
    if isinstance(widget, FigurePanel):
        return widget.plain_text(40)
    console = Console(width=40, record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


async def chat_once(pilot: Pilot, app: OllamonApp, model: str) -> None:
    await choose(pilot, app, model)
    await send(pilot, app, "hello")


async def test_panels_move_with_live_sampling(fake_ollama: FakeOllama) -> None:
    """With live sampling on, the panels follow the sampler's new readings."""
    app = make_app(fake_ollama.url, scenario=NORMAL, sample_interval=0.05, idle_watts=5.0, live=True)
    async with app.run_test(size=SIZE) as pilot:
        sampler = app.monitor.sampler
        assert sampler is not None
        first = text_of(app.query_one(MemoryPanel))
        await wait_until(pilot, lambda: sampler.ticks >= 8)
        await pilot.pause(0.1)
        later = text_of(app.query_one(MemoryPanel))
        assert first != later and "11.8 / 14.9 GiB" in later  # 12.7 GB of 16 GB, in binary units
        assert "30.0 W" in text_of(app.query_one(PowerPanel))


async def test_answer_peaks_energy_and_split(fake_ollama: FakeOllama) -> None:
    """After an answer the panels show its peaks, its energy and the processor split."""
    app = make_app(fake_ollama.url, scenario=NORMAL, sample_interval=0.05, idle_watts=5.0)
    async with app.run_test(size=SIZE) as pilot:
        await chat_once(pilot, app, "llama3.2:3b")
        await wait_until(pilot, lambda: bool(app.resources.loaded))
        cost = app.resources.cost
        assert cost is not None and cost.peaks.samples == 2
        # Two marks a second apart read 18 W then 31 W: trapezoid 24.5 J, minus 5 W idle for 1 s.
        assert cost.peaks.energy_j == pytest.approx(24.5)
        assert cost.net_energy_j == pytest.approx(19.5)
        stats = app.timer_state.stats
        assert stats is not None and stats.eval_count is not None
        assert cost.j_per_token == pytest.approx(19.5 / stats.eval_count)
        processor = text_of(app.query_one(ProcessorPanel))
        assert "26%/74% CPU/GPU" in processor and "llama3.2:3b" in processor
        power = text_of(app.query_one(PowerPanel))
        assert "J/token" in power and "20 J" in power
        assert cost.gross_j_per_token == pytest.approx(24.5 / stats.eval_count)
        assert f"{24.5 / stats.eval_count:.2f} gross" in power and "J/token net" in power


async def test_gross_j_per_token_needs_no_baseline(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A wall meter's figure: shown and recorded before any idle baseline exists; net stays blank."""
    store = RecordStore.open(tmp_path / "r.sqlite")
    app = make_app(
        fake_ollama.url,
        scenario=NORMAL,
        sample_interval=0.05,
        idle_watts=None,
        recorder=TurnRecorder(store, HostInfo(hostname="h")),
    )
    async with app.run_test(size=SIZE) as pilot:
        await chat_once(pilot, app, "llama3.2:3b")
        power = text_of(app.query_one(PowerPanel))
        assert "gross" in power and "J/token net" not in power
    [record] = store.records()
    assert record.power.gross_j_per_token is not None and record.power.j_per_token is None


async def test_swap_growth_is_flagged(fake_ollama: FakeOllama) -> None:
    """Swap that grows during the answer is flagged."""
    app = make_app(fake_ollama.url, scenario=SWAPPING, sample_interval=0.05, idle_watts=5.0)
    async with app.run_test(size=SIZE) as pilot:
        await chat_once(pilot, app, "qwen3:8b")
        outcome = str(app.query(AssistantMessage).last().query_one(".outcome").render())
        assert "swap grew by 762.9 MiB" in outcome  # marks read 2.7 GB then 3.5 GB: 800 MB
        assert "swap during the last answer" in text_of(app.query_one(MemoryPanel))


async def test_no_power_source_is_said_briefly_and_leaves_j_per_token_blank(fake_ollama: FakeOllama) -> None:
    """Without a power source the panel says why in brief and J/token stays blank."""
    app = make_app(fake_ollama.url, scenario=NO_POWER, sample_interval=0.05, idle_watts=None)
    async with app.run_test(size=SIZE) as pilot:
        await chat_once(pilot, app, "qwen3:8b")
        power = text_of(app.query_one(PowerPanel))
        # Said briefly, once; `ollamon doctor` (and the record) have the full reason.
        assert "n/a" in power and "no power sensor here" in power and "fake meter unplugged" not in power
        cost = app.resources.cost
        assert cost is not None and cost.j_per_token is None and cost.peaks.energy_j is None


async def test_f5_measures_and_remembers_idle_power(
    fake_ollama: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F5 measures the idle power and remembers it for this host."""
    store = BaselineStore(tmp_path)
    # Past the scripted ramp: every reading in the window is the meter's steady 30 W.
    app = make_app(
        fake_ollama.url,
        scenario=NORMAL,
        ticks=8,
        sample_interval=0.05,
        live=True,
        idle_watts=None,
        baselines=store,
        baseline_seconds=0.3,
    )
    async with app.run_test(size=SIZE) as pilot:
        assert app.resources.baseline is None
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.resources.baseline is not None)
        baseline = app.resources.baseline
        assert baseline is not None and baseline.samples >= 2
        assert baseline.watts == 30.0  # the fake meter's last reading repeats
        remembered = BaselineStore(tmp_path).get(socket.gethostname(), "fake-meter")
        assert remembered is not None and remembered.watts == 30.0
        assert "idle" in text_of(app.query_one(PowerPanel)) and "30.0 W" in text_of(app.query_one(PowerPanel))


async def test_remembered_baseline_is_used_at_start(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """An idle baseline remembered for this host is used from the start."""
    from tui.core.sampling.energy import Baseline

    BaselineStore(tmp_path).set(socket.gethostname(), Baseline("fake-meter", 7.5, 10))
    app = make_app(
        fake_ollama.url, scenario=NORMAL, sample_interval=0.05, idle_watts=None, baselines=BaselineStore(tmp_path)
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.resources.baseline is not None and app.resources.baseline.watts == 7.5


class _ColumnApp(App[None]):
    def __init__(self, remote: str | None) -> None:
        super().__init__()
        self._remote = remote

    def compose(self) -> ComposeResult:
        line = ResourceLine()
        yield ResourceColumn(ResourceMonitor(scenario_sampler(NORMAL, ticks=2)), line=line, remote_host=self._remote)
        yield line


@pytest.mark.parametrize("remote", [None, "http://gpu-box:11434"])
async def test_remote_ollama_is_said_plainly(remote: str | None) -> None:
    """A remote Ollama gets a note that the panels are this machine, not the Ollama host; a local one none."""
    app = _ColumnApp(remote)
    async with app.run_test() as pilot:
        await pilot.pause()
        note = app.query_one(RemoteNote)
        assert note.display is (remote is not None)
        if remote:
            assert "not the Ollama host http://gpu-box:11434" in str(note.render())


class _MemoryPanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield MemoryPanel()


@pytest.mark.parametrize(
    ("found_by", "shown", "note"),
    [
        ("listening on :11500", "listening on :11500", None),
        ("by name (listing sockets was denied)", "by name", "Ollama found by name: listing sockets was denied"),
    ],
)
async def test_memory_panel_says_how_ollama_was_found(found_by: str, shown: str, note: str | None) -> None:
    """Under Ollama's memory the panel says how its server was found, a fallback's reason as a note."""
    ollama = OllamaProcesses(200 * 2**20, None, 2, (100, 101), 100, None, "RSS", found_by)
    app = _MemoryPanelApp()
    async with app.run_test() as pilot:
        panel = app.query_one(MemoryPanel)
        panel.show(ResourceView(sample=Reading(1.0, 1.7e9, None, ollama, None, None)))
        await pilot.pause()
        assert Row("Ollama RSS", "200.0 MiB (2 proc)") in panel.rows
        assert Row("  found", shown) in panel.rows
        assert all(len(line) == 30 for line in panel.plain_text(30).splitlines()[: len(panel.rows)])
        notes = panel.plain_text(30).splitlines()[len(panel.rows) :]
        assert notes == ["no reading yet", *([note] if note else [])]  # no memory reading in this view


async def test_panels_fit_their_figures_after_the_window_shrinks(fake_ollama: FakeOllama) -> None:
    """200x60 shrunk to 120x40 while idle: every panel is as tall as its figures, none keeps empty rows."""
    app = make_app(fake_ollama.url, scenario=NORMAL, idle_watts=5.0)
    async with app.run_test(size=(200, 60)) as pilot:
        await chat_once(pilot, app, "qwen3:8b")
        await pilot.resize_terminal(120, 40)
        await wait_until(pilot, lambda: app.query_one("#side").region.width == 42)
        await pilot.pause()
        for panel in app.query(FigurePanel).results():
            if panel.display:
                lines = panel.plain_text().splitlines()
                assert panel.region.height == len(lines) + 2, (panel.id, panel.region.height, lines)
                assert lines[-1].strip(), (panel.id, lines)


async def test_timers_panel_leads_the_side_column_at_120x40(fake_ollama: FakeOllama) -> None:
    """At 120x40 the Timers panel with Ollama's own figures is in view at the top of the side column."""
    app = make_app(fake_ollama.url, scenario=NORMAL, idle_watts=5.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await chat_once(pilot, app, "qwen3:8b")
        await pilot.pause()
        timers, side = app.query_one("#timers", FigurePanel), app.query_one("#side")
        assert timers.display and timers.region.height > 2
        assert side.region.contains_region(timers.region)
        assert "eval rate" in timers.plain_text() and "total duration" in timers.plain_text()


async def test_processor_says_loaded_is_unknown_once_ollama_is_gone() -> None:
    """After the server dies the Processor panel no longer shows the model as loaded, but unknown."""
    server = FakeOllama(rate=2000.0).start()
    app = make_app(server.url, scenario=NORMAL)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await chat_once(pilot, app, "qwen3:8b")
            processor = app.query_one(ProcessorPanel)
            assert "qwen3:8b" in processor.plain_text() and "unloads" in processor.plain_text()
            server.stop()
            await wait_until(pilot, lambda: app.connected is False)
            await pilot.pause()
            shown = processor.plain_text()
            assert "qwen3:8b" not in shown and "unloads" not in shown
            assert "unknown" in shown and "Ollama unreachable" in shown
            assert "ps unknown" in str(app.query_one(ResourceLine).render())
    finally:
        server.stop()
