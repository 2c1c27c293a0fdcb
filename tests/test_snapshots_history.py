"""How the history screens look with fixed synthetic turns, times shown in UTC.

The real app opens them (F2), so they are drawn with its stylesheets, over its chat screen.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Select, TabbedContent

from devtools.fake_ollama import FakeOllama
from tests.helpers.apps import snapshot_app
from tests.helpers.pilot import settled, wait_until
from tests.helpers.records import add_chat, fill, nvbox, turns_on
from tests.helpers.snapshots import SnapCompare
from tui.app import OllamonApp
from tui.core.chat.recorder import TurnRecorder
from tui.core.records.schema import HostInfo
from tui.core.records.store import RecordStore
from tui.ui.history.history_screen import HistoryScreen
from tui.ui.history.turn_detail import TurnDetailScreen
from tui.ui.history.turns_table import TurnsTable

NARROW, WIDE = (80, 24), (160, 48)
Steps = Callable[..., Awaitable[None]]


@pytest.fixture
def utc() -> Iterator[None]:
    """The app shows times in local time: make that UTC while the test runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


@pytest.fixture
def app(tmp_path: Path, snapshot_server: FakeOllama, utc: None) -> Iterator[OllamonApp]:
    with RecordStore.open(tmp_path / "records.sqlite") as store:
        fill(store, 30)
        recorder = TurnRecorder(store, HostInfo(hostname="testhost", os="Linux"))
        yield snapshot_app(snapshot_server.url, recorder=recorder)


@pytest.fixture
def two_hosts(tmp_path: Path, snapshot_server: FakeOllama, utc: None) -> Iterator[OllamonApp]:
    """The Mac's turns and, imported, the same models' turns on a GPU box three times as fast."""
    with RecordStore.open(tmp_path / "records.sqlite") as store:
        fill(store, 30)
        store.merge_records([turns_on(nvbox(), 30, 100)])
        recorder = TurnRecorder(store, HostInfo(hostname="testhost", os="Linux"))
        yield snapshot_app(snapshot_server.url, recorder=recorder)


async def loaded(pilot: Pilot) -> HistoryScreen:
    app = pilot.app
    assert isinstance(app, OllamonApp)
    if not isinstance(app.screen, HistoryScreen):  # still on the chat screen: open the history
        await wait_until(pilot, lambda: settled(app) and bool(app.models))
        await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen))
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await wait_until(pilot, lambda: not screen.reading)
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    return screen


async def show_turns(pilot: Pilot) -> None:
    await loaded(pilot)


async def show_failed(pilot: Pilot) -> None:
    screen = await loaded(pilot)
    screen.query_one("#filter-status", Select).value = "failed"
    await pilot.pause()
    await loaded(pilot)


def show_detail(row: int, scroll_to: str | None = None) -> Steps:
    async def run(pilot: Pilot) -> None:
        screen = await loaded(pilot)
        screen.query_one(TurnsTable).move_cursor(row=row)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, TurnDetailScreen))
        await pilot.pause()
        if scroll_to:
            detail = pilot.app.screen
            detail.query_one(VerticalScroll).scroll_to_widget(detail.query_one(scroll_to), animate=False, top=True)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    return run


async def show_summary(pilot: Pilot) -> None:
    screen = await loaded(pilot)
    screen.query_one(TabbedContent).active = "summary-pane"
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


class TestTurnsTable:
    def test_narrow(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """80x24: filters on one line; time to J/token whole, and a line naming the four columns left out."""
        assert snap_compare(app, terminal_size=NARROW, run_before=show_turns)

    def test_wide(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """160x48: every column, "—" where a turn measured no power, the loaded-turns count at the right."""
        assert snap_compare(app, terminal_size=WIDE, run_before=show_turns)

    def test_failed_only(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """Status filter set to failed: only the four failed turns, in red, and the columns left out named."""
        assert snap_compare(app, terminal_size=NARROW, run_before=show_failed)


class TestTurnDetail:
    def test_wide_with_charts(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """160x48: five figure boxes, then memory/swap and power charts side by side, then the prompt."""
        assert snap_compare(app, terminal_size=WIDE, run_before=show_detail(0))

    def test_narrow_figures(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """80x24: status and heading, figure boxes two to a row, every figure on one line, context used and max."""
        assert snap_compare(app, terminal_size=NARROW, run_before=show_detail(0))

    def test_narrow_charts(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """80x24 scrolled down: the memory/swap chart above the power chart."""
        assert snap_compare(app, terminal_size=NARROW, run_before=show_detail(0, "#turn-charts"))

    def test_narrow_resources_and_power(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """80x24 scrolled to the resources: memory and swap at start and peak a line each, Power across the row."""
        assert snap_compare(app, terminal_size=NARROW, run_before=show_detail(0, "#resources-figures"))

    def test_no_power_readings(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """A turn without a power source: "n/a — why" in the Power box and a note instead of a chart."""
        assert snap_compare(app, terminal_size=WIDE, run_before=show_detail(2))


class TestSummary:
    def test_narrow(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """80x24: the comparison columns that fit, "Total: median" and the hidden count below, then the bars."""
        assert snap_compare(app, terminal_size=NARROW, run_before=show_summary)

    def test_wide(self, snap_compare: SnapCompare, app: OllamonApp) -> None:
        """160x48: every comparison column with ok/failed counts, "Load: median of cold loads" below, then the bars."""
        assert snap_compare(app, terminal_size=WIDE, run_before=show_summary)

    def test_by_host(self, snap_compare: SnapCompare, two_hosts: OllamonApp) -> None:
        """120x36, "h": each model's hosts side by side, the Mac's and the GPU box's hardware beside their names."""

        async def by_host(pilot: Pilot) -> None:
            await show_summary(pilot)
            await pilot.press("h")
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()

        assert snap_compare(two_hosts, terminal_size=(120, 36), run_before=by_host)


class TestChats:
    def test_narrow(
        self,
        snap_compare: SnapCompare,
        tmp_path: Path,
        snapshot_server: FakeOllama,
        utc: None,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """80x24: saved chats with the model of their latest turn; every key fits the footer."""
        created = iter(["2025-03-01T09:00:00.000Z", "2025-03-02T18:30:00.000Z"])
        monkeypatch.setattr("tui.core.records.store.utc_now", lambda: next(created))
        with RecordStore.open(tmp_path / "records.sqlite") as store:
            fill(store, 4)
            add_chat(store, "Sky colours", 3, 10)
            add_chat(store, None, 1, 20)
            app = snapshot_app(snapshot_server.url, recorder=TurnRecorder(store, HostInfo(hostname="testhost")))

            async def run(pilot: Pilot) -> None:
                screen = await loaded(pilot)
                screen.query_one(TabbedContent).active = "chats-pane"
                await pilot.pause()
                await loaded(pilot)
                await pilot.wait_for_scheduled_animations()

            assert snap_compare(app, terminal_size=NARROW, run_before=run)
