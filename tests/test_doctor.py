"""`ollamon doctor` and the command line, headless, against the fake server."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.fake_ollama import FakeOllama
from tests.helpers.mach import FakeKernel, counters_from_vm_stat
from tests.helpers.resources import NO_POWER, NORMAL, FakeProcesses, Scenario, scenario_sampler
from tests.helpers.servers import fake_servers
from tui.cli.doctor import run_doctor
from tui.cli.main import main
from tui.core.sampling.energy import BaselineStore
from tui.core.sampling.memory import MacMemory
from tui.core.sampling.monitor import MonitorOptions
from tui.core.sampling.power.base import Availability, PowerReading, PowerSource
from tui.core.sampling.power.smc import SmcConnection, SmcSource
from tui.core.sampling.sampler import Sampler

VM_STAT_32GIB = (Path(__file__).resolve().parent / "data" / "vm_stat_32gib.txt").read_text()


def doctor(url: str, tmp_path: Path, scenario: Scenario = NORMAL, **kwargs: Any) -> tuple[int, str]:
    lines: list[str] = []
    sampler = scenario_sampler(scenario, ticks=1)
    sampler.interval = 0.01
    code = run_doctor(url, MonitorOptions(), say=lines.append, sampler=sampler, store=BaselineStore(tmp_path), **kwargs)
    return code, "\n".join(lines)


def test_reachable_ollama_and_sources(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """Doctor shows Ollama's version and URL, its models, the power source in use and that no baseline exists."""
    code, out = doctor(fake_ollama.url, tmp_path)
    assert code == 0
    assert f"Ollama     0.12.6 at {fake_ollama.url}" in out
    assert "qwen3:8b" in out and "loaded     none" in out
    assert "fake-meter" in out and "ok (in use)" in out
    assert "not measured (ollamon doctor --baseline)" in out


def test_unreachable_ollama_exits_nonzero(tmp_path: Path) -> None:
    """An unreachable Ollama is UNREACHABLE with a hint about --host, exit 1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out = doctor(f"http://127.0.0.1:{port}", tmp_path)
    assert code == 1 and "UNREACHABLE" in out and "--host" in out


def test_no_power_source_says_why(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """Without a power source doctor says n/a and why, and still exits 0."""
    code, out = doctor(fake_ollama.url, tmp_path, scenario=NO_POWER)
    assert code == 0 and "power      n/a — fake-meter: fake meter unplugged (USB)" in out


def test_baseline_is_measured_and_remembered(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """`doctor --baseline` measures the idle watts and remembers them for this host."""
    code, out = doctor(fake_ollama.url, tmp_path, baseline_seconds=0.1)
    assert code == 0 and "remembered for this host" in out
    saved = BaselineStore(tmp_path).get(socket.gethostname(), "fake-meter")
    assert saved is not None and saved.watts > 0


def test_cli_doctor_on_this_machine(fake_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    """`ollamon doctor` on this machine prints memory and power and exits 0."""
    assert main(["doctor", "--host", fake_ollama.url, "--interval", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "memory" in out and "power" in out


def test_cli_rejects_a_bad_host(capsys: pytest.CaptureFixture[str]) -> None:
    """A --host with a port that is not a number is a usage error that says so, exit 2."""
    assert main(["--host", "host:notaport", "doctor"]) == 2
    assert "invalid port" in capsys.readouterr().err


class FakeSoc(PowerSource):
    name, scope, covers = "ioreport", "CPU + GPU + ANE + DRAM", frozenset({"cpu", "gpu", "ane", "dram"})

    def probe(self) -> Availability:
        return Availability.ok()

    def read(self) -> PowerReading:
        return PowerReading(7.0, None, self.scope, {"CPU": 2.0, "GPU": 5.0})


class FakePstr(SmcConnection):
    def __init__(self) -> None:  # opens no IOKit connection
        pass

    def read_key(self, key: str) -> float:
        return 4.0

    def close(self) -> None:
        pass


def test_doctor_names_the_rails_and_the_memory_formula(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """On a Mac doctor names the memory formula, the SMC and ioreport rails and a PSTR below their sum."""
    memory = MacMemory(FakeKernel(counters_from_vm_stat(VM_STAT_32GIB, 32 * 2**30)))
    smc = SmcSource("darwin", floor=FakeSoc(), connect=FakePstr)
    sampler = Sampler(memory, FakeProcesses([0.1], [None]), [smc], interval=0.01)
    lines: list[str] = []
    assert (
        run_doctor(fake_ollama.url, MonitorOptions(), say=lines.append, sampler=sampler, store=BaselineStore(tmp_path))
        == 0
    )
    out = "\n".join(lines)
    assert "27.3 GiB used of 32.0 GiB" in out  # as Activity Monitor shows it
    assert "(host_statistics64)" in out
    assert "used = Activity Monitor's Memory Used: hw.memsize − (free + file-backed + purgeable pages)" in out
    assert "power      7.0 W from smc (system (max of SMC PSTR, CPU + GPU + ANE))" in out
    assert "SMC key PSTR" in out and "max(PSTR, CPU + GPU + ANE from ioreport)" in out
    assert "rails now: PSTR 4.0 W, CPU + GPU + ANE 7.0 W" in out
    assert "note: PSTR read 4.0 W, below CPU + GPU + ANE" in out


def test_doctor_says_how_the_server_was_found(fake_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    """The fake server is no `ollama serve`: this test process is found by the port it listens on."""
    assert main(["doctor", "--host", fake_ollama.url, "--interval", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "RSS" in out and f"listening on :{fake_ollama.port}" in out


def test_the_model_list_is_in_columns(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """Doctor lists the models with quantization and size each in one column."""
    lines: list[str] = []
    sampler = scenario_sampler(NORMAL, ticks=1)
    sampler.interval = 0.01
    run_doctor(fake_ollama.url, MonitorOptions(), say=lines.append, sampler=sampler, store=BaselineStore(tmp_path))
    listed = [line for line in lines[2:] if line.startswith("           ") and "Q4_K_M" in line]
    assert len(listed) >= 5
    assert len({line.index("Q4_K_M") for line in listed}) == 1  # quantization in one column
    assert len({line.index(" GB") if " GB" in line else line.index(" MB") for line in listed}) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names a process through a symlink, as Linux shows it")
def test_doctor_measures_the_server_on_its_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With two `ollama serve` on one machine, doctor for each port counts that server and its child only."""
    rss: dict[int, float] = {}
    with fake_servers(tmp_path, [40, 160]) as servers:
        for server in servers:
            assert main(["doctor", "--host", f"127.0.0.1:{server.port}", "--interval", "0.05"]) == 0
            out = capsys.readouterr().out
            found = re.search(rf"Ollama: 2 process\(es\), RSS ([\d.]+) MiB, listening on :{server.port}\n", out)
            assert found is not None, out
            rss[server.ballast_mib] = float(found.group(1))
    assert rss[40] > 40 and rss[160] > rss[40] + 100
