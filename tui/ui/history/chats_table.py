"""Saved chats, newest first: when, title, the model of the latest turn and how many turns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo

from rich.text import Text
from textual.widgets import DataTable

from tui.core.records.rows import ChatRow
from tui.ui.history import cells

TITLE_WIDTH = 48


class ChatsTable(DataTable[Text]):
    """Rows keyed by session_id; the turn counts arrive after the rows (they cost a query each)."""

    def __init__(self, *, tz: tzinfo | None = None, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self._tz = tz

    def on_mount(self) -> None:
        self.add_column("Created", key="created")
        self.add_column("Title", key="title")
        self.add_column("Model", key="model")
        self.add_column("Turns", key="turns")

    def append(self, sessions: Sequence[ChatRow]) -> list[ChatRow]:
        """Add the sessions not shown yet; returns those that were added."""
        added = [s for s in sessions if s.session_id not in self.rows]
        for session in added:
            title = cells.label(session.title) if session.title else Text("(untitled)", style="dim")
            title.truncate(TITLE_WIDTH, overflow="ellipsis")
            self.add_row(
                cells.short_time(session.created_at, self._tz),
                title,
                cells.label(session.last_model or session.model),  # what reopening it will use
                Text("…", style="dim", justify="right"),
                key=session.session_id,
            )
        return added

    def show_turn_counts(self, counts: Mapping[str, int]) -> None:
        """Fill in the Turns column for the sessions still shown."""
        for session_id, n in counts.items():
            if session_id in self.rows:
                self.update_cell(session_id, "turns", Text(str(n), justify="right"))

    @property
    def selected_chat(self) -> str | None:
        """The session_id under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return key.value
