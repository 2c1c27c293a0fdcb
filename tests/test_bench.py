"""`ollamon bench` and `ollamon pull` against the fake server: rows for every outcome, resume, output."""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.fake_ollama import FakeModel, FakeOllama, default_models
from tests.helpers.resources import NORMAL, scenario_sampler
from tui.cli.bench import run_bench
from tui.cli.main import build_parser
from tui.cli.pull import run_pull
from tui.core.records.schema import Status
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import ResourceMonitor

ROOT = Path(__file__).resolve().parents[1]
STALLS = FakeModel("stall:1b", family="llama", size=100, answer="one two three four five six", stall_after=2)
SMALL = FakeModel("small:1b", family="llama", size=200, answer="The sky is blue because of Rayleigh scattering.")


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    models = [m for m in default_models() if m.name in ("qwen3:8b", "gemma3:1b", "deepseek-r1:14b")]
    server = FakeOllama([*models, STALLS, SMALL], rate=2000.0).start()
    yield server
    server.stop()


def bench(fake: FakeOllama, db: Path, *argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["bench", "--db", str(db), *argv])
    out, err = io.StringIO(), io.StringIO()
    code = run_bench(args, fake.url, db, ResourceMonitor(scenario_sampler(NORMAL, ticks=3)), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_every_outcome_is_a_row_and_the_sweep_goes_on(fake: FakeOllama, tmp_path: Path) -> None:
    """Every outcome (ok, timeout, crash, out of memory, not installed) is a row, and the sweep goes on."""
    db = tmp_path / "b.sqlite"
    code, out, err = bench(
        fake,
        db,
        "--models",
        "all,missing:7b",
        "--prompt",
        "为什么天空是蓝色的？",
        "--repeat",
        "2",
        "--cold",
        "--warmup",
        "--timeout",
        "1",
        "--format",
        "json",
    )
    assert code == 0, err
    table = json.loads(out)
    rows = {row["model"]: row for row in table["models"]}
    assert list(rows)[:3] == ["missing:7b", "stall:1b", "small:1b"]  # missing first, then smallest first
    assert rows["small:1b"]["ok"] == 2 and rows["qwen3:8b"]["ok"] == 2
    assert rows["stall:1b"]["failed"] == 2 and "timeout" in rows["stall:1b"]["errors"][0]
    assert rows["gemma3:1b"]["failed"] == 2 and "runner_crashed" in rows["gemma3:1b"]["errors"][0]
    assert rows["deepseek-r1:14b"]["failed"] == 2 and "out_of_memory" in rows["deepseek-r1:14b"]["errors"][0]
    assert rows["missing:7b"]["failed"] == 1 and "ollamon pull missing:7b" in rows["missing:7b"]["errors"][0]
    with RecordStore.open(db) as store:
        records = store.sweep_records(table["sweep_id"])
    by_status = {(r.model.name, r.repetition, r.warmup): r.status for r in records}
    assert by_status[("small:1b", 0, True)] is Status.OK and by_status[("stall:1b", 2, False)] is Status.TIMEOUT
    assert all(r.sweep_id == table["sweep_id"] and r.model.digest for r in records if r.model.name != "missing:7b")
    qwen = [r for r in records if r.model.name == "qwen3:8b" and not r.warmup]
    assert all(r.load.cold and r.load.load_ms and r.load.ollama_load_ms is not None for r in qwen)
    # --cold: every run began by unloading what was loaded, and /api/ps confirmed it.
    unloads = [r for r in fake.requests if r["path"] == "/api/generate" and (r["body"] or {}).get("keep_alive") == 0]
    assert len(unloads) >= 8
    assert "model 1 of 5 · stall:1b · run 1/3 · unloading" in err
    assert "\x1b" not in err, err


def test_table_figures_are_what_the_server_sent(fake: FakeOllama, tmp_path: Path) -> None:
    """The table's token counts and eval rate are what the server sent, and only the first run is a cold load."""
    fake.rate = 200.0
    db = tmp_path / "b.sqlite"
    code, out, err = bench(fake, db, "--models", "small:1b", "--prompt", "why", "--repeat", "2", "--format", "csv")
    assert code == 0, err
    header, row = out.splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    with RecordStore.open(db) as store:
        [first, second] = store.sweep_records(values["sweep_id"])
    words = len(SMALL.answer.split())
    assert first.counts.eval_tokens == second.counts.eval_tokens == words + 1  # plus the end token
    assert first.counts.answer_chars == len(SMALL.answer)
    assert float(values["eval_tok_s.median"]) == pytest.approx(200.0, rel=0.05)
    # The first run loaded the model (cold), the second found it in memory: one load counted.
    assert int(values["ok"]) == 2 and values["load_warm"] == "False" and values["load_ms.n"] == "1"
    assert (first.load.cold, second.load.cold) == (True, False)


def test_repeats_are_not_served_from_the_prompt_cache(fake: FakeOllama, tmp_path: Path) -> None:
    """Repeated runs each send the prompt tagged differently but alike in length, so no cache answers them."""
    code, _, err = bench(fake, tmp_path / "b.sqlite", "--models", "small:1b", "--prompt", "why", "--repeat", "3")
    assert code == 0, err
    prompts = [r["body"]["messages"][-1]["content"] for r in fake.requests if r["path"] == "/api/chat"]
    assert prompts[0] == "why" and len(set(prompts)) == 3 and all(p.endswith("why") for p in prompts)
    assert all(len(p) == len(prompts[1]) for p in prompts[1:])  # tagged invisibly, all alike in length


def test_bad_input_is_a_message(fake: FakeOllama, tmp_path: Path) -> None:
    """A missing --prompt, --options that are not a JSON object or an unknown --resume is a message, exit 1."""
    code, _, err = bench(fake, tmp_path / "b.sqlite", "--models", "all")
    assert code == 1 and "--prompt" in err
    code, _, err = bench(fake, tmp_path / "b.sqlite", "--prompt", "x", "--options", "[1]")
    assert code == 1 and "JSON object" in err
    code, _, err = bench(fake, tmp_path / "b.sqlite", "--resume", "nope")
    assert code == 1 and "no sweep nope" in err


@pytest.mark.parametrize(
    ("flags", "sent", "stored"),
    [
        (["--think", "high"], "high", "high"),
        (["--think"], True, "on"),
        (["--no-think"], False, "off"),
        ([], True, None),
    ],
)
def test_think_reaches_the_server_the_record_and_the_plan(
    fake: FakeOllama, tmp_path: Path, flags: list[str], sent: bool | str, stored: str | None
) -> None:
    """--think LEVEL (alone: on; --no-think: off) reaches a thinking model and its record; others get none."""
    db = tmp_path / "b.sqlite"
    code, out, err = bench(fake, db, "--models", "qwen3:8b,small:1b", "--prompt", "why", *flags, "--format", "json")
    assert code == 0, err
    sweep_id = json.loads(out)["sweep_id"]
    sent_to = {r["model"]: r for r in fake.chat_requests if r.get("messages")}
    assert sent_to["qwen3:8b"]["think"] == sent and type(sent_to["qwen3:8b"]["think"]) is type(sent)
    assert sent_to["small:1b"].get("think") is None
    with RecordStore.open(db) as store:
        records = {r.model.name: r for r in store.sweep_records(sweep_id)}
        plan = store.get_sweep(sweep_id) or {}
    assert records["qwen3:8b"].request.think == sent and records["small:1b"].request.think is None
    assert plan["think"] == stored


def test_an_unknown_think_level_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--think with a level Ollama does not know stops before any request, listing the levels."""
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["bench", "--prompt", "x", "--think", "extreme"])
    assert stopped.value.code == 2
    assert "invalid choice: 'extreme'" in capsys.readouterr().err


def test_unreachable_ollama_is_a_message(tmp_path: Path) -> None:
    """An unreachable Ollama is a message naming its URL, exit 1."""
    args = build_parser().parse_args(["bench", "--prompt", "x"])
    err = io.StringIO()
    code = run_bench(args, "http://127.0.0.1:9", tmp_path / "b.sqlite", ResourceMonitor(None), err=err)
    assert code == 1 and "Ollama at http://127.0.0.1:9" in err.getvalue()


def test_ctrl_c_stops_cleanly_and_resume_runs_only_what_is_missing(tmp_path: Path) -> None:
    """Ctrl+C stops a sweep with exit 130 and a resume command that works as printed; it runs only what is missing."""
    slow = FakeModel("slow:1b", family="llama", size=100, answer=" ".join(["word"] * 60))
    other = FakeModel("other:1b", family="llama", size=200, answer="done")
    db = tmp_path / "b.sqlite"
    with FakeOllama([slow, other], rate=20.0) as server:
        command = [
            sys.executable,
            "-m",
            "tui",
            "--host",
            server.url,
            "bench",
            "--db",
            str(db),
            "--models",
            "all",
            "--prompt",
            "go",
            "--repeat",
            "2",
        ]
        child = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 30
        while not server.chat_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # into the answer
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
        assert child.returncode == 130, err
        assert "Resume with: ollamon bench --resume" in err and "Traceback" not in err
        sweep = err.split("--resume ")[1].split()[0]
        assert "slow:1b" in out  # the table so far
        with RecordStore.open(db) as store:
            before = store.sweep_records(sweep)
        assert [r.status for r in before] == [Status.CANCELLED]
        server.rate = 2000.0
        hint = shlex.split(err.split("Resume with: ")[1].splitlines()[0])
        assert hint[:2] == ["ollamon", "bench"] and server.url in hint and str(db) in hint
        resumed = subprocess.run(  # the printed command as it is, with this interpreter as `ollamon`
            [sys.executable, "-m", "tui", *hint[1:]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert resumed.returncode == 0, resumed.stderr
    with RecordStore.open(db) as store:
        after = store.sweep_records(sweep)
    done = sorted((r.model.name, r.repetition) for r in after if r.status is Status.OK)
    assert done == [("other:1b", 1), ("other:1b", 2), ("slow:1b", 1), ("slow:1b", 2)]
    assert sum(r.status is Status.CANCELLED for r in after) == 1


def test_pull_shows_progress_and_names_failures(fake: FakeOllama) -> None:
    """`ollamon pull` shows plain progress up to success, and names the error for a model that does not exist."""
    fake.pullable["new:1b"] = FakeModel("new:1b", family="llama", size=1_000_000)
    err = io.StringIO()
    assert run_pull(fake.url, "new:1b", err=err) == 0
    text = err.getvalue()
    assert "pulling manifest" in text and "1.0 MB / 1.0 MB" in text and "success" in text
    assert "new:1b" in fake.models and "\x1b" not in text
    err = io.StringIO()
    assert run_pull(fake.url, "nosuch:1b", err=err) == 1
    assert "file does not exist" in err.getvalue() and "has no model by that name" in err.getvalue()
    assert "pull" not in err.getvalue().strip().splitlines()[-1]  # its hint does not tell you to pull


def test_a_narrow_terminal_gets_the_most_needed_columns_uncut(fake: FakeOllama, tmp_path: Path) -> None:
    """A 100- or 80-column terminal gets the most needed columns whole and names those left out; a file gets all."""
    from tui.core.sweep.table import render, sweep_rows

    db = tmp_path / "b.sqlite"
    code, out, _ = bench(fake, db, "--models", "small:1b", "--prompt", "why", "--format", "json")
    assert code == 0
    with RecordStore.open(db) as store:
        rows = sweep_rows(store.sweep_records(json.loads(out)["sweep_id"]))
    narrow = render(rows, "table", sweep_id="s", width=100)
    assert all(len(line) <= 100 for line in narrow.splitlines())
    assert "small:1b" in narrow and "26%" not in narrow and "left out for the width: Quant" in narrow
    assert "Quant" in render(rows, "table", sweep_id="s")  # to a file or pipe: every column
    at_80 = render(rows, "table", sweep_id="s", width=80)
    # The line naming what was left out wraps between names, never past the width.
    assert all(len(line) <= 80 for line in at_80.splitlines()) and at_80.rstrip().endswith("shows all)")


def test_history_shows_one_sweep(fake: FakeOllama, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`history --sweep` shows only that sweep's records, as a summary or as rows."""
    from tui.cli.main import main

    db = tmp_path / "b.sqlite"
    _, first, _ = bench(fake, db, "--models", "small:1b", "--prompt", "why", "--format", "json")
    _, second, _ = bench(fake, db, "--models", "qwen3:8b", "--prompt", "why", "--format", "json")
    sweep = json.loads(second)["sweep_id"]
    assert main(["history", "--db", str(db), "--summary", "--sweep", sweep, "--format", "md"]) == 0
    summary = capsys.readouterr().out
    assert "qwen3:8b" in summary and "small:1b" not in summary
    assert main(["history", "--db", str(db), "--sweep", json.loads(first)["sweep_id"], "--format", "json"]) == 0
    assert [r["model"]["name"] for r in json.loads(capsys.readouterr().out)] == ["small:1b"]


def test_a_glob_that_matches_nothing_is_said_and_recorded_nowhere(fake: FakeOllama, tmp_path: Path) -> None:
    """`--models 'nosuch*'` says no installed model matches it; no record, filter value or summary row is made of it."""
    db = tmp_path / "b.sqlite"
    code, _, err = bench(fake, db, "--models", "nosuch*,small:1b", "--prompt", "hi")
    assert code == 0 and "no installed model matches 'nosuch*'" in err
    with RecordStore.open(db) as store:
        assert [r.model.name for r in store.records()] == ["small:1b"]
        assert [row.model for row in store.summary()] == ["small:1b"]
