"""Browse stored turns, compare models, and reopen or export past chats.

Every store read runs in a thread worker and comes back as a message, so a summary over a
large store (a few hundred ms at 100k turns) never stalls the screen.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Select, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from tui.core.records.export import chat_to_markdown
from tui.core.records.rows import ChatRow, RecordRow, SummaryRow
from tui.core.records.schema import HostInfo, Record, Status
from tui.core.records.store import RecordStore
from tui.perf.keys_footer import KeysFooter
from tui.ui.history import cells, summary_table, turns_table
from tui.ui.history.chat_file import file_stem, write_new
from tui.ui.history.chats_table import ChatsTable
from tui.ui.history.columns_hint import ColumnsHint
from tui.ui.history.export_dialog import ExportDialog, default_export_dir
from tui.ui.history.sized_table import SizedTable
from tui.ui.history.summary_chart import SpeedBars
from tui.ui.history.summary_table import SummaryTable
from tui.ui.history.turn_detail import TurnDetailScreen
from tui.ui.history.turns_table import TurnsTable

PAGE_SIZE = 200
CHATS_PAGE_SIZE = 200
# Load more chats when the cursor is this close to the last one.
CHATS_NEAR_END = 20


class HistoryScreen(ModalScreen[None]):
    """Turns, the comparison table and past chats, read from a RecordStore.

    Modal so that the chat's own keys (new chat, model, settings) are off while it is shown.

    `on_reopen(session_id)` is called (and the screen closes) when a chat is reopened; without
    it the reopen key is hidden. `on_export(path)` is told about each Markdown file written.
    `tz` is the zone times are shown in (None: this machine's); `export_dir` the folder the
    export dialog offers first (None: ollamon's folder in the user's documents).
    """

    # Short names so that the Chats tab's keys fit 80 columns; the tab keys (their numbers are
    # on the tabs' row) are in the command palette.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f2", "close", "Back"),
        Binding("o", "reopen", "Reopen"),
        Binding("e", "export", "Export .md"),
        Binding("1", "tab('turns-pane')", "Turns tab", show=False),
        Binding("2", "tab('summary-pane')", "Summary tab", show=False),
        Binding("3", "tab('chats-pane')", "Chats tab", show=False),
        Binding("slash,f", "focus_filter", "Filter"),
        Binding("h", "by_host", "By host"),
        Binding("r", "refresh", "Refresh"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 (an instance attribute in Textual)

    @dataclass
    class TurnsLoaded(Message):
        generation: int
        rows: list[RecordRow]

    @dataclass
    class SummaryLoaded(Message):
        rows: list[SummaryRow]
        machines: dict[str, HostInfo]

    @dataclass
    class ChatsLoaded(Message):
        chats: list[ChatRow]
        limit: int

    @dataclass
    class TurnCounts(Message):
        counts: dict[str, int]

    @dataclass
    class TurnFetched(Message):
        record: Record | None

    @dataclass
    class ChatExported(Message):
        path: Path

    @dataclass
    class Failed(Message):
        task: str
        text: str

    def __init__(
        self,
        store: RecordStore,
        *,
        on_reopen: Callable[[str], None] | None = None,
        on_export: Callable[[Path], None] | None = None,
        tz: tzinfo | None = None,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self._on_reopen = on_reopen
        self._on_export = on_export
        self._tz = tz
        self._export_dir = export_dir
        # Reads in flight, by task: "turns", "rest" (to follow the first page), "summary",
        # "chats", "detail", "export".
        self._pending: set[str] = set()
        # Bumped on every new filter, so a page that was asked for under the old one is dropped.
        self._generation = 0
        self._applied: tuple[str | None, str | None] | None = None
        self._chats_exhausted = False
        # The comparison table as last read, and whether it shows each host's hardware ("h").
        self._summary = self.SummaryLoaded([], {})
        self._by_host = False

    @property
    def reading(self) -> bool:
        """Whether a read from the store is still on its way."""
        return bool(self._pending)

    def compose(self) -> ComposeResult:
        with TabbedContent(id="history-tabs"):
            with TabPane("1 Turns", id="turns-pane"):
                with Horizontal(id="history-filters"):
                    yield Select[str]([], prompt="All models", compact=True, id="filter-model")
                    yield Select[str](
                        [(s.value, s.value) for s in Status], prompt="All statuses", compact=True, id="filter-status"
                    )
                    yield Static("", id="turns-count")
                yield TurnsTable(tz=self._tz, id="turns-table")
                yield ColumnsHint(turns_table.REVEALS, id="turns-hint")
            with TabPane("2 Summary", id="summary-pane"):
                with Vertical(id="summary-body"):
                    yield SummaryTable(id="summary-table")
                    yield ColumnsHint(summary_table.REVEALS, id="summary-hint")
                    with Horizontal(id="summary-charts"):
                        yield SpeedBars("eval_tok_s", "Median tok/s", "cyan", id="tok-s-bars")
                        yield SpeedBars("chars_s", "Median chars/s", "magenta", id="chars-s-bars")
            with TabPane("3 Chats", id="chats-pane"):
                yield ChatsTable(tz=self._tz, id="chats-table")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(TurnsTable).focus()
        self.action_refresh()

    # --- reading, in threads ------------------------------------------------------

    @work(thread=True, group="turns", exit_on_error=False)
    def _read_turns(self, generation: int, model: str | None, status: str | None, offset: int) -> None:
        try:
            rows = self.store.query(model=model, status=status, limit=PAGE_SIZE, offset=offset)
        except sqlite3.Error as e:
            self.post_message(self.Failed("turns", f"Could not read the turns: {e}"))
            rows = []
        self.post_message(self.TurnsLoaded(generation, rows))

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def _read_summary(self) -> None:
        try:
            rows = self.store.summary()
            machines = self.store.hosts()
        except sqlite3.Error as e:
            self.post_message(self.Failed("summary", f"Could not read the summary: {e}"))
            return
        if not get_current_worker().is_cancelled:  # a refresh asked again meanwhile
            self.post_message(self.SummaryLoaded(rows, machines))

    @work(thread=True, exclusive=True, group="chats", exit_on_error=False)
    def _read_chats(self, limit: int, known: frozenset[str]) -> None:
        worker = get_current_worker()
        try:
            chats = self.store.chats(limit=limit)
            if worker.is_cancelled:  # a refresh asked again meanwhile
                return
            self.post_message(self.ChatsLoaded(chats, limit))
            counts = self.store.turn_counts([chat.session_id for chat in chats if chat.session_id not in known])
        except sqlite3.Error as e:
            self.post_message(self.Failed("chats", f"Could not read the chats: {e}"))
            return
        if not worker.is_cancelled:
            self.post_message(self.TurnCounts(counts))

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _read_turn(self, record_id: str) -> None:
        try:
            self.post_message(self.TurnFetched(self.store.get(record_id)))
        except sqlite3.Error as e:
            self.post_message(self.Failed("detail", f"Could not read that turn: {e}"))

    @work(thread=True, group="export", exit_on_error=False)
    def _write_chat(self, session_id: str, directory: Path) -> None:
        try:
            session = self.store.get_chat(session_id)
            if session is None:
                self.post_message(self.Failed("export", "That chat is no longer in the store."))
                return
            text = chat_to_markdown(session, self.store.chat_turns(session_id))
            directory.mkdir(parents=True, exist_ok=True)
            path = write_new(directory, file_stem(session), text)
        except (sqlite3.Error, OSError) as e:
            self.post_message(self.Failed("export", f"Could not export the chat: {e}"))
            return
        self.post_message(self.ChatExported(path))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A read that fails in an unforeseen way is a message; the screen and the app stay."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"History: {type(error).__name__}: {error}", severity="error", timeout=10)

    # --- what the reads bring back ------------------------------------------------

    def on_history_screen_turns_loaded(self, message: TurnsLoaded) -> None:
        if message.generation != self._generation:
            return
        self._pending.discard("turns")
        table = self.query_one(TurnsTable)
        table.exhausted = len(message.rows) < PAGE_SIZE
        table.append(message.rows)
        self._show_count()
        if "rest" in self._pending:
            self._read_rest()

    def on_history_screen_summary_loaded(self, message: SummaryLoaded) -> None:
        self._pending.discard("summary")
        self._summary = message
        self._show_summary()
        for bars in self.query(SpeedBars):
            bars.show(message.rows)
        models = sorted({row.model for row in message.rows if row.model is not None})
        select = self.query_one("#filter-model", Select)
        chosen = select.value
        select.set_options((cells.label(m), m) for m in models)
        if chosen in models:
            select.value = chosen

    def _show_summary(self) -> None:
        self.query_one(SummaryTable).show(self._summary.rows, self._summary.machines if self._by_host else None)

    def on_history_screen_chats_loaded(self, message: ChatsLoaded) -> None:
        self.query_one(ChatsTable).append(message.chats)
        self._chats_exhausted = len(message.chats) < message.limit

    def on_history_screen_turn_counts(self, message: TurnCounts) -> None:
        self._pending.discard("chats")
        self.query_one(ChatsTable).show_turn_counts(message.counts)

    def on_history_screen_turn_fetched(self, message: TurnFetched) -> None:
        self._pending.discard("detail")
        if message.record is None:
            self.notify("That turn is no longer in the store.", severity="warning")
            return
        self.app.push_screen(TurnDetailScreen(message.record, tz=self._tz))

    def on_history_screen_chat_exported(self, message: ChatExported) -> None:
        self._pending.discard("export")
        self.notify(f"Saved the chat as {message.path}", title="Exported", markup=False)
        if self._on_export is not None:
            self._on_export(message.path)

    def on_history_screen_failed(self, message: Failed) -> None:
        if message.task != "turns":  # a failed page still arrives, empty, as TurnsLoaded
            self._pending.discard(message.task)
        self.notify(message.text, severity="error", markup=False)

    # --- paging -------------------------------------------------------------------

    @property
    def _filters(self) -> tuple[str | None, str | None]:
        model = self.query_one("#filter-model", Select).value
        status = self.query_one("#filter-status", Select).value
        return (
            None if model is Select.NULL else str(model),
            None if status is Select.NULL else str(status),
        )

    def _reload_turns(self) -> None:
        self._applied = self._filters
        self._generation += 1
        self._pending.discard("turns")  # a page still in flight belongs to the old generation
        self.query_one(TurnsTable).reset()
        self._next_page()

    def _next_page(self) -> None:
        table = self.query_one(TurnsTable)
        if "turns" in self._pending or table.exhausted:
            return
        self._pending.add("turns")
        self._show_count()
        model, status = self._filters
        self._read_turns(self._generation, model, status, table.row_count)

    def _more_chats(self) -> None:
        table = self.query_one(ChatsTable)
        if "chats" in self._pending or self._chats_exhausted:
            return
        self._pending.add("chats")
        self._read_chats(table.row_count + CHATS_PAGE_SIZE, frozenset(str(k.value) for k in table.rows))

    def _show_count(self) -> None:
        table = self.query_one(TurnsTable)
        if "turns" in self._pending:
            note = f"{table.row_count} turns · loading…"
        elif table.exhausted:
            note = f"{table.row_count} turns"
        else:
            note = f"{table.row_count} turns · more below"
        self.query_one("#turns-count", Static).update(Text(note))

    # --- events -------------------------------------------------------------------

    def on_sized_table_columns_sized(self, message: SizedTable.ColumnsSized) -> None:
        hints = {"turns-table": "#turns-hint", "summary-table": "#summary-hint"}
        if (hint := hints.get(message.table.id or "")) is not None:
            self.query_one(hint, ColumnsHint).show(message.widths)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        # New model options can re-post the same value: only a real change reloads.
        if self._filters != self._applied:
            self._reload_turns()

    def on_turns_table_near_end(self, event: TurnsTable.NearEnd) -> None:
        self._next_page()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if isinstance(table, ChatsTable) and event.cursor_row >= table.row_count - CHATS_NEAR_END:
            self._more_chats()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, TurnsTable) and event.row_key.value:
            self._pending.add("detail")
            self._read_turn(event.row_key.value)
        elif isinstance(event.data_table, ChatsTable):
            self.action_reopen()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tables: dict[str, type[DataTable[Any]]] = {
            "turns-pane": TurnsTable,
            "summary-pane": SummaryTable,
            "chats-pane": ChatsTable,
        }
        table = tables.get(event.pane.id or "")
        focused = self.focused
        # Keep a focus that is already in the new tab (the filter, after "/").
        if table is not None and (focused is None or event.pane not in focused.ancestors):
            self.query_one(table).focus()
        self.refresh_bindings()

    # --- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "by_host":
            return self.query_one(TabbedContent).active == "summary-pane"
        if action in ("reopen", "export"):
            if self.query_one(TabbedContent).active != "chats-pane":
                return False
            if action == "reopen" and self._on_reopen is None:
                return False
        return True

    def action_tab(self, pane: str) -> None:
        """Switch tabs from the keyboard."""
        self.query_one(TabbedContent).active = pane

    def action_close(self) -> None:
        """Back to the chat."""
        self.dismiss()

    def action_refresh(self) -> None:
        """Read everything again: new turns, then the summary and the chats."""
        # The rest waits for the first page: on a large store the summary would otherwise hold
        # the store's lock (and the GIL) while the reader waits for rows.
        self._pending.add("rest")
        self._reload_turns()

    def _read_rest(self) -> None:
        self._pending.discard("rest")
        self._pending.add("summary")
        self._read_summary()
        self.query_one(ChatsTable).clear()
        self._chats_exhausted = False
        self._pending.discard("chats")  # the exclusive worker replaces one still in flight
        self._more_chats()

    def action_by_host(self) -> None:
        """Show each host's hardware beside its name in the comparison table, or stop showing it."""
        self._by_host = not self._by_host
        self._show_summary()

    def action_focus_filter(self) -> None:
        """Show the turns and put the cursor on the model filter."""
        self.query_one(TabbedContent).active = "turns-pane"
        self.query_one("#filter-model", Select).focus()

    def action_reopen(self) -> None:
        """Continue the chat under the cursor in the chat screen."""
        session_id = self.query_one(ChatsTable).selected_chat
        if session_id is None or self._on_reopen is None:
            return
        self._on_reopen(session_id)
        self.dismiss()

    def action_export(self) -> None:
        """Ask for the folder (prefilled), then save the chat under the cursor there as Markdown."""
        session_id = self.query_one(ChatsTable).selected_chat
        if session_id is None:
            return

        def chosen(folder: Path | None) -> None:
            if folder is not None:
                self._pending.add("export")
                self._write_chat(session_id, folder)

        self.app.push_screen(ExportDialog(self._export_dir or default_export_dir()), chosen)
