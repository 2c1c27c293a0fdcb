"""This machine's host id: made once, private, shared by the machine's stores; else the store's own."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from tests.helpers.records import record
from tui.core.records.files import data_dir
from tui.core.records.hostid import FILE_NAME, machine_id
from tui.core.records.store import RecordStore


def test_made_once_private_and_kept(tmp_path: Path) -> None:
    """The first call makes a 32-hex-digit id in a 0600 file; later calls, and other stores, read the same one."""
    first = machine_id(tmp_path / "data")
    assert first is not None and len(first) == 32 and int(first, 16) >= 0
    path = tmp_path / "data" / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert machine_id(tmp_path / "data") == first
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_not_made_when_only_read(tmp_path: Path) -> None:
    """With create=False a machine without an id has none, and none is made."""
    assert machine_id(tmp_path, create=False) is None
    assert not (tmp_path / FILE_NAME).exists()


def test_racing_makers_agree(tmp_path: Path) -> None:
    """Processes making the id at once all end up with the first one written."""
    found: list[str | None] = []
    threads = [threading.Thread(target=lambda: found.append(machine_id(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and found[0] == (tmp_path / FILE_NAME).read_text().strip()


def test_every_store_on_the_machine_stamps_it(tmp_path: Path) -> None:
    """Two stores on one machine stamp their turns with the machine's id, kept in the user's data directory."""
    stamped = []
    for name in ("a.sqlite", "b.sqlite"):
        with RecordStore.open(tmp_path / name) as store:
            turn = record()
            store.finish_turn(turn)
            stamped.append(turn.host.host_id)
            stored = store.get(turn.record_id)
            assert stored is not None and stored.host.host_id == store.host_id
    assert stamped == [machine_id(create=False)] * 2
    assert (data_dir() / FILE_NAME).exists()


def test_a_data_directory_that_cannot_keep_it_falls_back_to_the_stores_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the data directory cannot be made, the store makes an id of its own once and stamps that."""
    (tmp_path / "in-the-way").write_text("x")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "in-the-way" / "data"))
    assert machine_id() is None
    with RecordStore.open(tmp_path / "r.sqlite") as store:
        own = store.host_id
        store.finish_turn(record())
    with RecordStore.open(tmp_path / "r.sqlite") as store:
        assert store.host_id == own and len(own) == 32
        assert [r.host.host_id for r in store.records()] == [own]
