"""`--db` where no database can be: no traceback; the app chats and says why nothing is saved."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devtools.fake_ollama import FakeOllama
from tests.helpers.apps import make_app
from tests.helpers.pilot import choose, send, wait_until
from tui.cli.main import main, open_recorder
from tui.core.records.files import StoreError
from tui.core.records.store import RecordStore
from tui.ui.chat.messages import AssistantMessage, NoteMessage


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A plain file where the database's folder must be: fails for root too."""
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    return path


@pytest.mark.parametrize("tail", ["records.sqlite", "deeper/records.sqlite"])
def test_open_names_the_file_in_the_way(blocker: Path, tail: str) -> None:
    """Opening a store under a file says that file is in the way, however deep the path goes."""
    with pytest.raises(StoreError, match=f"cannot create it: {blocker} is a file, not a folder"):
        RecordStore.open(blocker / tail)


def test_open_on_a_folder_says_so(tmp_path: Path) -> None:
    """Opening a folder as the store says it is a directory."""
    with pytest.raises(StoreError, match="Is a directory"):
        RecordStore.open(tmp_path)


def test_recorder_reports_the_reason_instead_of_raising(blocker: Path) -> None:
    """The recorder gives the reason instead of raising, so the app can chat without saving."""
    recorder, problem = open_recorder(blocker / "records.sqlite", keep_content=True)
    assert recorder is None and problem is not None and "is a file, not a folder" in problem


async def test_app_says_records_are_not_saved_and_chats(fake_ollama: FakeOllama, blocker: Path) -> None:
    """With no database possible, the app says records are not saved and still chats."""
    _, problem = open_recorder(blocker / "records.sqlite", keep_content=True)
    app = make_app(fake_ollama.url, clock=time.monotonic, refresh_interval=5.0, store_problem=problem)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: any("not being saved" in str(n.render()) for n in app.query(NoteMessage)))
        note = next(str(n.render()) for n in app.query(NoteMessage) if "not being saved" in str(n.render()))
        assert f"{blocker} is a file, not a folder" in note
        await choose(pilot, app, "llama3.2:3b")
        await send(pilot, app, "still works?")
        assert app.query(AssistantMessage).last().answer_text


def test_history_exits_1_with_the_reason(blocker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`history --db` under a file exits 1 with the reason and no traceback."""
    assert main(["history", "--db", str(blocker / "records.sqlite")]) == 1
    err = capsys.readouterr().err
    assert f"{blocker} is a file, not a folder" in err and "Traceback" not in err
