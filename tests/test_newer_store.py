"""A store written by a newer ollamon: unknown statuses, error kinds and fields show as they are."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from textual.widgets import Static, TabbedContent

from tests.helpers.apps import HostApp
from tests.helpers.pilot import wait_until
from tests.helpers.records import add_chat, turn
from tests.test_history_cli import parse
from tui.cli.history import run_history
from tui.core.records.schema import Status
from tui.core.records.store import RecordStore
from tui.ui.history.chats_table import ChatsTable
from tui.ui.history.history_screen import HistoryScreen
from tui.ui.history.turn_detail import TurnDetailScreen, TurnHeading
from tui.ui.history.turns_table import TurnsTable

NEWER_ID = "rec00001"


@pytest.fixture
def newer_db(tmp_path: Path) -> Path:
    """A v2 store whose newest turn has status `paused`, kind `gpu_reset` and fields we do not know."""
    path = tmp_path / "records.sqlite"
    with RecordStore.open(path) as store:
        add_chat(store, "A chat", 1, 0)
        store.import_records([turn(1, status=Status.FAILED)])
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("ALTER TABLE records ADD COLUMN gpu_temp_c REAL")
        conn.execute("ALTER TABLE sessions ADD COLUMN pinned INTEGER")
        conn.execute("UPDATE records SET status = 'paused' WHERE record_id = ?", (NEWER_ID,))
        (text,) = conn.execute("SELECT doc FROM documents WHERE record_id = ?", (NEWER_ID,)).fetchone()
        doc = json.loads(text)
        doc.update(status="paused", error="GPU reset", error_kind="gpu_reset", thermals={"gpu_c": 71})
        doc["timing_ms"]["queue"] = 12.0
        conn.execute("UPDATE documents SET doc = ? WHERE record_id = ?", (json.dumps(doc), NEWER_ID))
        (samples,) = conn.execute("SELECT data FROM samples WHERE record_id = ?", (NEWER_ID,)).fetchone()
        wider = [[*sample, 55.5] for sample in json.loads(samples)]  # one more column per reading
        conn.execute("UPDATE samples SET data = ? WHERE record_id = ?", (json.dumps(wider), NEWER_ID))
    conn.close()
    return path


@pytest.fixture
def store(newer_db: Path) -> Iterator[RecordStore]:
    with RecordStore.open(newer_db) as opened:
        yield opened


def test_store_reads_unknown_values_as_they_are(store: RecordStore) -> None:
    """A newer store's unknown status, error kind and sample fields read back as they are."""
    record = store.get(NEWER_ID)
    assert record is not None
    assert record.status == "paused" and record.status.value == "paused"
    assert record.error_kind is not None and record.error_kind.value == "gpu_reset"
    assert record.samples and len(record.samples[0]) == 5
    assert store.query()[0].status.value == "paused"
    assert store.chats()[0].title == "A chat"
    assert [row.model for row in store.summary()]


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "md"])
def test_history_shows_unknown_values(newer_db: Path, fmt: str) -> None:
    """Every history format shows the unknown status, and the data formats the unknown error kind."""
    out = io.StringIO()
    assert run_history(parse("--format", fmt), newer_db, out=out) == 0
    assert "paused" in out.getvalue()
    if fmt in ("json", "jsonl", "csv"):
        assert "gpu_reset" in out.getvalue()


async def test_f2_lists_and_opens_the_newer_turn(store: RecordStore) -> None:
    """F2 lists the newer turn with its unknown status and opens it with its unknown error kind."""
    app = HostApp(lambda: HistoryScreen(store, tz=UTC))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HistoryScreen))
        screen = pilot.app.screen
        assert isinstance(screen, HistoryScreen)
        await wait_until(pilot, lambda: not screen.reading)
        table = screen.query_one(TurnsTable)
        assert table.get_row(NEWER_ID)[3].plain == "paused"
        screen.query_one(TabbedContent).active = "chats-pane"
        await wait_until(pilot, lambda: screen.query_one(ChatsTable).row_count == 1)
        screen.query_one(TabbedContent).active = "turns-pane"
        await pilot.pause()
        table.focus()
        table.move_cursor(row=table.get_row_index(NEWER_ID))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, TurnDetailScreen))
        detail = pilot.app.screen
        assert "gpu_reset: GPU reset" in str(detail.query_one("#turn-error", Static).render())
        assert "paused" in str(detail.query_one("#turn-heading", TurnHeading).render())
