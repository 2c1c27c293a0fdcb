"""The Prometheus endpoint: turns recorded against the fake Ollama come out per model, read with
prometheus_client's own parser; every metric is documented in docs/metrics.md with its type and
labels; Ollama being down, a taken port and the TUI's `--metrics` behave as documented."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from devtools.fake_ollama import FakeOllama
from tests.helpers.apps import make_app
from tests.helpers.pilot import wait_until
from tests.helpers.records import machine, record
from tests.helpers.resources import NORMAL, scenario_sampler
from tui.cli.bench import run_bench
from tui.cli.exporter import serve_beside_app
from tui.cli.main import build_parser
from tui.core.metrics.exposition import TurnsExposition
from tui.core.metrics.service import MetricsService
from tui.core.metrics.turns import TurnTotals
from tui.core.records.schema import Counts, EngineInfo, HostInfo, ModelInfo, Power, Status, TimingMs
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import ResourceMonitor
from tui.ui.chat.messages import NoteMessage

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "metrics.md"
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
HOST = socket.gethostname()  # what bench's records name as their host, and the exporter keeps
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def documented() -> dict[str, tuple[str, frozenset[str]]]:
    """Each metric in docs/metrics.md's table, by the name of its series: its type and its labels."""
    found = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`ollamon_"):
            labels = frozenset(label.strip() for label in cells[3].split(",") if label.strip())
            found[cells[0].strip("`")] = (cells[1], labels)
    return found


def exposed(text: str) -> dict[str, tuple[str, set[frozenset[str]]]]:
    """Each metric of a /metrics answer, by the name of its series: its type and the label sets of its samples."""
    found = {}
    for family in text_string_to_metric_families(text):
        name = family.name + ("_total" if family.type == "counter" else "")
        found[name] = (family.type, {frozenset(sample.labels) - {"le"} for sample in family.samples})
    return found


def samples(text: str, name: str) -> list[Sample]:
    """The samples named `name` (a series name: `x_total`, `x_count`) in a /metrics answer."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


def value(text: str, name: str, **labels: str) -> float | None:
    """The one sample of `name` with these labels (others ignored), or None."""
    found = [s.value for s in samples(text, name) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) <= 1, found
    return found[0] if found else None


def scrape(url: str) -> str:
    """GET the endpoint as Prometheus would; the test fails on any status but 200."""
    reply = httpx.get(url, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.text


def record_turns(fake: FakeOllama, db: Path) -> None:
    """Two models, twice each, through `ollamon bench` (qwen3:8b answers; gemma3:1b's runner crashes)."""
    args = build_parser().parse_args(
        ["bench", "--db", str(db), "--models", "qwen3:8b,gemma3:1b", "--prompt", "Why?", "--repeat", "2", "--cold"]
    )
    monitor = ResourceMonitor.with_saved_baseline(scenario_sampler(NORMAL, ticks=3), idle_watts=5.0)
    code = run_bench(args, fake.url, db, monitor, out=io.StringIO(), err=io.StringIO())
    assert code == 0


def started(fake: FakeOllama, db: Path) -> MetricsService:
    monitor = ResourceMonitor.with_saved_baseline(scenario_sampler(NORMAL), idle_watts=5.0)
    return MetricsService(monitor, fake.url, db, HostInfo(hostname=HOST, chip="Test Chip", os="Linux"))


@pytest.fixture
def endpoint(fake_ollama: FakeOllama, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The endpoint's URL over a store with bench's turns, a cloud turn and another host's turn."""
    db = tmp_path / "records.sqlite"
    record_turns(fake_ollama, db)
    with RecordStore.open(db) as store:
        cloud = ModelInfo(name="gpt-oss:120b-cloud", remote_host="https://ollama.com:443")
        store.import_records([record(cloud, host=HOST, counts=Counts(eval_tokens=500), power=Power(energy_j=99.0))])
        # Another machine's turn, imported (`ollamon import`): never this machine's metrics.
        store.merge_records([[record("qwen3:8b", host=machine("another-mac"), counts=Counts(eval_tokens=7000))]])
    service = started(fake_ollama, db)
    url = service.listen("127.0.0.1", 0)
    yield url, db
    service.close()


def test_every_metric_is_documented_with_its_type_and_labels(endpoint: tuple[str, Path]) -> None:
    """Each metric served is in docs/metrics.md's table with the same type and labels; none documented is missing."""
    out = exposed(scrape(endpoint[0]))
    doc = documented()
    assert sorted(out) == sorted(doc)
    assert {name: kind for name, (kind, _) in out.items()} == {name: kind for name, (kind, _) in doc.items()}
    wrong = {name: sets for name, (_, sets) in out.items() if sets - {doc[name][1]}}
    assert wrong == {}
    assert all(name.startswith("ollamon_") for name in out)


def test_turns_come_out_per_model_as_the_records_hold_them(endpoint: tuple[str, Path]) -> None:
    """Per-model tokens, energy, turns and histograms add up to this host's records; cloud and other hosts' stay out."""
    url, db = endpoint
    text = scrape(url)
    with RecordStore.open(db) as store:
        qwen = [r for r in store.records(model="qwen3:8b") if r.host.host_id == store.host_id]
    assert len(qwen) == 2 and all(r.status is Status.OK for r in qwen)
    assert value(text, "ollamon_output_tokens_total", model="qwen3:8b") == sum(r.counts.eval_tokens or 0 for r in qwen)
    energy = value(text, "ollamon_energy_joules_total", model="qwen3:8b")
    assert energy is not None and energy > 0 and energy == pytest.approx(sum(r.power.energy_j or 0 for r in qwen))
    assert value(text, "ollamon_net_energy_joules_total", model="qwen3:8b") == pytest.approx(
        sum(r.power.net_energy_j or 0 for r in qwen)
    )
    assert value(text, "ollamon_turns_total", model="qwen3:8b", status="ok") == 2
    assert value(text, "ollamon_turns_total", model="gemma3:1b", status="failed") == 2
    assert value(text, "ollamon_time_to_first_token_seconds_count", model="qwen3:8b") == 2
    assert value(text, "ollamon_time_to_first_token_seconds_count", model="gemma3:1b") == 0  # failed turns: not timed
    assert value(text, "ollamon_load_seconds_count", model="qwen3:8b") == 2  # --cold: each loaded
    assert value(text, "ollamon_time_to_first_token_seconds_bucket", model="qwen3:8b", le="+Inf") == 2
    eval_s = sum(r.timing_ms.eval or 0 for r in qwen) / 1000  # Ollama's eval_duration: tokens / it is tok/s
    assert value(text, "ollamon_eval_seconds_total", model="qwen3:8b") == pytest.approx(eval_s)
    # The cloud model's turn is counted apart and nowhere else; the other host's not at all.
    assert value(text, "ollamon_cloud_turns_total", model="gpt-oss:120b-cloud", status="ok") == 1
    assert value(text, "ollamon_output_tokens_total", model="gpt-oss:120b-cloud") is None
    assert value(text, "ollamon_up") == 1 and value(text, "ollamon_store_up") == 1
    assert value(text, "ollamon_host_info", hostname=HOST, chip="Test Chip", ollama_version="0.12.6") == 1
    assert value(text, "ollamon_power_watts") is not None and value(text, "ollamon_idle_power_watts") == 5.0
    assert value(text, "ollamon_model_gpu_ratio", model="qwen3:8b") == 1.0  # the last loaded, as /api/ps shows it


def test_a_turn_finished_after_a_scrape_is_counted_once(endpoint: tuple[str, Path]) -> None:
    """A turn written running is not counted; once finished the next scrape counts it, and later scrapes not again."""
    url, db = endpoint
    before = value(scrape(url), "ollamon_turns_total", model="qwen3:8b", status="ok")
    assert before == 2
    late = record("qwen3:8b", host=HOST, counts=Counts(eval_tokens=10))
    with RecordStore.open(db) as store:
        store.start_turn(late)
        assert value(scrape(url), "ollamon_turns_total", model="qwen3:8b", status="ok") == 2
        late.status = Status.OK
        store.finish_turn(late)
    assert value(scrape(url), "ollamon_turns_total", model="qwen3:8b", status="ok") == 3
    assert value(scrape(url), "ollamon_turns_total", model="qwen3:8b", status="ok") == 3


def test_energy_of_a_remote_ollama_is_not_this_machines(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A turn that Ollama ran on another machine adds its tokens but not this machine's energy."""
    db = tmp_path / "records.sqlite"
    remote = record(
        "qwen3:8b", host=HOST, engine=EngineInfo(remote=True), counts=Counts(eval_tokens=40), power=Power(energy_j=80.0)
    )
    with RecordStore.open(db) as store:
        store.import_records([remote])
    service = started(fake_ollama, db)
    try:
        text = scrape(service.listen("127.0.0.1", 0))
    finally:
        service.close()
    assert value(text, "ollamon_output_tokens_total", model="qwen3:8b") == 40
    assert value(text, "ollamon_energy_joules_total", model="qwen3:8b") is None


def test_a_scrape_while_ollama_is_down_says_so_and_keeps_the_turns(
    fake_ollama: FakeOllama, endpoint: tuple[str, Path]
) -> None:
    """With Ollama stopped a scrape still answers 200: ollamon_up 0, no loaded models, the turns as before."""
    url, _ = endpoint
    assert value(scrape(url), "ollamon_up") == 1
    fake_ollama.stop()
    text = scrape(url)
    assert value(text, "ollamon_up") == 0
    assert samples(text, "ollamon_model_memory_bytes") == []
    assert value(text, "ollamon_turns_total", model="qwen3:8b", status="ok") == 2
    assert value(text, "ollamon_host_info", ollama_version="0.12.6") == 1  # the version last seen stays


def test_the_exporter_says_one_line_and_exits_1_when_the_port_is_taken(tmp_path: Path) -> None:
    """`ollamon exporter` on a port something listens on prints one line naming the address and exits 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tui", "exporter", "--listen", f"127.0.0.1:{port}", "--db", str(tmp_path / "r.db")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ollamon exporter: cannot listen on http://127.0.0.1:{port}/metrics: Address already in use"
    ]


def test_a_listen_address_that_does_not_parse_is_a_usage_error() -> None:
    """`--listen` and `--metrics` take ADDR:PORT, [IPv6]:PORT or a port alone; anything else is an argparse error."""
    parser = build_parser()
    assert parser.parse_args(["exporter"]).listen == ("127.0.0.1", 11439)
    assert parser.parse_args(["exporter", "--listen", "0.0.0.0:9999"]).listen == ("0.0.0.0", 9999)
    assert parser.parse_args(["exporter", "--listen", "[::1]:9999"]).listen == ("::1", 9999)
    assert parser.parse_args(["--metrics", "9999"]).metrics == ("127.0.0.1", 9999)
    assert parser.parse_args([]).metrics is None
    for wrong in ("localhost", "host:port", "::1:80", "1.2.3.4:70000"):
        with pytest.raises(SystemExit):
            parser.parse_args(["exporter", "--listen", wrong])


async def test_the_tui_goes_on_without_metrics_when_the_port_is_taken(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """`--metrics` on a taken port: the chat says metrics are off and why, and the app goes on."""
    served: list[MetricsService] = []

    def serve_metrics(port: int) -> tuple[str, bool]:
        service, line = serve_beside_app(app.monitor, fake_ollama.url, tmp_path / "r.sqlite", ("127.0.0.1", port))
        served.extend([service] if service else [])
        return line, service is None

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = make_app(fake_ollama.url, clock=time.monotonic, serve_metrics=lambda: serve_metrics(port))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: any("Metrics are off" in str(n.render()) for n in app.query(NoteMessage)))
            note = next(str(n.render()) for n in app.query(NoteMessage) if "Metrics" in str(n.render()))
            await wait_until(pilot, lambda: bool(app.models))
    assert note == f"Metrics are off: cannot listen on http://127.0.0.1:{port}/metrics: Address already in use"
    assert served == []


async def test_the_tui_serves_metrics_beside_the_chat(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """`--metrics` on a free port: the chat shows the URL, and a scrape answers from the app's own monitor."""
    served: list[MetricsService] = []

    def serve_metrics() -> tuple[str, bool]:
        service, line = serve_beside_app(app.monitor, fake_ollama.url, tmp_path / "r.sqlite", ("127.0.0.1", 0))
        served.extend([service] if service else [])
        return line, service is None

    app = make_app(fake_ollama.url, clock=time.monotonic, scenario=NORMAL, serve_metrics=serve_metrics)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: any("Metrics for" in str(n.render()) for n in app.query(NoteMessage)))
        note = next(str(n.render()) for n in app.query(NoteMessage) if "Metrics for" in str(n.render()))
    url = note.removeprefix("Metrics for Prometheus at ")
    last = app.monitor.last()
    try:
        text = scrape(url)
    finally:
        for service in served:
            service.close()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/metrics", url)
    assert last is not None and last.memory is not None
    assert value(text, "ollamon_memory_used_bytes") == last.memory.used  # the app's monitor, its latest reading


def test_the_grafana_dashboard_asks_for_prometheus_and_graphs_documented_metrics() -> None:
    """docs/grafana-dashboard.json: one Prometheus input, every panel on it, every query on documented metrics only."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert [(i["name"], i["pluginId"]) for i in dashboard["__inputs"]] == [("DS_PROMETHEUS", "prometheus")]
    series = set(documented())
    series |= {
        name + suffix for name, (kind, _) in documented().items() if kind == "histogram" for suffix in HISTOGRAM_SERIES
    }
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels) >= 6
    titles = " ".join(panel["title"].lower() for panel in panels)
    assert all(word in titles for word in ("memory", "swap", "power", "tokens per second", "first token"))
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}" and set(panel["gridPos"]) == {"h", "w", "x", "y"}
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
            names = set(re.findall(r"\bollamon_\w+", target["expr"]))
            assert names and names <= series, names - series


def test_the_kept_exposition_of_the_turns_equals_one_made_afresh() -> None:
    """Each model's lines are kept and made again only for a model with a new turn; the text equals one made afresh."""
    turns = [
        record("a:1b", counts=Counts(eval_tokens=5), timing_ms=TimingMs(ttft=120.0)),
        record("b:1b", status=Status.FAILED, counts=Counts(eval_tokens=1)),
        record("a:1b", counts=Counts(eval_tokens=7), timing_ms=TimingMs(ttft=2600.0)),
        record(ModelInfo(name="c:cloud", remote_host="https://ollama.com:443")),
    ]
    kept_totals = TurnTotals()
    kept = TurnsExposition(kept_totals)
    for turn in turns:
        kept_totals.add(turn)
        kept.text()
    fresh_totals = TurnTotals()
    for turn in turns:
        fresh_totals.add(turn)
    text = kept.text()
    assert text == TurnsExposition(fresh_totals).text()
    assert value(text.decode(), "ollamon_output_tokens_total", model="a:1b") == 12
    assert value(text.decode(), "ollamon_time_to_first_token_seconds_bucket", model="a:1b", le="0.25") == 1
    assert value(text.decode(), "ollamon_cloud_turns_total", model="c:cloud", status="ok") == 1
