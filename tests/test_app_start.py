"""Start-up as the command line runs it: the records open after the first screen is drawn."""

from __future__ import annotations

import time
from pathlib import Path

from devtools.fake_ollama import FakeOllama
from tests.helpers.apps import make_app
from tests.helpers.pilot import choose, send, wait_until
from tui.app import OllamonApp
from tui.cli.main import open_recorder
from tui.core.chat.recorder import TurnRecorder
from tui.core.records.schema import Status
from tui.ui.chat.messages import NoteMessage


async def test_the_records_open_after_the_first_frame_and_before_the_model_list(
    fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    """The store opens once the first screen is laid out and before any model is listed; the first turn is recorded."""
    db = tmp_path / "records.sqlite"
    seen: list[tuple[int, int]] = []
    app: OllamonApp

    def open_records() -> tuple[TurnRecorder | None, str | None]:
        seen.append((app.query_one("#prompt").region.width, len(app.models)))
        time.sleep(0.5)  # a slow disk: the app's retry poll (every 0.1 s here) must not list models meanwhile
        assert not app.models
        return open_recorder(db, keep_content=True)

    app = make_app(fake_ollama.url, clock=time.monotonic, refresh_interval=5.0, open_records=open_records)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "recorded?")
        recorder = app.session.recorder
        assert recorder is not None
        records = recorder.store.records(with_content=True)
        recorder.store.close()
    assert len(seen) == 1 and seen[0][0] > 0 and seen[0][1] == 0
    assert [(record.prompt, record.status) for record in records] == [("recorded?", Status.OK)]


async def test_a_store_that_cannot_open_is_said_after_the_first_frame(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A database path that cannot be used shows why in the chat once the app has started, and the chat goes on."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app = make_app(
        fake_ollama.url,
        clock=time.monotonic,
        refresh_interval=5.0,
        open_records=lambda: open_recorder(blocker / "records.sqlite", keep_content=True),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: any("not being saved" in str(n.render()) for n in app.query(NoteMessage)))
        assert app.session.recorder is None
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "still works?")
