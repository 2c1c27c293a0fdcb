"""Pilot tests of the history at 80, 120 and 200 columns: what fits is shown whole, what does not is named."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, TabbedContent

from tests.helpers.apps import HostApp
from tests.helpers.pilot import wait_until
from tests.helpers.records import fill, machine, turn
from tui.core.records.schema import Record
from tui.core.records.store import RecordStore
from tui.ui.history import summary_table, turns_table
from tui.ui.history.columns_hint import ColumnsHint
from tui.ui.history.history_screen import HistoryScreen
from tui.ui.history.sized_table import SizedTable
from tui.ui.history.summary_table import SummaryTable
from tui.ui.history.turn_detail import (
    TurnDetailScreen,
    count_figures,
    load_figures,
    power_figures,
    resource_figures,
    time_figures,
)
from tui.ui.history.turns_table import TurnsTable


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    with RecordStore.open(tmp_path / "records.sqlite") as s:
        yield s


async def history(pilot: Pilot) -> HistoryScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen))
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await wait_until(pilot, lambda: not screen.reading)
    await pilot.pause()
    return screen


async def resized(pilot: Pilot, width: int, height: int) -> None:
    await pilot.resize_terminal(width, height)
    await pilot.pause()
    await pilot.pause()


def headers(table: DataTable[Any]) -> list[str]:
    return [str(column.label) for column in table.columns.values()]


def assert_fits(table: DataTable[Any]) -> None:
    """Every column shown is whole within the table: nothing to scroll sideways to."""
    used = sum(column.get_render_width(table) for column in table.columns.values())
    assert used <= table.scrollable_content_region.width
    assert table.max_scroll_x == 0


def hint_text(screen: HistoryScreen, hint_id: str) -> str:
    hint = screen.query_one(hint_id, ColumnsHint)
    return str(hint.render()) if hint.display else ""


class TestTurnsTable:
    async def test_80_columns_show_what_fits_whole_and_count_the_rest(self, store: RecordStore) -> None:
        """At 80 columns the table shows the needed columns whole, in order, and the hint counts the rest."""
        fill(store, 30)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(80, 24)) as pilot:
            screen = await history(pilot)
            table = screen.query_one(TurnsTable)
            assert_fits(table)
            # Memory and power, which this app is for, stay; the least needed go.
            assert {"Time", "Model", "Status", "tok/s", "Peak mem", "Net W", "J/token"} <= set(headers(table))
            assert table.widths is not None and table.widths.hidden
            assert headers(table) == [h for h in (c.header for c in turns_table.COLUMNS) if h in headers(table)]
            hint = hint_text(screen, "#turns-hint")
            assert f"{len(table.widths.hidden)} columns hidden" in hint and "Enter" in hint
            assert screen.query_one("#turns-hint").region.right <= 80

    async def test_200_columns_show_every_column_and_no_hint(self, store: RecordStore) -> None:
        """At 200 columns every column is shown whole and there is no hint."""
        fill(store, 30)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(200, 60)) as pilot:
            screen = await history(pilot)
            table = screen.query_one(TurnsTable)
            assert headers(table) == [c.header for c in turns_table.COLUMNS]
            assert_fits(table)
            assert hint_text(screen, "#turns-hint") == ""

    async def test_120_columns_show_every_column(self, store: RecordStore) -> None:
        """At 120 columns every column of the turns table is shown and there is no hint."""
        fill(store, 30)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(120, 40)) as pilot:
            screen = await history(pilot)
            assert headers(screen.query_one(TurnsTable)) == [c.header for c in turns_table.COLUMNS]
            assert hint_text(screen, "#turns-hint") == ""

    async def test_a_resize_chooses_again_and_keeps_the_cursor_on_its_turn(self, store: RecordStore) -> None:
        """A resize chooses the columns again, keeps the cursor on its turn, and Enter opens that turn."""
        records = fill(store, 30)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(200, 60)) as pilot:
            screen = await history(pilot)
            table = screen.query_one(TurnsTable)
            table.move_cursor(row=5)
            await pilot.pause()
            chosen = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            await resized(pilot, 80, 24)
            assert len(headers(table)) < len(turns_table.COLUMNS)
            assert_fits(table)
            assert "columns hidden" in hint_text(screen, "#turns-hint")
            assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == chosen
            await resized(pilot, 200, 60)
            assert headers(table) == [c.header for c in turns_table.COLUMNS]
            assert hint_text(screen, "#turns-hint") == ""
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, TurnDetailScreen))
            detail = pilot.app.screen
            assert isinstance(detail, TurnDetailScreen)
            assert detail.record.record_id == chosen == records[-6].record_id

    async def test_a_new_filter_measures_only_its_own_rows(self, store: RecordStore) -> None:
        """A new filter sizes the columns for its own rows, so Status shrinks to its header when it can."""
        fill(store, 30)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(80, 24)) as pilot:
            screen = await history(pilot)
            table = screen.query_one(TurnsTable)
            screen.query_one("#filter-status", Select).value = "failed"
            await pilot.pause()
            await history(pilot)
            # No "cancelled" left: the Status column is as wide as its header, room that others can use.
            status = next(c for c in table.columns.values() if c.key.value == "status")
            assert status.get_render_width(table) == len("Status") + 2
            assert_fits(table)


class TestSummaryTable:
    async def show(self, pilot: Pilot) -> tuple[HistoryScreen, SummaryTable]:
        screen = await history(pilot)
        screen.query_one(TabbedContent).active = "summary-pane"
        await pilot.pause()
        await pilot.pause()
        return screen, screen.query_one(SummaryTable)

    async def test_80_columns_shorten_the_median_header_and_say_so(self, store: RecordStore) -> None:
        """At 80 columns the summary shortens "Total (median)" to "Total" and the hint says so."""
        fill(store, 30)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(80, 24)) as pilot:
            screen, table = await self.show(pilot)
            assert_fits(table)
            # Whole words only: "Total", never "Total (medi".
            assert "Total" in headers(table) and "Total (median)" not in headers(table)
            known = {c.header for c in summary_table.COLUMNS} | {c.short for c in summary_table.COLUMNS}
            assert set(headers(table)) <= known
            assert table.widths is not None and table.widths.hidden
            hint = hint_text(screen, "#summary-hint")
            assert "Total: median" in hint and f"{len(table.widths.hidden)} columns hidden" in hint

    async def test_200_columns_show_every_column_with_its_full_header(self, store: RecordStore) -> None:
        """At 200 columns the summary shows every column with its full header and no hint."""
        fill(store, 30)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(200, 60)) as pilot:
            screen, table = await self.show(pilot)
            assert headers(table) == [c.header for c in summary_table.COLUMNS]
            assert_fits(table)
            assert hint_text(screen, "#summary-hint") == ""

    @pytest.mark.parametrize("size", [(120, 40), (200, 60)])
    async def test_load_says_it_is_the_median_of_cold_loads(self, store: RecordStore, size: tuple[int, int]) -> None:
        """The Load column is headed "Load (cold, median)", or "Load" with "Load: median of cold loads" below."""
        fill(store, 30)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=size) as pilot:
            screen, table = await self.show(pilot)
            shown = headers(table)
            assert "Load (cold, median)" in shown or (
                "Load" in shown and "Load: median of cold loads" in hint_text(screen, "#summary-hint")
            )

    async def test_the_host_stays_when_the_rows_come_from_two_hosts(self, store: RecordStore) -> None:
        """With rows from two hosts the summary keeps the Host column beside the model at 80 columns."""
        fill(store, 6)
        elsewhere = [turn(i) for i in range(6, 9)]
        for record in elsewhere:
            record.host = machine("laptop")
        store.import_records(elsewhere)
        async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(80, 24)) as pilot:
            _screen, table = await self.show(pilot)
            assert headers(table)[:2] == ["Model", "Host"]
            assert_fits(table)


def long_heading_turn() -> Record:
    """A turn whose heading, memory figures and power scope are each too long for a naive 80-column layout."""
    record = turn(1, session_id="s1", turn_index=2)
    record.host = replace(record.host, hostname="build-server-07.example.internal")
    record.resources.mem_used_start_bytes = 505_100_000  # 481.7 MiB
    record.resources.mem_used_peak_bytes = 505_200_000
    assert record.power.source is not None
    record.power.scope = "CPU + GPU + ANE (powermetrics)"
    record.load.predicted = {"processor": "100% CPU"}  # the widest comparison line
    record.load.processor = "100% CPU"
    return record


class TestTurnDetail:
    async def test_every_line_fits_80_columns(self) -> None:
        """At 80 columns every figure of a turn fits its line, the heading breaks between parts, nothing overflows."""
        record = long_heading_turn()
        async with HostApp(lambda: TurnDetailScreen(record, tz=UTC)).run_test(size=(80, 60)) as pilot:
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, TurnDetailScreen))
            await pilot.pause()
            screen = pilot.app.screen
            # Each figure on one line of its box: none wraps onto a second.
            boxes = {box.border_title: box for box in screen.query(".figure-box")}
            for title, figures in (
                ("Time", time_figures(record)),
                ("Tokens and characters", count_figures(record)),
                ("Load", load_figures(record)),
                ("Resources", resource_figures(record)),
                ("Power", power_figures(record)),
            ):
                assert boxes[title].content_size.height == len(figures), title
            # The heading breaks between its parts, never inside one.
            heading = screen.query_one("#turn-heading")
            lines = str(heading.render()).splitlines()
            assert len(lines) > 1 and all(len(line) <= heading.content_size.width for line in lines)
            assert any("2025-03-01 09:01:00 UTC" in line for line in lines)
            assert any("turn 3 of its chat" in line for line in lines)
            # Nothing, charts included, reaches past the screen's right edge.
            scroll = screen.query_one("#turn-detail")
            right = scroll.scrollable_content_region.right
            for widget in screen.query("#turn-detail *"):
                if widget.display and widget.region.width:
                    assert widget.region.right <= right, widget
            assert scroll.max_scroll_x == 0


async def test_a_resize_that_changes_no_column_lays_out_nothing_again(
    store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are laid out again only when the columns change, not on every resize."""
    fill(store, 30)
    fits: list[object] = []
    async with HostApp(lambda: HistoryScreen(store, tz=UTC)).run_test(size=(80, 40)) as pilot:
        screen = await history(pilot)
        table = screen.query_one(TurnsTable)
        original = table.post_message

        def counting(message: Message) -> bool:
            if isinstance(message, SizedTable.ColumnsSized):
                fits.append(message.widths)
            return original(message)

        monkeypatch.setattr(table, "post_message", counting)
        await resized(pilot, 80, 41)
        assert fits == []
        await resized(pilot, 200, 41)
        assert len(fits) == 1
