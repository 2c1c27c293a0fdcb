"""Cloud models (Ollama 0.12+): marked, never placed locally, and their turns never charged to this machine."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from devtools.fake_ollama import FakeOllama, cloud_models, default_models
from tests.helpers.apps import make_app
from tests.helpers.pilot import choose, send
from tests.helpers.resources import NORMAL, scenario_sampler
from tui.cli.bench import run_bench
from tui.cli.main import build_parser, main
from tui.core.chat.events import LoadFinished, SessionEvent
from tui.core.chat.recorder import TurnRecorder
from tui.core.chat.session import ChatSession
from tui.core.ollama.client import OllamaEngine
from tui.core.records.machines import places
from tui.core.records.schema import HostInfo, Status
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import ResourceMonitor
from tui.core.sweep.table import render, sweep_rows
from tui.ui.chat.messages import AssistantMessage, NoteMessage
from tui.ui.chat.model_picker import CLOUD_MARK, model_labels

CLOUD = cloud_models()[0]
HOST = "https://ollama.com:443"


@pytest.fixture
def today() -> Iterator[FakeOllama]:
    """Today's Ollama with the default local models and one cloud model."""
    with FakeOllama(default_models(with_cloud=True), rate=5000.0) as server:
        yield server


async def test_a_cloud_turn_records_the_remote_host_and_no_local_cost(today: FakeOllama, tmp_path: Path) -> None:
    """The record names the remote host and model; no memory, swap, power or timeline is kept as its cost."""
    events: list[SessionEvent] = []

    async def listen(event: SessionEvent) -> None:
        events.append(event)

    store = RecordStore.open(tmp_path / "r.sqlite")
    session = ChatSession(
        OllamaEngine(today.url),
        ResourceMonitor.with_saved_baseline(scenario_sampler(NORMAL, ticks=3), idle_watts=5.0),
        recorder=TurnRecorder(store, HostInfo(hostname="here")),
        listener=listen,
    )
    await session.refresh()
    assert await session.choose(CLOUD.name)
    ended = await session.send("hello")
    loaded = next(event for event in events if isinstance(event, LoadFinished))
    assert (loaded.remote_host, loaded.cold) == (HOST, False)
    assert ended.remote_host == HOST and ended.cost is None and ended.samples == ()
    (turn,) = store.records()
    store.close()
    assert turn.status is Status.OK
    assert (turn.model.remote_host, turn.model.remote_model) == (HOST, "gpt-oss:120b")
    assert turn.resources.mem_used_peak_bytes is None and turn.resources.ollama_rss_peak_bytes is None
    assert turn.power.net_mean_w is None and turn.power.why is not None and HOST in turn.power.why
    assert turn.samples == []


def test_the_dropdown_marks_a_cloud_model_and_shows_no_local_size() -> None:
    """A cloud model's line carries the cloud mark and "remote" where a local model shows its file size."""
    from tui.core.ollama.models import CatalogModel

    models = [
        CatalogModel("gpt-oss:120b-cloud", 384, remote_host=HOST, remote_model="gpt-oss:120b"),
        CatalogModel("qwen3:8b", 5_225_387_923, parameter_size="8.2B"),
    ]
    cloud, local = (label.plain for label in model_labels(models, set()))
    assert CLOUD_MARK in cloud and "remote" in cloud and "384" not in cloud
    assert CLOUD_MARK not in local and "5.2 GB" in local


def test_the_dropdown_explains_its_marks() -> None:
    """The dropdown's tooltip says what each mark means, the rough-estimate '?' and the cloud mark included."""
    from tui.ui.chat.model_picker import MARKS_LEGEND, ModelPicker

    assert ModelPicker().tooltip == MARKS_LEGEND
    assert "? after a mark: a rough estimate" in MARKS_LEGEND and "◐ CPU only: runs wholly on the CPU" in MARKS_LEGEND
    assert "☁ cloud: runs on another host" in MARKS_LEGEND


async def test_in_the_app_a_cloud_answer_says_it_was_computed_remotely(today: FakeOllama) -> None:
    """Choosing the cloud model says nothing loads here; its answer's cost line says where it was computed."""
    app = make_app(today.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await choose(pilot, app, CLOUD.name)
        notes = [str(note.render()) for note in app.query(NoteMessage)]
        assert any(f"runs on {HOST} (cloud)" in note for note in notes), notes
        await send(pilot, app, "hello")
        outcome = app.query(AssistantMessage).last().query_one(".outcome", Static)
        assert f"computed remotely on {HOST}" in str(outcome.render())


def test_fit_says_a_cloud_model_has_no_local_placement(today: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    """`ollamon fit` names the host a cloud model runs on instead of predicting a placement for it."""
    assert main(["fit", "--host", today.url, "--ram", "16GB", "--gpu-memory", "10GiB"]) == 0
    out = capsys.readouterr().out
    assert f"{CLOUD.name} runs on {HOST}: no local placement" in out
    assert main(["fit", "--host", today.url, "--ram", "16GB", "--format", "json"]) == 0
    remote = [row for row in json.loads(capsys.readouterr().out) if row["verdict"] == "remote"]
    assert remote == [
        {"model": CLOUD.name, "verdict": "remote", "remote_host": HOST, "reason": f"runs on {HOST}: no local placement"}
    ]


def _last_table_row(db: Path) -> str:
    """The last model row of the sweep's closing table, rendered again from the store."""
    with RecordStore.open(db) as store:
        records = store.records(newest_first=False)
    rows = sweep_rows(records)
    table = render(rows, "md", sweep_id="x")
    return [line.strip("| ") for line in table.splitlines() if line.startswith("| ")][-1]


def _bench(server: FakeOllama, db: Path, *argv: str) -> tuple[int, str]:
    args = build_parser().parse_args(["bench", "--db", str(db), "--prompt", "hi", *argv])
    err = io.StringIO()
    code = run_bench(
        args, server.url, db, ResourceMonitor(scenario_sampler(NORMAL, ticks=3)), out=io.StringIO(), err=err
    )
    return code, err.getvalue()


def test_bench_all_leaves_cloud_models_out_unless_asked(tmp_path: Path) -> None:
    """`--models all` says it leaves the cloud model out; `--include-cloud` runs it, recorded as remote."""
    small = [m for m in default_models() if m.name == "gemma3:1b"]
    with FakeOllama([*small, CLOUD], rate=5000.0) as server:
        code, err = _bench(server, tmp_path / "a.sqlite", "--models", "all")
        assert code == 0 and "cloud models not run" in err and CLOUD.name in err
        with RecordStore.open(tmp_path / "a.sqlite") as store:
            assert [r.model.name for r in store.records()] == ["gemma3:1b"]
        code, err = _bench(server, tmp_path / "b.sqlite", "--models", "all", "--include-cloud")
        assert code == 0 and "cloud models not run" not in err
        last = _last_table_row(tmp_path / "b.sqlite")
        assert last.startswith(CLOUD.name) and " cloud " in last
        with RecordStore.open(tmp_path / "b.sqlite") as store:
            ran = {r.model.name: r.model.remote_host for r in store.records()}
            summary = store.summary()
            rows = list(zip((row.model for row in summary), places(summary), strict=True))
    assert ran == {"gemma3:1b": None, CLOUD.name: HOST}
    assert rows[-1] == (CLOUD.name, f"{HOST} (cloud)")
