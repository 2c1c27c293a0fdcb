"""RecordStore: round trips, migration, crash recovery, refusing foreign files, sharing one file."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.records import machine, record
from tui.core.records.files import APPLICATION_ID, StoreError
from tui.core.records.hostid import machine_id
from tui.core.records.machines import places
from tui.core.records.migrations import SCHEMA_VERSION
from tui.core.records.rows import RecordRow, TurnCursor, record_row
from tui.core.records.schema import (
    Counts,
    HostInfo,
    ModelInfo,
    Rates,
    Record,
    Sample,
    Status,
    TimingMs,
)
from tui.core.records.store import RecordStore

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"


def load_fixture_maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_store_v1", DATA / "make_store_v1.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    with RecordStore.open(tmp_path / "records.sqlite") as s:
        yield s


def stored(store: RecordStore, record_id: str) -> Record:
    """The record `store` holds under `record_id`; the test fails if there is none."""
    found = store.get(record_id)
    assert found is not None, record_id
    return found


def back_to_v4(conn: sqlite3.Connection) -> None:
    """Undo schema v5 in a store, as an older ollamon left it: no host ids, no meta table."""
    conn.execute("DROP INDEX records_host")
    conn.execute("ALTER TABLE records DROP COLUMN host_id")
    conn.execute("DROP TABLE meta")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()


def raw(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class TestFile:
    def test_new_file_is_private_wal_and_ours(self, tmp_path: Path) -> None:
        """Parents are created; the file is 0600 even with umask 0; WAL; our application_id."""
        path = tmp_path / "a" / "b" / "records.sqlite"
        old = os.umask(0)
        try:
            with RecordStore.open(path) as s:
                s.finish_turn(record())
                wal = path.with_name("records.sqlite-wal")
                assert stat.S_IMODE(wal.stat().st_mode) == 0o600  # SQLite copies the file's mode
        finally:
            os.umask(old)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert raw(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
        assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert raw(path, "PRAGMA journal_mode") == [("wal",)]

    def test_empty_file_becomes_a_store(self, tmp_path: Path) -> None:
        """A zero-byte file holds nothing to lose: it is initialised."""
        path = tmp_path / "empty.sqlite"
        path.touch()
        with RecordStore.open(path) as s:
            assert s.query() == []

    @pytest.mark.parametrize(
        "content,problem",
        [
            (b"not a database at all\n" * 20, "not an SQLite database"),
            (os.urandom(8192), "not an SQLite database"),
            (b"SQLite format 3\x00" + b"\x00" * 20, "truncated"),
        ],
        ids=["text", "random", "short-header"],
    )
    def test_garbage_is_refused_and_untouched(self, tmp_path: Path, content: bytes, problem: str) -> None:
        """A file that is not SQLite raises StoreError naming it, and keeps its bytes."""
        path = tmp_path / "notes.sqlite"
        path.write_bytes(content)
        with pytest.raises(StoreError, match=problem) as info:
            RecordStore.open(path)
        assert str(path) in str(info.value)
        assert path.read_bytes() == content

    def test_foreign_sqlite_is_refused_and_untouched(self, tmp_path: Path) -> None:
        """Another application's SQLite file (no application_id of ours) is never modified."""
        path = tmp_path / "other.sqlite"
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE records (id INTEGER)")
        conn.commit()
        conn.close()
        before = path.read_bytes()
        with pytest.raises(StoreError, match="another application"):
            RecordStore.open(path)
        assert path.read_bytes() == before
        assert not (tmp_path / "other.sqlite.v0.bak").exists()

    def test_damaged_store_is_refused_and_untouched(self, tmp_path: Path) -> None:
        """Our header but garbage pages: StoreError, and the bytes stay as they were."""
        path = tmp_path / "records.sqlite"
        with RecordStore.open(path) as s:
            s.import_records(record(started_at=f"2025-01-01T00:00:{i:02}.000Z") for i in range(50))
        data = bytearray(path.read_bytes())
        data[4096:] = b"\xa5" * (len(data) - 4096)
        path.write_bytes(data)
        with pytest.raises(StoreError, match="cannot use this file"):
            RecordStore.open(path)
        assert path.read_bytes() == bytes(data)

    def test_newer_schema_is_refused_and_untouched(self, tmp_path: Path) -> None:
        """A file from a newer ollamon is not downgraded."""
        path = tmp_path / "records.sqlite"
        RecordStore.open(path).close()
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.close()
        before = path.read_bytes()
        with pytest.raises(StoreError, match="newer ollamon"):
            RecordStore.open(path)
        assert path.read_bytes() == before


class TestMigration:
    @pytest.fixture
    def v1_copy(self, tmp_path: Path) -> Path:
        path = tmp_path / "store.sqlite"
        shutil.copyfile(DATA / "store_v1.sqlite", path)
        return path

    def test_fixture_is_v1(self) -> None:
        """The checked-in file really is schema v1 (content inside the JSON, no sessions)."""
        path = DATA / "store_v1.sqlite"
        assert raw(path, "PRAGMA user_version") == [(1,)]
        tables = {t for (t,) in raw(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"records"}

    def test_v1_file_migrates_with_backup(self, v1_copy: Path) -> None:
        """Opening a v1 file keeps a .v1.bak copy and upgrades it to the current schema."""
        with RecordStore.open(v1_copy):
            pass
        backup = v1_copy.with_name("store.sqlite.v1.bak")
        assert raw(backup, "PRAGMA user_version") == [(1,)]
        assert raw(backup, "SELECT count(*) FROM records") == [(4,)]
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert raw(v1_copy, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
        # A second open finds nothing to migrate and makes no second backup.
        RecordStore.open(v1_copy).close()
        assert sorted(p.name for p in v1_copy.parent.glob("*.bak")) == ["store.sqlite.v1.bak"]

    def test_migrated_records_are_whole(self, v1_copy: Path) -> None:
        """Every v1 record reads back equal, with the upgrading machine's host id; content and samples left the JSON."""
        expected = load_fixture_maker().v1_records()
        with RecordStore.open(v1_copy) as s:
            assert s.host_id == machine_id()
            for record in expected:
                record.host.host_id = s.host_id
                assert s.get(record.record_id) == record
            turns = s.chat_turns("v1-session")
            assert [t.turn_index for t in turns] == [0, 1, 2]
            session = s.get_chat("v1-session")
            assert session is not None and session.created_at == "2025-10-08T14:03:20.000Z"
            assert (session.model, session.host) == ("qwen3:8b", "studio")
            assert [r.model for r in s.summary()] == ["llama3.2:3b", "qwen3:8b"]
        docs = [d for (d,) in raw(v1_copy, "SELECT doc FROM documents")]
        assert not any('"prompt"' in d or '"samples"' in d for d in docs)
        assert raw(v1_copy, "SELECT count(*) FROM content") == [(3,)]
        assert raw(v1_copy, "SELECT count(*) FROM samples") == [(1,)]
        tables = {t for (t,) in raw(v1_copy, "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"sessions", "records", "documents", "content", "samples", "sweeps", "meta"}

    def test_v1_running_row_is_interrupted(self, v1_copy: Path) -> None:
        """A v1 row left running has no writer stamp: it was a crash."""
        with RecordStore.open(v1_copy) as s:
            assert s.mark_interrupted() == 1
            assert stored(s, "v1-crashed").status is Status.INTERRUPTED

    def test_existing_backup_is_not_overwritten(self, v1_copy: Path) -> None:
        """An older .v1.bak stays; the new backup takes the next free name."""
        old = v1_copy.with_name("store.sqlite.v1.bak")
        old.write_bytes(b"precious")
        RecordStore.open(v1_copy).close()
        assert old.read_bytes() == b"precious"
        assert raw(v1_copy.with_name("store.sqlite.v1.2.bak"), "PRAGMA user_version") == [(1,)]


class TestTurns:
    def test_full_round_trip(self, store: RecordStore) -> None:
        """start_turn inserts a running row at once; finish_turn stores everything; get returns it."""
        record = Record(
            session_id=store.create_chat(title="t"),
            turn_index=0,
            model=ModelInfo(name="qwen3:8b", capabilities=["thinking"]),
            host=HostInfo(hostname="box"),
            prompt="用中文打个招呼",
        )
        record_id = store.start_turn(record)
        running = stored(store, record_id)
        assert running.status is Status.RUNNING and running.prompt == "用中文打个招呼"
        assert store.query()[0].status is Status.RUNNING
        record.status = Status.OK
        record.thinking, record.answer = "Okay", "你好，世界！"
        record.counts = Counts(eval_tokens=282, thinking_chars=4, answer_chars=6, done_reason="stop")
        record.timing_ms = TimingMs(ttft=100.0, thinking=400.0, answer=600.0, total_wall=1100.0, eval=1000.0)
        record.rates = Rates(eval_tok_s=282.0, chars_s=10.0)
        record.samples = [Sample(0.0, 1, 2, 3, None), Sample(250.0, 4, 5, 6, 7.5)]
        store.finish_turn(record)
        assert record.ended_at is not None
        assert store.get(record_id) == record
        assert store.get("missing") is None

    def test_finish_needs_a_final_status(self, store: RecordStore) -> None:
        """finish_turn with status running is a programming error."""
        with pytest.raises(ValueError):
            store.finish_turn(Record())

    def test_content_off_stores_none(self, store: RecordStore) -> None:
        """A record without prompt, thinking and answer leaves no content row."""
        store.finish_turn(record())
        kept = record(started_at="2025-01-02T00:00:00.000Z")
        kept.prompt = "hi"
        store.finish_turn(kept)
        assert raw(store.path, "SELECT record_id FROM content") == [(kept.record_id,)]

    def test_clearing_content_removes_it(self, store: RecordStore) -> None:
        """Finishing a turn whose content was dropped deletes what start_turn stored."""
        record = Record(prompt="secret")
        store.start_turn(record)
        record.prompt, record.status = None, Status.CANCELLED
        store.finish_turn(record)
        assert raw(store.path, "SELECT count(*) FROM content") == [(0,)]

    def test_chats(self, store: RecordStore) -> None:
        """create_chat, get_chat and chats (newest first); turns come back in order, and are counted."""
        first = store.create_chat(title="a", model="m", settings={"think": True}, host="box")
        second = store.create_chat(title="b")
        chat = store.get_chat(first)
        assert chat is not None
        assert (chat.title, chat.model, chat.settings, chat.host) == ("a", "m", {"think": True}, "box")
        assert store.chats()[0].session_id in (first, second)
        assert len(store.chats(limit=1)) == 1
        for i in (1, 0):
            r = record(f"model{i}", started_at=f"2025-01-01T00:00:0{i}.000Z")
            r.session_id, r.turn_index, r.prompt, r.answer = first, i, f"q{i}", f"a{i}"
            store.finish_turn(r)
        turns = store.chat_turns(first)
        assert [(t.turn_index, t.prompt) for t in turns] == [(0, "q0"), (1, "q1")]
        assert store.chat_turns(second) == []
        assert store.turn_counts([first, second, "gone"]) == {first: 2, second: 0, "gone": 0}
        # The chat list names the model its latest turn used (the one reopening switches to).
        last = {s.session_id: s.last_model for s in store.chats()}
        assert last == {first: "model1", second: None}


class TestQuery:
    @pytest.fixture
    def filled(self, store: RecordStore) -> RecordStore:
        rows = [
            record("a", Status.OK, "2025-01-01T00:00:01.000Z", tok_s=10.0),
            record("b", Status.FAILED, "2025-01-01T00:00:02.000Z"),
            record("a", Status.FAILED, "2025-01-01T00:00:03.000Z"),
            record("a", Status.OK, "2025-01-01T00:00:04.000Z", tok_s=30.0),
            record("b", Status.OK, "2025-01-01T00:00:05.000Z"),
        ]
        store.import_records(rows)
        return store

    def times(self, rows: list[RecordRow]) -> list[int]:
        return [int(r.started_at[17:19]) for r in rows]

    def test_newest_first_by_default(self, filled: RecordStore) -> None:
        """Newest first; oldest first on request."""
        assert self.times(filled.query()) == [5, 4, 3, 2, 1]
        assert self.times(filled.query(newest_first=False)) == [1, 2, 3, 4, 5]

    def test_filters(self, filled: RecordStore) -> None:
        """By model, by status, by both; status accepts a string."""
        assert self.times(filled.query(model="a")) == [4, 3, 1]
        assert self.times(filled.query(status=Status.FAILED)) == [3, 2]
        assert self.times(filled.query(model="a", status="ok")) == [4, 1]
        assert filled.query(model="zzz") == []

    def test_paging(self, filled: RecordStore) -> None:
        """limit and offset page through the table."""
        assert self.times(filled.query(limit=2)) == [5, 4]
        assert self.times(filled.query(limit=2, offset=2)) == [3, 2]
        assert self.times(filled.query(offset=4)) == [1]

    def test_rows_carry_the_indexed_figures(self, filled: RecordStore) -> None:
        """A row has the figures without parsing the JSON, equal to record_row()."""
        row = filled.query(model="a", limit=1)[0]
        assert row.eval_tok_s == 30.0 and row.model == "a" and row.status is Status.OK
        assert record_row(stored(filled, row.record_id)) == row

    def test_same_start_time_keeps_insertion_order(self, store: RecordStore) -> None:
        """Equal timestamps are ordered by insertion, newest last-inserted first."""
        records = [record(started_at="2025-01-01T00:00:00.000Z") for _ in range(3)]
        store.import_records(records)
        assert [r.record_id for r in store.query()] == [r.record_id for r in reversed(records)]

    def test_records_for_export(self, filled: RecordStore) -> None:
        """records() returns full records, content only when asked."""
        r = record("c", started_at="2025-01-01T00:00:09.000Z")
        r.prompt = "p"
        filled.finish_turn(r)
        assert filled.records(model="c")[0].prompt is None
        assert filled.records(model="c", with_content=True)[0].prompt == "p"
        assert len(filled.records(status="ok", limit=2)) == 2


class TestSummary:
    def test_medians_peaks_and_counts(self, store: RecordStore) -> None:
        """Medians over ok non-warm-up turns, cold-load median, max peaks, outcome counts."""
        t = iter(f"2025-01-01T00:00:{i:02}.000Z" for i in range(60))
        store.import_records(
            [
                record(
                    started_at=next(t), warmup=True, total=99999.0, tok_s=1.0, mem=10**12, cold=True, load_ms=9999.0
                ),
                record(
                    started_at=next(t),
                    total=1000.0,
                    tok_s=10.0,
                    chars_s=40.0,
                    mem=5,
                    swap=0,
                    cold=True,
                    load_ms=2000.0,
                    net_w=20.0,
                    jpt=0.5,
                    file_size=100,
                    ps_size=200,
                    processor="100% GPU",
                ),
                record(
                    started_at=next(t),
                    total=3000.0,
                    tok_s=30.0,
                    chars_s=60.0,
                    mem=7,
                    swap=1,
                    cold=False,
                    load_ms=15.0,
                    net_w=30.0,
                    jpt=0.7,
                ),
                record(
                    started_at=next(t),
                    total=2000.0,
                    tok_s=20.0,
                    chars_s=50.0,
                    mem=6,
                    swap=2,
                    cold=True,
                    load_ms=4000.0,
                    net_w=25.0,
                    jpt=0.6,
                    ps_size=300,
                    processor="26%/74% CPU/GPU",
                ),
                record(started_at=next(t), status=Status.FAILED, mem=9, swap=8),
                record(started_at=next(t), status=Status.TIMEOUT, total=50000.0),
                record(started_at=next(t), status=Status.CANCELLED),
                record(started_at=next(t), status=Status.INTERRUPTED),
                record("other", started_at=next(t), total=1.0),
                record(started_at=next(t), host=machine("laptop"), total=7.0),
            ]
        )
        store.start_turn(record(started_at=next(t)))  # running: not counted
        rows = store.summary()
        assert [(r.model, r.host) for r in rows] == [("other", "box"), ("qwen3:8b", "box"), ("qwen3:8b", "laptop")]
        q = rows[1]
        assert q.total_wall_ms == 2000.0 and q.eval_tok_s == 20.0 and q.chars_s == 50.0
        assert q.load_ms == 3000.0  # median of the two cold loads, not the warm 15 ms
        assert q.net_w == 25.0 and q.j_per_token == 0.6
        assert (q.mem_peak, q.swap_peak) == (9, 8)  # the failed turn's peaks count; warm-up's do not
        assert (q.file_size_bytes, q.loaded_size_bytes, q.processor) == (100, 300, "26%/74% CPU/GPU")
        assert (q.ok, q.failed, q.cancelled, q.interrupted) == (3, 2, 1, 1)
        assert q.quant == "Q4_K_M"
        assert [r.model for r in store.summary(model="other")] == ["other"]

    def test_even_count_median_and_empty_store(self, store: RecordStore) -> None:
        """An even count takes the mean of the middle two; no records, no rows."""
        assert store.summary() == []
        rates = (1.0, 2.0, 4.0, 8.0)
        store.import_records([record(started_at=f"2025-01-01T00:00:0{i}.000Z", tok_s=v) for i, v in enumerate(rates)])
        assert store.summary()[0].eval_tok_s == 3.0


CRASHING_WRITER = """
import os, sys
from tui.core.records.schema import Record
from tui.core.records.store import RecordStore
s = RecordStore.open(sys.argv[1])
print(s.start_turn(Record(prompt="lost")), flush=True)
os._exit(9)  # a crash: no finish_turn, no close
"""


class TestCrashRecovery:
    def test_dead_writer_is_interrupted(self, store: RecordStore) -> None:
        """A turn left running by a process that died becomes interrupted; ours stays running."""
        done = subprocess.run(
            [sys.executable, "-c", CRASHING_WRITER, str(store.path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 9, done.stderr
        crashed = done.stdout.strip()
        live = store.start_turn(Record())
        assert store.mark_interrupted() == 1
        assert stored(store, crashed).status is Status.INTERRUPTED
        assert stored(store, crashed).prompt == "lost"
        assert stored(store, live).status is Status.RUNNING
        assert store.mark_interrupted() == 0

    def test_other_live_instance_is_left_alone(self, tmp_path: Path) -> None:
        """A second app instance on the same file does not interrupt the first one's turn."""
        path = tmp_path / "shared.sqlite"
        with RecordStore.open(path) as first, RecordStore.open(path) as second:
            record_id = first.start_turn(Record())
            assert second.mark_interrupted() == 0
            assert stored(second, record_id).status is Status.RUNNING

    def test_reused_pid_and_other_host(self, store: RecordStore) -> None:
        """Our pid with another start time was reused (interrupted); another host's row is kept."""
        reused, remote = store.start_turn(Record()), store.start_turn(Record())
        conn = sqlite3.connect(store.path)
        conn.execute("UPDATE records SET writer_started = 1.0 WHERE record_id = ?", (reused,))
        conn.execute("UPDATE records SET writer_host = 'elsewhere' WHERE record_id = ?", (remote,))
        conn.commit()
        conn.close()
        assert store.mark_interrupted() == 1
        assert stored(store, reused).status is Status.INTERRUPTED
        assert stored(store, remote).status is Status.RUNNING


SUBPROCESS_WRITER = """
import sys
from tui.core.records.schema import ModelInfo, Record, Status
from tui.core.records.store import RecordStore
with RecordStore.open(sys.argv[1]) as s:
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(int(sys.argv[2])):
        r = Record(model=ModelInfo(name="child"), prompt=str(i))
        s.start_turn(r)
        r.status = Status.OK
        s.finish_turn(r)
"""


class TestConcurrency:
    def test_two_stores_interleaved(self, tmp_path: Path) -> None:
        """Two connections to one file, writing in turn, see each other's records."""
        path = tmp_path / "shared.sqlite"
        with RecordStore.open(path) as a, RecordStore.open(path) as b:
            for _ in range(20):
                ra, rb = record("a"), record("b")
                a.start_turn(ra)
                b.start_turn(rb)
                ra.status = rb.status = Status.OK
                b.finish_turn(rb)
                a.finish_turn(ra)
            assert len(a.query(model="b", status="ok")) == 20
            assert len(b.query(model="a", status="ok")) == 20

    def test_subprocess_and_this_process_write_together(self, tmp_path: Path) -> None:
        """Another process appends while this one does: no lost writes, no lock errors."""
        path = tmp_path / "shared.sqlite"
        n = 150
        with RecordStore.open(path) as mine:
            child = subprocess.Popen(
                [sys.executable, "-c", SUBPROCESS_WRITER, str(path), str(n)],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert child.stdout is not None and child.stdin is not None
            assert child.stdout.readline().strip() == "ready"
            child.stdin.write("go\n")
            child.stdin.flush()
            for _ in range(n):
                r = record("parent")
                mine.start_turn(r)
                r.status = Status.OK
                mine.finish_turn(r)
            assert child.wait(timeout=30) == 0
            assert len(mine.query(model="child", status="ok")) == n
            assert len(mine.query(model="parent")) == n
            assert mine.query(status="running") == []

    def test_threads_share_one_store(self, store: RecordStore) -> None:
        """Worker threads may use one RecordStore at once."""

        def work() -> None:
            for _ in range(25):
                store.finish_turn(record("thread"))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store.query(model="thread")) == 100


class TestSweeps:
    def test_plan_and_runs_of_a_sweep(self, tmp_path: Path) -> None:
        """A sweep's plan comes back for --resume, and only its runs are read and summarised."""
        with RecordStore.open(tmp_path / "s.sqlite") as store:
            sweep = store.create_sweep({"models": ["a:1b"], "repeat": 2}, host="h")
            mine, other = Record(sweep_id=sweep, status=Status.OK), Record(status=Status.OK)
            mine.model.name = other.model.name = "a:1b"
            store.import_records([mine, other])
            assert store.get_sweep(sweep) == {"models": ["a:1b"], "repeat": 2}
            assert store.get_sweep("nope") is None
            assert [r.record_id for r in store.sweep_records(sweep)] == [mine.record_id]
            [row] = store.summary(sweep_id=sweep)
            assert row.ok == 1 and store.summary()[0].ok == 2


class TestCloudTurns:
    def test_a_v3_file_migrates_with_a_backup_and_its_turns_stay_local(self, tmp_path: Path) -> None:
        """A v3 store gets the remote-host column after a .v3.bak copy; its turns count as local."""
        path = tmp_path / "store.sqlite"
        with RecordStore.open(path) as store:
            store.finish_turn(record("qwen3:8b", tok_s=40.0))
        conn = sqlite3.connect(path)  # back to v3 as an older ollamon left it: no remote_host column
        back_to_v4(conn)
        conn.execute("ALTER TABLE records DROP COLUMN remote_host")
        conn.execute("PRAGMA user_version = 3")
        conn.commit()
        conn.close()
        with RecordStore.open(path) as store:
            rows = store.summary()
        assert raw(path.with_name("store.sqlite.v3.bak"), "PRAGMA user_version") == [(3,)]
        assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert [(row.model, row.remote_host, row.eval_tok_s) for row in rows] == [("qwen3:8b", None, 40.0)]

    def test_a_cloud_model_has_its_own_summary_row_after_the_local_ones(self, store: RecordStore) -> None:
        """Turns computed on a remote host never share a comparison row with local turns, and come last."""
        cloud = ModelInfo(name="gpt-oss:120b-cloud", remote_host="https://ollama.com:443", remote_model="gpt-oss:120b")
        store.finish_turn(record(cloud, tok_s=90.0))
        store.finish_turn(record("zz-local:1b", tok_s=30.0))
        rows = store.summary()
        assert [(row.model, row.remote_host) for row in rows] == [
            ("zz-local:1b", None),
            ("gpt-oss:120b-cloud", "https://ollama.com:443"),
        ]


def test_loads_on_reads_only_this_hosts_possible_loads(store: RecordStore) -> None:
    """loads_on picks this host's cold or unknown-load turns by host id, oldest first: no warm turn, no other host's."""
    twin = HostInfo(hostname="here", host_id="0" * 32)
    store.import_records(
        [
            record("a:1b", started_at="2025-01-01T00:00:02.000Z", host="here", cold=True),
            record("b:1b", started_at="2025-01-01T00:00:01.000Z", host="here", cold=None),
            record("c:1b", started_at="2025-01-01T00:00:03.000Z", host="here", cold=False),
            record("d:1b", started_at="2025-01-01T00:00:00.000Z", host=twin, cold=True),
        ]
    )
    store.merge_records([[record("e:1b", host=replace(twin, hostname="elsewhere"), cold=True)]])
    assert [r.model.name for r in store.loads_on()] == ["b:1b", "a:1b"]


class TestHosts:
    def test_a_v4_file_gets_this_machines_host_id_after_a_backup(self, tmp_path: Path) -> None:
        """A v4 store is copied aside, then its turns and the store itself take the upgrading machine's id."""
        path = tmp_path / "store.sqlite"
        with RecordStore.open(path) as store:
            store.import_records([record("a:1b"), record("b:1b", host="elsewhere")])
        conn = sqlite3.connect(path)
        back_to_v4(conn)
        conn.close()
        with RecordStore.open(path) as store:
            assert {r.host.host_id for r in store.records()} == {machine_id()}
            assert [r.host_id for r in store.summary()] == [machine_id()] * 2
        assert raw(path.with_name("store.sqlite.v4.bak"), "PRAGMA user_version") == [(4,)]
        assert raw(path, "SELECT value FROM meta WHERE key = 'host_id'") == [(machine_id(),)]

    def test_merged_records_keep_their_host_and_are_stored_once(self, store: RecordStore) -> None:
        """merge_records adds another machine's turns as they are; an id already stored keeps what is stored."""
        mine = record("a:1b", tok_s=10.0)
        store.finish_turn(mine)
        theirs = [record("a:1b", host=machine("nvbox"), tok_s=30.0) for _ in range(2)]
        changed = replace(mine, rates=Rates(eval_tok_s=99.0))
        assert store.merge_records([theirs, [theirs[0], changed]]) == [(2, 0), (0, 2)]
        assert stored(store, mine.record_id).rates.eval_tok_s == 10.0
        again = stored(store, theirs[1].record_id)
        assert again.host == machine("nvbox") and again.host.host_id != store.host_id
        conn = sqlite3.connect(store.path)
        assert conn.execute("SELECT count(*), count(writer_pid) FROM records").fetchone() == (3, 1)
        conn.close()

    def test_two_machines_of_one_name_are_two_rows(self, store: RecordStore) -> None:
        """The summary keeps machines apart by id, named by their latest host name; the table tells them apart."""
        twin = HostInfo(hostname="mac-mini", host_id="f" * 32)
        store.import_records(
            [
                record("a:1b", host="old-name", started_at="2025-01-01T00:00:00.000Z", tok_s=10.0),
                record("a:1b", host="mac-mini", started_at="2025-01-02T00:00:00.000Z", tok_s=20.0),
            ]
        )
        store.merge_records([[record("a:1b", host=twin, tok_s=40.0)]])
        rows = store.summary()
        assert sorted((r.host, r.host_id, r.eval_tok_s) for r in rows) == sorted(
            [("mac-mini", store.host_id, 15.0), ("mac-mini", "f" * 32, 40.0)]
        )
        assert set(places(rows)) == {f"mac-mini ({store.host_id[:8]})", "mac-mini (ffffffff)"}

    def test_hosts_are_described_by_their_latest_turn(self, store: RecordStore) -> None:
        """hosts() gives each host id the facts of its newest turn."""
        store.import_records(
            [
                record(host=HostInfo(hostname="box", chip="old chip"), started_at="2025-01-01T00:00:00.000Z"),
                record(host=HostInfo(hostname="box", chip="new chip"), started_at="2025-01-02T00:00:00.000Z"),
            ]
        )
        store.merge_records([[record(host=machine("nvbox", chip="Ryzen"))]])
        hosts = store.hosts()
        assert hosts[store.host_id].chip == "new chip" and hosts[store.host_id].host_id == store.host_id
        assert hosts[machine("nvbox").host_id or ""] == machine("nvbox", chip="Ryzen")

    def test_each_record_reads_oldest_first_in_batches(self, store: RecordStore) -> None:
        """each_record yields every matching record oldest first, however many batches that takes."""
        records = [
            record(f"m{i % 2}:1b", started_at=f"2025-01-01T00:{i // 60:02}:{i % 60:02}.000Z") for i in range(1203)
        ]
        store.import_records(reversed(records))
        assert [r.record_id for r in store.each_record()] == [r.record_id for r in records]
        assert [r.record_id for r in store.each_record(model="m1:1b")] == [r.record_id for r in records[1::2]]


def test_finished_since_gives_each_of_this_hosts_finished_turns_once(store: RecordStore) -> None:
    """finished_since gives this host's finished turns once each, a running one when it ends, other hosts' never."""
    slow = record("slow:1b")
    store.start_turn(slow)  # written running, completed later in place
    store.import_records([record("a:1b")])
    store.merge_records([[record("far:1b", host=machine("nvbox"))]])
    first, cursor = store.finished_since(TurnCursor())
    assert [r.model.name for r in first] == ["a:1b"]
    assert len(cursor.running) == 1 and first[0].prompt is None and first[0].samples == []
    store.start_turn(fast := record("fast:1b"))
    fast.status = Status.OK
    store.finish_turn(fast)
    slow.status = Status.CANCELLED
    store.finish_turn(slow)
    second, cursor = store.finished_since(cursor)
    assert sorted((r.model.name, r.status) for r in second) == [("fast:1b", Status.OK), ("slow:1b", Status.CANCELLED)]
    assert cursor.running == frozenset()
    store.merge_records([[record("far:1b", host=machine("nvbox"))]])  # imported: another machine's
    assert store.finished_since(cursor)[0] == []
