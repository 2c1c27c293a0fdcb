"""`ollamon export` and `ollamon import`: two machines' stores merge, exactly, into one comparison table.

A second machine is a second data directory (XDG_DATA_HOME): its own host id, as on another computer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.records import fill, nvbox, turn, turns_on
from tests.test_history_cli import snapshot
from tui.cli.main import main
from tui.core.records.export import record_json
from tui.core.records.schema import Record, Status
from tui.core.records.store import RecordStore
from tui.core.records.transfer import LINE_FORMAT

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """`ollamon ARGS…` in this process: exit code, stdout, stderr."""

    def ollamon(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return ollamon


def on_machine(monkeypatch: pytest.MonkeyPatch, root: Path, name: str) -> None:
    """From now on this process runs as machine `name`: a data directory, so a host id, of its own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(root / f"{name}-data"))


@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The Mac's store (turns 0-19) and the GPU box's (turns 20-29 and, copied from the Mac, turns 0-4)."""
    mac, gpu = tmp_path / "mac" / "records.sqlite", tmp_path / "gpu" / "records.sqlite"
    on_machine(monkeypatch, tmp_path, "gpu")
    with RecordStore.open(gpu) as store:
        fill(store, 10, start=20)
    on_machine(monkeypatch, tmp_path, "mac")
    with RecordStore.open(mac) as store:
        fill(store, 20)
        shared = store.records(with_content=True)[-5:]  # turns 0-4, as an earlier import would have carried them over
    with RecordStore.open(gpu) as store:
        store.merge_records([shared])
    return mac, gpu


def count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        (n,) = conn.execute("SELECT count(*) FROM records").fetchone()
    finally:
        conn.close()
    return int(n)


def everything(path: Path) -> dict[str, Record]:
    with RecordStore.open(path) as store:
        return {r.record_id: r for r in store.records(with_content=True)}


class TestRoundTrip:
    def test_overlapping_stores_merge_exactly(self, run: Run, stores: tuple[Path, Path], tmp_path: Path) -> None:
        """The GPU box's export adds its 10 turns to the Mac's 20, finds 5 there already; each keeps its host."""
        mac, gpu = stores
        out = tmp_path / "gpu.jsonl"
        assert run("export", "--db", str(gpu), "-o", str(out)) == (0, f"exported 15 records to {out}\n", "")
        code, said, err = run("import", "--db", str(mac), str(out))
        assert (code, said, err) == (0, f"imported 10 records (5 already present) from {out}\n", "")
        merged, theirs = everything(mac), everything(gpu)
        assert count(mac) == len(merged) == 30
        assert all(merged[rid] == record for rid, record in theirs.items())  # content, samples and host kept
        assert {r.host.host_id for r in merged.values()} == {r.host.host_id for r in theirs.values()}
        assert len({r.host.host_id for r in merged.values()}) == 2

    def test_a_store_file_imports_directly_and_twice_is_once(self, run: Run, stores: tuple[Path, Path]) -> None:
        """Another store's file imports as its export does; again, and into itself, everything is already present."""
        mac, gpu = stores
        assert run("import", "--db", str(mac), str(gpu))[1] == f"imported 10 records (5 already present) from {gpu}\n"
        before = everything(mac)
        code, said, _ = run("import", "--db", str(mac), str(gpu), str(mac))
        assert code == 0 and said.splitlines() == [
            f"imported 0 records (15 already present) from {gpu}",
            f"imported 0 records (30 already present) from {mac}",
        ]
        assert everything(mac) == before and count(mac) == 30

    def test_the_done_when_table(self, run: Run, stores: tuple[Path, Path], tmp_path: Path) -> None:
        """Merged, `history --summary --by host` puts each model's two hosts side by side with their hardware."""
        mac, gpu = stores
        assert run("import", "--db", str(mac), str(gpu))[0] == 0
        code, table, _ = run("history", "--db", str(mac), "--summary", "--by", "host", "--format", "md")
        lines = table.splitlines()
        assert code == 0 and lines[0].startswith("| Model | Host | Machine | Quant |")
        rows = [line.split(" | ") for line in lines[2:]]
        assert [row[0].lstrip("| ") for row in rows] == ["gemma3:12b"] * 2 + ["llama3.2:3b"] * 2 + ["qwen3:8b"] * 2
        assert all(row[2] == "Apple M2 Max · 59.6 GiB RAM" for row in rows)  # turn() says a Mac for both
        hosts = [row[1] for row in rows]
        assert len(set(hosts)) == 2 and all(h.startswith("studio (") for h in hosts)  # one name, two ids
        assert hosts[0] != hosts[1]

    def test_by_host_in_json_and_csv_names_the_machine(self, run: Run, tmp_path: Path) -> None:
        """json rows carry a `machine` object and csv its `machine.*` columns; --by needs --summary."""
        db = tmp_path / "r.sqlite"
        with RecordStore.open(db) as store:
            fill(store, 3)
            store.merge_records([turns_on(nvbox(), 3, 10)])
        code, text, _ = run("history", "--db", str(db), "--summary", "--by", "host", "--format", "json")
        docs = json.loads(text)
        assert code == 0 and {d["machine"]["chip"] for d in docs} == {"Apple M2 Max", "AMD Ryzen 9 7950X"}
        assert {d["host"] for d in docs} == {"studio", "nvbox"} and all(d["host_id"] for d in docs)
        code, text, _ = run("history", "--db", str(db), "--summary", "--by", "host", "--format", "csv")
        header = text.splitlines()[0].split(",")
        assert code == 0 and "machine.gpu.name" in header and "NVIDIA GeForce RTX 4090" in text
        code, _, err = run("history", "--db", str(db), "--by", "host")
        assert code == 2 and "--summary" in err


class TestExport:
    @pytest.fixture
    def db(self, tmp_path: Path) -> Path:
        path = tmp_path / "r.sqlite"
        with RecordStore.open(path) as store:
            fill(store, 6)
            running = turn(6)
            store.start_turn(running)
        return path

    def test_each_line_describes_itself(self, run: Run, db: Path) -> None:
        """Every line says its format and version, oldest first, and holds the record as history's JSON has it."""
        code, text, _ = run("export", "--db", str(db), "--format", "jsonl")
        lines = [json.loads(line) for line in text.splitlines()]
        assert code == 0 and len(lines) == 7
        assert {(line["format"], line["version"]) for line in lines} == {(LINE_FORMAT, 1)}
        with RecordStore.open(db) as store:
            oldest_first = list(reversed(store.records(with_content=True)))
        assert [line["record"] for line in lines] == [record_json(r, with_content=True) for r in oldest_first]
        assert lines[0]["record"]["answer"] and lines[0]["record"]["host"]["host_id"]

    def test_filters_and_no_content(self, run: Run, db: Path) -> None:
        """--model and --status pick records as history's do; --no-content leaves prompts, thinking and answers out."""
        _, text, _ = run("export", "--db", str(db), "--model", "qwen3:8b", "--status", "ok", "--no-content")
        records = [json.loads(line)["record"] for line in text.splitlines()]
        assert records and {(r["model"]["name"], r["status"]) for r in records} == {("qwen3:8b", "ok")}
        assert all("prompt" not in r and "answer" not in r for r in records)

    def test_a_store_it_cannot_read_or_a_file_it_cannot_write(self, run: Run, db: Path, tmp_path: Path) -> None:
        """A missing store is not created; an output under a file says so; both exit 1 without a traceback."""
        code, _, err = run("export", "--db", str(tmp_path / "none.sqlite"))
        assert code == 1 and "no such file" in err and not (tmp_path / "none.sqlite").exists()
        code, _, err = run("export", "--db", str(db), "-o", str(db / "out.jsonl"))
        assert code == 1 and "cannot write it" in err and "Traceback" not in err


class TestImportRefuses:
    @pytest.fixture
    def export(self, run: Run, stores: tuple[Path, Path], tmp_path: Path) -> list[str]:
        """The GPU box's export, line by line."""
        path = tmp_path / "gpu.jsonl"
        run("export", "--db", str(stores[1]), "-o", str(path))
        return path.read_text().splitlines()

    def refused(self, run: Run, mac: Path, *files: Path) -> str:
        """Import `files` into the Mac's store: refused, exit 1, and not a byte of the store changed."""
        before, records = snapshot(mac), count(mac)
        code, out, err = run("import", "--db", str(mac), *map(str, files))
        assert (code, out) == (1, "") and "nothing was imported" in err and "Traceback" not in err
        assert snapshot(mac) == before and count(mac) == records
        return err

    def test_a_cut_line_names_its_file_and_line(
        self, run: Run, stores: tuple[Path, Path], export: list[str], tmp_path: Path
    ) -> None:
        """A line cut short is refused by number, and a whole file given before it is not imported either."""
        whole, cut = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
        whole.write_text("\n".join(export) + "\n")
        cut.write_text("\n".join([*export[:2], export[2][:100], *export[3:]]) + "\n")
        err = self.refused(run, stores[0], whole, cut)
        assert f"{cut}: line 3: not JSON" in err

    @pytest.mark.parametrize(
        ("change", "problem"),
        [
            (lambda line: json.dumps({"name": "x", "value": 1}), 'not an `ollamon export` line (no "format"'),
            (lambda line: line.replace('"version": 1', '"version": 9'), "written by a newer ollamon"),
            (lambda line: line.replace('"chip": "Apple M2 Max"', '"chip": 7'), "record.host.chip: 7 is not a string"),
            (lambda line: line.replace('"warmup": false', '"warmup": "no"'), "record.warmup"),
            (lambda line: line.replace('"host_id": "', '"host_id_was": "'), "record.host.host_id is missing"),
        ],
    )
    def test_a_foreign_or_wrong_line_is_refused(
        self,
        run: Run,
        stores: tuple[Path, Path],
        export: list[str],
        tmp_path: Path,
        change: Callable[[str], str],
        problem: str,
    ) -> None:
        """Foreign lines, newer versions, and fields of the wrong type are refused with the field named."""
        path = tmp_path / "changed.jsonl"
        path.write_text("\n".join([*export[:4], change(export[4]), *export[5:]]) + "\n")
        assert f"{path}: line 5: {problem}" in self.refused(run, stores[0], path)

    def test_binary_foreign_databases_and_missing_files(
        self, run: Run, stores: tuple[Path, Path], tmp_path: Path
    ) -> None:
        """Bytes that are not text, another application's database and a missing file are refused, nothing stored."""
        binary = tmp_path / "photo.jpg"
        binary.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)))
        assert f"{binary}: line 1: not UTF-8 text" in self.refused(run, stores[0], binary)
        foreign = tmp_path / "other.sqlite"
        conn = sqlite3.connect(foreign)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
        assert "another application" in self.refused(run, stores[0], foreign)
        assert "cannot read it" in self.refused(run, stores[0], tmp_path / "missing.jsonl")

    def test_an_older_store_must_be_upgraded_where_it_ran(self, run: Run, stores: tuple[Path, Path]) -> None:
        """A store of an older schema is refused: its turns get their host id when upgraded on their own machine."""
        gpu = stores[1]
        conn = sqlite3.connect(gpu)
        conn.execute("PRAGMA user_version = 4")
        conn.commit()
        conn.close()
        assert "on the machine that wrote it" in self.refused(run, stores[0], gpu)

    def test_a_refused_file_creates_no_store(self, run: Run, tmp_path: Path) -> None:
        """Importing a bad file into a store that does not exist yet leaves no store behind."""
        bad = tmp_path / "bad.jsonl"
        bad.write_text("{}\n")
        code, _, err = run("import", "--db", str(tmp_path / "new.sqlite"), str(bad))
        assert code == 1 and "line 1" in err and not (tmp_path / "new.sqlite").exists()


def test_running_turns_are_left_out_and_come_later(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn still running elsewhere is not imported (the count says so); once finished, a later import brings it."""
    theirs, mine = tmp_path / "gpu.sqlite", tmp_path / "mac.sqlite"
    on_machine(monkeypatch, tmp_path, "gpu")
    with RecordStore.open(theirs) as store:
        fill(store, 2)
        running = turn(2)
        store.start_turn(running)
    on_machine(monkeypatch, tmp_path, "mac")
    code, said, _ = run("import", "--db", str(mine), str(theirs))
    assert (code, said) == (0, f"imported 2 records (0 already present, 1 still running, left out) from {theirs}\n")
    on_machine(monkeypatch, tmp_path, "gpu")
    with RecordStore.open(theirs) as store:
        running.status = Status.OK
        store.finish_turn(running)
    assert run("import", "--db", str(mine), str(theirs))[1] == f"imported 1 record (2 already present) from {theirs}\n"
