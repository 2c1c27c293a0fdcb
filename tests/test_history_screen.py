"""The history screen against a real store: paging, filters, detail, summary, reopening and export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Collapsible, Input, Markdown, OptionList, Select, Static, TabbedContent

from tests.helpers.apps import HostApp
from tests.helpers.pilot import notices, wait_until
from tests.helpers.records import add_chat, fill, nvbox, record, turn, turns_on
from tests.test_history_widths import headers
from tui.core.records.schema import Sample, Status
from tui.core.records.store import RecordStore
from tui.ui.history.chats_table import ChatsTable
from tui.ui.history.export_dialog import ExportDialog
from tui.ui.history.history_screen import PAGE_SIZE, HistoryScreen
from tui.ui.history.summary_table import SummaryTable
from tui.ui.history.timeline_chart import MemoryChart, PowerChart
from tui.ui.history.turn_detail import TurnDetailScreen, power_figures, time_figures
from tui.ui.history.turns_table import TurnsTable


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    with RecordStore.open(tmp_path / "records.sqlite") as s:
        yield s


def host(store: RecordStore, **options: Any) -> HostApp:
    return HostApp(lambda: HistoryScreen(store, tz=UTC, **options))


async def ready(pilot: Pilot) -> HistoryScreen:
    """Wait until the screen is up and nothing is being read."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen))
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    await wait_until(pilot, lambda: not screen.reading)
    await pilot.pause()
    return screen


def shown_ids(screen: HistoryScreen) -> list[str]:
    table = screen.query_one(TurnsTable)
    return [str(row.key.value) for row in table.ordered_rows]


async def choose(pilot: Pilot, screen: HistoryScreen, select_id: str, value: str) -> None:
    screen.query_one(select_id, Select).value = value
    await pilot.pause()
    await wait_until(pilot, lambda: not screen.reading)
    await pilot.pause()


class TestTurns:
    async def test_rows_newest_first_with_dashes_for_missing(self, store: RecordStore) -> None:
        """Turns are listed newest first in UTC, and a figure not measured shows a dash, never 0."""
        fill(store, 30)
        async with host(store).run_test(size=(160, 48)) as pilot:
            screen = await ready(pilot)
            assert shown_ids(screen) == [r.record_id for r in store.query()]
            table = screen.query_one(TurnsTable)
            first = table.get_row_at(0)
            assert first[0].plain == "03-01 09:29"  # fixed UTC display, whatever the machine's zone
            assert first[1].plain == "gemma3:12b"
            # Turn 27 (index 2 from the top) measured no power: a dash, never 0.
            assert [c.plain for c in table.get_row_at(2)[-2:]] == ["—", "—"]

    async def test_filter_by_model_and_status(self, store: RecordStore) -> None:
        """The model and status filters each narrow the turns, and clearing the model keeps the status filter."""
        fill(store, 40)
        async with host(store).run_test(size=(120, 30)) as pilot:
            screen = await ready(pilot)
            await choose(pilot, screen, "#filter-model", "llama3.2:3b")
            assert shown_ids(screen) == [r.record_id for r in store.query(model="llama3.2:3b")]
            await choose(pilot, screen, "#filter-status", "failed")
            expected = [r.record_id for r in store.query(model="llama3.2:3b", status="failed")]
            assert expected and shown_ids(screen) == expected
            screen.query_one("#filter-model", Select).clear()
            await pilot.pause()
            await wait_until(pilot, lambda: not screen.reading)
            assert shown_ids(screen) == [r.record_id for r in store.query(status=Status.FAILED)]

    async def test_model_filter_lists_the_stored_models(self, store: RecordStore) -> None:
        """The model filter lists each stored model once, in order."""
        fill(store, 6)
        async with host(store).run_test() as pilot:
            screen = await ready(pilot)
            select = screen.query_one("#filter-model", Select)
            values = [str(option.prompt) for option in select.query_one(OptionList).options][1:]  # after the blank
            assert values == ["gemma3:12b", "llama3.2:3b", "qwen3:8b"]

    async def test_pages_load_as_the_cursor_nears_the_end(self, store: RecordStore) -> None:
        """Moving the cursor to the last row loads the next page, until every turn is listed."""
        fill(store, 2 * PAGE_SIZE + 50)
        async with host(store).run_test(size=(100, 30)) as pilot:
            screen = await ready(pilot)
            table = screen.query_one(TurnsTable)
            assert table.row_count == PAGE_SIZE and not table.exhausted
            table.move_cursor(row=table.row_count - 1)
            await wait_until(pilot, lambda: table.row_count == 2 * PAGE_SIZE and not screen.reading)
            table.move_cursor(row=table.row_count - 1)
            await wait_until(pilot, lambda: table.exhausted and not screen.reading)
            assert shown_ids(screen) == [r.record_id for r in store.query()]

    async def test_first_page_of_a_large_store(self, store: RecordStore) -> None:
        """A store of 2000 turns opens on its first page, newest first."""
        # How fast it opens is measured by bench/store.py, never asserted here.
        fill(store, 2000)
        async with host(store).run_test(size=(160, 48)) as pilot:
            await ready(pilot)
            await pilot.app.push_screen(HistoryScreen(store))
            table = pilot.app.screen.query_one(TurnsTable)
            await wait_until(pilot, lambda: table.row_count == PAGE_SIZE)
            screen = pilot.app.screen
            assert isinstance(screen, HistoryScreen)
            assert shown_ids(screen)[:3] == [r.record_id for r in store.query(limit=3)]

    async def test_model_name_is_literal_text(self, store: RecordStore) -> None:
        """Markup and escapes in a model name show as the literal name in the table."""
        record = turn(0)
        record.model.name = "[bold red]evil[/]\x1b]0;pwned\x07"
        store.import_records([record])
        async with host(store).run_test(size=(120, 30)) as pilot:
            screen = await ready(pilot)
            cell = screen.query_one(TurnsTable).get_row_at(0)[1]
            assert cell.plain == "[bold red]evil[/]"

    async def test_refresh_shows_new_turns(self, store: RecordStore) -> None:
        """R reads the store again and shows turns recorded since it opened."""
        fill(store, 3)
        async with host(store).run_test() as pilot:
            screen = await ready(pilot)
            fill(store, 2, start=3)
            await pilot.press("r")
            await pilot.pause()
            await wait_until(pilot, lambda: not screen.reading)
            assert len(shown_ids(screen)) == 5

    async def test_slash_focuses_the_model_filter(self, store: RecordStore) -> None:
        """/ goes back to the turns tab and puts the focus on the model filter."""
        fill(store, 3)
        async with host(store).run_test() as pilot:
            screen = await ready(pilot)
            screen.query_one(TabbedContent).active = "summary-pane"
            await pilot.press("slash")
            await pilot.pause()
            assert screen.query_one(TabbedContent).active == "turns-pane"
            assert pilot.app.focused is screen.query_one("#filter-model", Select)

    async def test_escape_and_f2_close(self, store: RecordStore) -> None:
        """Escape and F2 each close the history."""
        for key in ("escape", "f2"):
            app = host(store)
            async with app.run_test() as pilot:
                await ready(pilot)
                await pilot.press(key)
                await pilot.pause()
                assert app.closed and not isinstance(app.screen, HistoryScreen)


class TestDetail:
    async def test_enter_opens_the_turn(self, store: RecordStore) -> None:
        """Enter opens the turn: charts, the answer without links, thinking collapsed; Escape goes back."""
        fill(store, 5)
        async with host(store).run_test(size=(160, 48)) as pilot:
            await ready(pilot)
            await pilot.press("down", "down", "enter")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, TurnDetailScreen))
            detail = pilot.app.screen
            assert isinstance(detail, TurnDetailScreen)
            assert detail.record.record_id == "rec00002"
            assert detail.record.samples and detail.record.answer
            assert detail.query(MemoryChart)
            assert detail.query(PowerChart)
            answer = detail.query_one("#turn-answer", Markdown)
            assert answer._open_links is False  # Textual 8.2.8 keeps open_links only privately
            assert detail.query_one("#turn-thinking", Collapsible).collapsed
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(pilot.app.screen, HistoryScreen)

    async def test_no_power_readings_say_so(self, store: RecordStore) -> None:
        """A turn without power readings has no power chart and a note saying so, and its power figure is n/a."""
        store.import_records([turn(3, status=Status.OK)])  # every 4th turn has no power source
        async with host(store).run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, TurnDetailScreen))
            detail = pilot.app.screen
            assert not detail.query(PowerChart)
            note = str(detail.query_one("#no-power", Static).render())
            assert "No power readings" in note and "no power source on this machine" not in note
        assert power_figures(turn(3)) == [("power", "n/a")]

    async def test_turn_without_content_or_timeline(self, store: RecordStore) -> None:
        """A turn recorded without content or timeline says so instead of showing empty charts."""
        record = turn(0, content=False)
        record.samples = []
        store.import_records([record])
        async with host(store).run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, TurnDetailScreen))
            notes = " ".join(str(n.render()) for n in pilot.app.screen.query(".turn-note"))
            assert "No timeline stored" in notes and "not kept" in notes
            assert not pilot.app.screen.query(MemoryChart)


class TestSummary:
    async def test_rows_match_the_store_summary(self, store: RecordStore) -> None:
        """The summary tab's rows are the store's summary: models, eval rates, ok and failed counts."""
        fill(store, 40)
        async with host(store).run_test(size=(160, 48)) as pilot:
            screen = await ready(pilot)
            screen.query_one(TabbedContent).active = "summary-pane"
            await pilot.pause()
            table = screen.query_one(SummaryTable)
            assert pilot.app.focused is table
            expected = store.summary()
            rows = [[c.plain for c in table.get_row_at(i)] for i in range(table.row_count)]
            assert [r[0] for r in rows] == [s.model for s in expected]
            assert [(r[-2], r[-1]) for r in rows] == [(str(s.ok), str(s.failed)) for s in expected]
            assert [r[9] for r in rows] == [f"{s.eval_tok_s:.1f}" for s in expected]

    async def test_h_puts_each_hosts_hardware_beside_its_name(self, store: RecordStore) -> None:
        """On the summary tab "h" adds the Machine column (chip, GPU, memory) and takes it away again; not elsewhere."""
        fill(store, 12)
        store.merge_records([turns_on(nvbox(), 12, 100)])
        async with host(store).run_test(size=(200, 48)) as pilot:
            screen = await ready(pilot)
            await pilot.press("h")  # the turns tab: nothing to group
            screen.query_one(TabbedContent).active = "summary-pane"
            await pilot.pause()
            table = screen.query_one(SummaryTable)
            assert "Machine" not in headers(table)
            await pilot.press("h")
            await pilot.pause()
            assert headers(table)[:3] == ["Model", "Host", "Machine"]
            machines = {table.get_row_at(i)[2].plain for i in range(table.row_count)}
            nvidia = "AMD Ryzen 9 7950X · NVIDIA GeForce RTX 4090 24.0 GiB · 64.0 GiB RAM"
            assert machines == {"Apple M2 Max · 59.6 GiB RAM", nvidia}
            hosts = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
            assert hosts[:2] == ["nvbox", "studio"]  # the same model on both machines, side by side
            await pilot.press("h")
            await pilot.pause()
            assert "Machine" not in headers(table)


class TestChats:
    async def test_reopen_passes_the_session_id_and_closes(self, store: RecordStore) -> None:
        """The chats tab lists each chat's title, model and turns, and O reopens the chosen one and closes."""
        first = add_chat(store, "First chat", 2, 100)
        second = add_chat(store, "Second chat", 3, 200)
        reopened: list[str] = []
        app = host(store, on_reopen=reopened.append)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await ready(pilot)
            screen.query_one(TabbedContent).active = "chats-pane"
            await pilot.pause()
            table = screen.query_one(ChatsTable)
            assert [c.plain for c in table.get_row(second)][1:] == ["Second chat", "qwen3:8b", "3"]
            assert [c.plain for c in table.get_row(first)][1:] == ["First chat", "qwen3:8b", "2"]
            table.move_cursor(row=table.get_row_index(first))
            await pilot.press("o")
            await pilot.pause()
            assert reopened == [first]
            assert app.closed

    async def test_reopen_is_hidden_without_a_callback_or_off_the_chats_tab(self, store: RecordStore) -> None:
        """Without a reopen callback O is not offered even on the chats tab; E (export) is offered only there."""
        add_chat(store, "A chat", 1, 0)
        async with host(store).run_test() as pilot:
            screen = await ready(pilot)
            assert screen.check_action("export", ()) is False
            screen.query_one(TabbedContent).active = "chats-pane"
            await pilot.pause()
            assert screen.check_action("reopen", ()) is False
            assert screen.check_action("export", ()) is True

    async def test_export_writes_markdown_and_never_overwrites(self, store: RecordStore, tmp_path: Path) -> None:
        """E exports the chat as Markdown into the folder shown, and a second export gets a new name."""
        add_chat(store, "Why is the sky blue?", 2, 0)
        out = tmp_path / "exports"
        out.mkdir()
        written: list[Path] = []
        app = host(store, export_dir=out, on_export=written.append)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await ready(pilot)
            screen.query_one(TabbedContent).active = "chats-pane"
            await pilot.pause()
            for _ in range(2):
                await pilot.press("e")
                await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
                assert app.screen.query_one(Input).value == str(out)  # the folder is shown first
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.screen is screen and not screen.reading)
            await pilot.pause()
            assert [p.name for p in written] == [
                "chat-" + written[0].name[5:15] + "-why-is-the-sky-blue.md",
                "chat-" + written[0].name[5:15] + "-why-is-the-sky-blue-2.md",
            ]
            assert any("Saved the chat as" in text for text in notices(app))
        text = written[0].read_text(encoding="utf-8")
        assert text.startswith("# Why is the sky blue?")
        assert "<details><summary>Thinking</summary>" in text and "</details>" in text
        assert "## Turn 2" in text
        assert sorted(out.iterdir()) == sorted(written)

    async def test_export_offers_a_folder_in_the_documents_and_can_be_cancelled(
        self, store: RecordStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Export offers a folder in the Documents, can be cancelled, and makes a folder typed in for it."""
        add_chat(store, None, 1, 0)
        monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "Documents"))
        monkeypatch.chdir(tmp_path)
        app = host(store)
        async with app.run_test() as pilot:
            screen = await ready(pilot)
            screen.query_one(TabbedContent).active = "chats-pane"
            await pilot.pause()
            await pilot.press("e")
            await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
            assert app.screen.query_one(Input).value == str(tmp_path / "Documents" / "ollamon")
            await pilot.press("escape")  # cancelled: nothing is written anywhere
            await wait_until(pilot, lambda: app.screen is screen)
            assert not list(tmp_path.rglob("chat-*.md"))
            await pilot.press("e")
            await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
            field = app.screen.query_one(Input)
            field.value = str(tmp_path / "new" / "folder")
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen is screen and not screen.reading)
        [path] = (tmp_path / "new" / "folder").glob("chat-*.md")  # the folder was made for it
        assert path.name.startswith("chat-20") and "<details>" in path.read_text(encoding="utf-8")


async def test_number_keys_switch_tabs(store: RecordStore) -> None:
    """1, 2 and 3 reach every tab without a mouse."""
    fill(store, 3)
    async with host(store).run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        tabs = screen.query_one(TabbedContent)
        for key, pane in (("2", "summary-pane"), ("3", "chats-pane"), ("1", "turns-pane")):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == pane


def test_memory_chart_legend_has_a_clear_band_over_the_lines() -> None:
    """The memory chart's legend sits above the highest reading: no plotted dot on its two lines."""
    gib = 2**30
    samples = [Sample(t * 1000.0, int((1.0 + t / 100) * gib), 0, None, None) for t in range(10)]
    chart = MemoryChart(samples)
    chart.plt.plotsize(60, 14)
    drawn = Text.from_ansi(chart.plt.build()).plain.splitlines()
    legend = [line for line in drawn if "⢕⢕ memory" in line or "⢕⢕ swap" in line]
    assert len(legend) == 2
    for line in legend:
        assert not set(line.replace("⢕⢕", "")) & set(map(chr, range(0x2801, 0x2900))), line


def test_power_chart_has_no_legend_for_its_one_line() -> None:
    """The power chart names its one line in the title, so no legend covers the readings."""
    chart = PowerChart([Sample(t * 1000.0, None, None, None, 14.5) for t in range(5)])
    chart.plt.plotsize(60, 14)
    assert "watts" not in Text.from_ansi(chart.plt.build()).plain


def test_time_box_tells_the_load_timed_here_from_ollamas_own() -> None:
    """The Time box shows the model load as timed here and Ollama's load_duration apart, as the Timers panel does."""
    rec = record(load_ms=38.0)
    rec.timing_ms.load = 38.0
    rec.load.ollama_load_ms = 12.0
    figures = dict(time_figures(rec))
    assert figures["model load"] == "38 ms" and figures["Ollama load"] == "12 ms"
