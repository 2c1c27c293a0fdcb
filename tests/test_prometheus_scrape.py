"""A real Prometheus server scrapes `ollamon exporter` and answers PromQL per model.

Needs Debian's `prometheus` package (`.ci/system-packages` installs it); without the binary the
test skips and says so. One test, in its own group: it mostly waits for scrapes.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.fake_ollama import FakeOllama
from tests.helpers.servers import free_port
from tui.cli.bench import run_bench
from tui.cli.main import build_parser
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import MonitorOptions, ResourceMonitor, build_sampler

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = shutil.which("prometheus")
pytestmark = [
    pytest.mark.skipif(
        PROMETHEUS is None, reason="no prometheus binary: install Debian's package (apt-get install -y prometheus)"
    ),
    pytest.mark.xdist_group("prometheus"),
]
TOK_S = "sum by (model) (ollamon_output_tokens_total) / sum by (model) (ollamon_eval_seconds_total)"
J_PER_TOKEN = "sum by (model) (ollamon_energy_joules_total) / sum by (model) (ollamon_output_tokens_total)"
WATTS = "12.5"


@pytest.fixture
def exporter(fake_ollama: FakeOllama, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`ollamon exporter` on a port of its choosing, with a wall meter that always reads 12.5 W."""
    command = [sys.executable, "-m", "tui", "exporter", "--host", fake_ollama.url, "--listen", "127.0.0.1:0"]
    command += ["--db", str(tmp_path / "records.sqlite"), "--power-cmd", f"echo {WATTS}", "--interval", "0.2"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stderr is not None
    found = re.search(r"serving http://(\S+)/metrics", process.stderr.readline())
    try:
        assert found, process.stderr.read()
        yield found[1], process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


@pytest.fixture
def prometheus(exporter: tuple[str, subprocess.Popen[str]], tmp_path: Path) -> Iterator[str]:
    """A Prometheus server scraping the exporter every second; yields its URL."""
    assert PROMETHEUS is not None
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: ollamon\n    static_configs:\n      - targets: ['{exporter[0]}']\n"
    )
    address = f"127.0.0.1:{free_port()}"
    storage = tmp_path / "tsdb"
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={storage}", f"--web.listen-address={address}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://{address}"
    finally:
        process.terminate()
        process.wait(10)


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    """The instant vector `promql` gives now; [] while Prometheus is not up yet. A bad query fails the test."""
    try:
        reply = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5).json()
    except httpx.TransportError:
        return []
    assert reply["status"] == "success", reply
    result: list[dict[str, Any]] = reply["data"]["result"]
    return result


def per_model(prometheus: str, promql: str, model: str, timeout: float = 60.0) -> float:
    """The value of `promql` for `model` once Prometheus has scraped it; the test fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for series in query(prometheus, promql):
            if series["metric"].get("model") == model:
                return float(series["value"][1])
        time.sleep(0.5)
    raise AssertionError(f"no series for {model} from {promql}")


def test_a_real_prometheus_answers_tokens_per_second_and_joules_per_token_per_model(
    fake_ollama: FakeOllama,
    exporter: tuple[str, subprocess.Popen[str]],
    prometheus: str,
    tmp_path: Path,
) -> None:
    """Turns recorded while the exporter runs reach Prometheus: tok/s and J/token per model; dashboard queries run."""
    db = tmp_path / "records.sqlite"
    args = build_parser().parse_args(["bench", "--db", str(db), "--models", "qwen3:8b", "--prompt", "Why?"])
    monitor = ResourceMonitor(build_sampler(MonitorOptions(interval=0.2, power_command=f"echo {WATTS}")))
    assert run_bench(args, fake_ollama.url, db, monitor, out=io.StringIO(), err=io.StringIO()) == 0
    with RecordStore.open(db) as store:
        (turn,) = store.records()
    assert per_model(prometheus, TOK_S, "qwen3:8b") == pytest.approx(turn.rates.eval_tok_s)
    assert per_model(prometheus, J_PER_TOKEN, "qwen3:8b") > 0
    assert query(prometheus, 'ollamon_turns_total{model="qwen3:8b",status="ok"}')[0]["value"][1] == "1"
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text(encoding="utf-8"))
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            query(prometheus, target["expr"])  # each parses and evaluates
    process = exporter[1]
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
