"""`ollamon history`: every format parses back, filters apply, and the store file is never touched."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.helpers.records import add_chat, fill
from tui.cli.history import run_history
from tui.cli.history_options import add_history_arguments
from tui.core.records.export import csv_columns
from tui.core.records.store import RecordStore

DATA = Path(__file__).resolve().parent / "data"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ollamon history")
    add_history_arguments(parser)
    return parser.parse_args(argv)


def history(path: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return run_history(parse(*argv), path, out=out), out.getvalue()


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file in the store's folder and its bytes."""
    return {p.name: p.read_bytes() for p in path.parent.iterdir() if p.is_file()}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store" / "records.sqlite"
    with RecordStore.open(path) as store:
        fill(store, 30)
        add_chat(store, "A chat", 2, 100)
    return path


class TestFormats:
    def test_json_is_a_list_of_records_newest_first(self, db: Path) -> None:
        """--format json is every record, newest first, with its samples and without the prompt."""
        code, text = history(db, "--format", "json")
        docs = json.loads(text)
        assert code == 0 and len(docs) == 32
        assert [d["started_at"] for d in docs] == sorted((d["started_at"] for d in docs), reverse=True)
        assert docs[0]["samples"] and "prompt" not in docs[0]

    def test_jsonl_has_one_record_per_line(self, db: Path) -> None:
        """--format jsonl is one record per line, and --limit 5 keeps the five newest."""
        code, text = history(db, "--format", "jsonl", "--limit", "5")
        lines = text.splitlines()
        assert code == 0 and len(lines) == 5
        assert [json.loads(line)["record_id"] for line in lines][-1] == "rec00027"

    def test_csv_reads_back_with_its_header(self, db: Path) -> None:
        """--format csv reads back with its header row, and --model keeps only that model's rows."""
        code, text = history(db, "--format", "csv", "--model", "gemma3:12b")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert code == 0 and len(rows) == 10
        assert list(rows[0]) == csv_columns()
        assert {r["model.name"] for r in rows} == {"gemma3:12b"}

    def test_md_is_a_table(self, db: Path) -> None:
        """--format md is a Markdown table, and --status failed keeps only the failed turns."""
        code, text = history(db, "--format", "md", "--status", "failed")
        lines = text.splitlines()
        assert code == 0
        assert lines[0].startswith("| Started | Model | Status |")
        assert set(lines[1]) <= set("|-") and lines[1].count("|") == lines[0].count("|")
        assert len(lines) == 2 + 4 and all("| failed |" in line for line in lines[2:])

    def test_table_is_the_default(self, db: Path) -> None:
        """Without --format the history is a table with one line per turn."""
        code, text = history(db, "--limit", "3")
        assert code == 0 and "Started" in text and text.count("2025-03-01T") == 3

    def test_with_content_adds_prompt_thinking_answer(self, db: Path) -> None:
        """--with-content adds the prompt, thinking and answer to each record."""
        _, text = history(db, "--format", "json", "--with-content", "--limit", "1")
        [doc] = json.loads(text)
        assert doc["prompt"].startswith("Question") and doc["thinking"] and doc["answer"]


class TestSummary:
    def test_json_matches_the_store(self, db: Path) -> None:
        """The summary as JSON has the store's models with their ok and failed counts, in order."""
        code, text = history(db, "--summary", "--format", "json")
        with RecordStore.open(db) as store:
            expected = store.summary()
        docs = json.loads(text)
        assert code == 0 and [d["model"] for d in docs] == [s.model for s in expected]
        assert [(d["ok"], d["failed"]) for d in docs] == [(s.ok, s.failed) for s in expected]

    def test_csv_and_md(self, db: Path) -> None:
        """The summary as CSV has the model and host; as Markdown it is a table of one row per model."""
        _, text = history(db, "--summary", "--format", "csv", "--model", "qwen3:8b")
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert row["model"] == "qwen3:8b" and row["host"] == "studio"
        _, text = history(db, "--summary", "--format", "md")
        lines = text.splitlines()
        assert lines[0].startswith("| Model | Host |") and lines[1].startswith("|---|")
        assert len(lines) == 2 + 3

    def test_load_says_it_is_the_median_of_cold_loads(self, db: Path) -> None:
        """The summary's Load is headed as the median of cold loads: most turns loaded in 12 ms, it says 1.5 s."""
        _, text = history(db, "--summary", "--format", "md", "--model", "qwen3:8b")
        header, _, row = text.splitlines()
        load = header.split(" | ").index("Load (cold, median)")
        assert row.split(" | ")[load].startswith("1.5")


class Terminal(io.StringIO):
    """Output that says it is a terminal, as `history` sees stdout in a shell."""

    def isatty(self) -> bool:
        return True


class TestTerminalWidth:
    @pytest.mark.parametrize("width", [80, 120])
    @pytest.mark.parametrize("summary", [False, True])
    def test_a_terminal_gets_the_columns_that_fit_and_their_names(
        self, db: Path, width: int, summary: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On an 80- or 120-column terminal no cell wraps, and a line names the columns left out."""
        monkeypatch.setenv("COLUMNS", str(width))
        argv = ("--summary",) if summary else ("--limit", "5")
        out = Terminal()
        assert run_history(parse(*argv), db, out=out) == 0
        lines = out.getvalue().splitlines()
        assert all(len(line) <= width for line in lines)
        rows = 3 if summary else 5
        # Header, rules and one line per row: a wrapped cell would add lines to the table.
        table = [line for line in lines if line[:1] in "┏┃┡│└"]
        assert len(table) == rows + 4
        note = " ".join(line for line in lines if line[:1] not in "┏┃┡│└")
        assert note.startswith("(left out for the width: ") and note.endswith("--format md shows all)")
        left_out = note.removeprefix("(left out for the width: ").split(";")[0].split(", ")
        header = lines[1]
        assert left_out and all(f"┃ {name} " not in header for name in left_out)
        assert "Model" in header and "tok/s" in header

    def test_a_pipe_gets_every_column_unchanged(self, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """To a file or pipe the table keeps every column and names none left out, however narrow the terminal."""
        monkeypatch.setenv("COLUMNS", "80")
        for argv in (("--limit", "5"), ("--summary",)):
            code, text = history(db, *argv)
            assert code == 0 and "left out" not in text
            header = text.splitlines()[1]
            assert all(name in header for name in ("Model", "Load", "Swap peak", "Net W", "J/token"))


class TestUsage:
    @pytest.mark.parametrize(
        "argv",
        [
            ("--summary", "--status", "ok"),
            ("--summary", "--limit", "3"),
            ("--with-content",),
            ("--format", "md", "--with-content"),
        ],
    )
    def test_options_that_do_not_fit_together(
        self, db: Path, argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Options that do not fit together are a usage error naming ollamon history, with nothing printed."""
        code, text = history(db, *argv)
        assert code == 2 and text == ""
        assert "ollamon history:" in capsys.readouterr().err

    def test_limit_must_be_positive(self) -> None:
        """--limit 0 is refused by the parser."""
        with pytest.raises(SystemExit):
            parse("--limit", "0")


class TestStoreFileUntouched:
    def test_reading_changes_nothing(self, db: Path) -> None:
        """Reading the history in any format leaves the store file's bytes as they were."""
        before = snapshot(db)
        for argv in [(), ("--format", "json", "--with-content"), ("--summary",), ("--format", "csv")]:
            assert history(db, *argv)[0] == 0
        after = snapshot(db)
        assert after[db.name] == before[db.name]
        # SQLite may add its empty shared-memory files beside a WAL database; nothing else appears.
        assert set(after) - set(before) <= {"records.sqlite-wal", "records.sqlite-shm"}

    def test_missing_file_is_not_created(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A store that does not exist is named in the error and is not created, nor its folder."""
        path = tmp_path / "nowhere" / "records.sqlite"
        assert history(path)[0] == 1
        assert str(path) in capsys.readouterr().err
        assert not path.parent.exists()

    def test_an_empty_store_says_which_file_was_read(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An empty store says which file was read and that no turns are recorded yet."""
        path = tmp_path / "records.sqlite"
        RecordStore.open(path).close()
        code, _ = history(path)
        assert code == 0 and f"no turns recorded yet in {path}" in capsys.readouterr().err

    def test_empty_file_stays_empty(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An empty file is refused as empty and stays empty."""
        path = tmp_path / "records.sqlite"
        path.touch()
        assert history(path)[0] == 1
        assert "empty" in capsys.readouterr().err
        assert path.read_bytes() == b""

    @pytest.mark.parametrize(
        "content,problem",
        [(b"just some notes\n" * 64, "not an SQLite database"), (os.urandom(4096), "not an SQLite database")],
        ids=["text", "random"],
    )
    def test_garbage_is_refused(
        self, tmp_path: Path, content: bytes, problem: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A file that is not SQLite is refused as such and left unchanged."""
        path = tmp_path / "records.sqlite"
        path.write_bytes(content)
        assert history(path, "--format", "json")[0] == 1
        assert problem in capsys.readouterr().err
        assert path.read_bytes() == content

    def test_foreign_database_is_refused(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Another application's SQLite database is refused and left unchanged."""
        path = tmp_path / "other.sqlite"
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE records (id INTEGER)")
        conn.commit()
        conn.close()
        before = path.read_bytes()
        assert history(path)[0] == 1
        assert "another application" in capsys.readouterr().err
        assert path.read_bytes() == before

    def test_damaged_store_is_refused(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A damaged store is refused as damaged and left as it was."""
        data = bytearray(db.read_bytes())
        data[4096:] = b"\xa5" * (len(data) - 4096)
        db.write_bytes(data)
        assert history(db, "--summary")[0] == 1
        assert "damaged" in capsys.readouterr().err
        assert db.read_bytes() == bytes(data)

    def test_older_store_is_not_migrated(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An older store is refused, not migrated: its bytes stay and no backup is made."""
        path = tmp_path / "records.sqlite"
        shutil.copy(DATA / "store_v1.sqlite", path)
        before = path.read_bytes()
        assert history(path)[0] == 1
        assert "older store" in capsys.readouterr().err
        assert path.read_bytes() == before
        assert not list(tmp_path.glob("*.bak"))
