"""`doctor --capture`: the raw inputs are written, and a capture replays through the same parsers.

tests/data/capture-linux was written on a Linux test machine by
`ollamon doctor --host 127.0.0.1:18556 --capture tests/data/capture-linux` against
`python -m devtools.fake_ollama --port 18556` with qwen3:8b loaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psutil
import pytest

from devtools.fake_ollama import FakeOllama
from tests.core.test_processes import FakeProcess
from tests.helpers.mach import FakeKernel, counters_from_vm_stat, parse_vm_stat
from tests.helpers.resources import NORMAL, scenario_sampler
from tui.cli.doctor import run_doctor
from tui.core.capture import command_file, write_capture
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.records.hostfacts import gather_host, parse_meminfo_total
from tui.core.sampling.energy import BaselineStore
from tui.core.sampling.mach_vm import MachCounters
from tui.core.sampling.memory import LinuxMemory, MacMemory, activity_monitor_used
from tui.core.sampling.monitor import MonitorOptions
from tui.core.sampling.power.nvml import NvmlGpu, NvmlLibrary
from tui.core.sampling.processes import OllamaProcessFinder

LINUX = Path(__file__).resolve().parent / "data" / "capture-linux"
VM_STAT = """Mach Virtual Memory Statistics: (page size of 16384 bytes)
Pages free:                               12345.
Anonymous pages:                         600000.
Pages purgeable:                          10000.
Pages wired down:                        150000.
Pages occupied by compressor:             50000.
File-backed pages:                        80000.
"""


# --- replay: a capture through the parsers the readers use -------------------------------


def captured_transport(capture: Path) -> httpx.MockTransport:
    """Serves the captured /api replies as they came, content type included."""
    replies = json.loads((capture / "ollama" / "replies.json").read_text())

    def handle(request: httpx.Request) -> httpx.Response:
        reply = replies[request.url.path]
        body = (capture / "ollama" / reply["body"]).read_bytes()
        return httpx.Response(reply["status"], content=body, headers={"content-type": reply["content_type"]})

    return httpx.MockTransport(handle)


class CapturedProcess(FakeProcess):
    """A process from processes.json."""

    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__(
            row["pid"],
            row["name"],
            row.get("cmdline", []),
            rss=row.get("rss", 0),
            ppid=row["ppid"],
            denied={"net_connections"} if "listens_error" in row else (),
            listens=row.get("listens", []),
        )


def replay_finder(capture: Path) -> OllamaProcessFinder:
    listing = json.loads((capture / "processes.json").read_text())
    processes = [CapturedProcess(row) for row in listing["processes"]]
    sockets = [
        SimpleNamespace(pid=s["pid"], status=psutil.CONN_LISTEN, laddr=SimpleNamespace(port=s["port"]))
        for s in listing["listeners"]
    ]
    return OllamaProcessFinder(lambda: processes, port=listing["port"], connections=lambda: sockets)


class TestLinuxReplay:
    """The checked-in capture of a Linux machine, read back by the same parsers."""

    def test_manifest_accounts_for_every_input(self) -> None:
        """The Linux capture's manifest says every /proc file and the Ollama replies were read."""
        manifest = json.loads((LINUX / "manifest.json").read_text())
        assert manifest["platform"] == "linux" and manifest["items"]["ollama"] == "ok"
        assert all(note == "ok" for item, note in manifest["items"].items() if item.startswith("/proc/"))

    def test_memory_through_psutil(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """psutil reading the captured /proc gives the memory total of its meminfo and a plausible used figure."""
        monkeypatch.setattr(psutil, "PROCFS_PATH", str(LINUX / "files" / "proc"))
        reading = LinuxMemory().read()
        assert reading.total == parse_meminfo_total((LINUX / "files/proc/meminfo").read_text())
        assert 0 < reading.used < reading.total and reading.swap_used >= 0

    def test_host_facts(self) -> None:
        """The host facts read from the capture name the OS and chip and give meminfo's total RAM."""
        host = gather_host(system="Linux", root=LINUX / "files")
        meminfo = (LINUX / "files/proc/meminfo").read_text()
        assert host.os and host.chip and host.ram_bytes == parse_meminfo_total(meminfo)

    async def test_ollama_replies_through_the_engine(self) -> None:
        """The captured Ollama replies replay through the engine: version, models and the loaded model."""
        engine = OllamaEngine("http://127.0.0.1:18556", transport=captured_transport(LINUX))
        try:
            version, models, running = await engine.version(), await engine.list_models(), await engine.ps()
        finally:
            await engine.aclose()
        assert version == "0.12.6" and "qwen3:8b" in [m.name for m in models]
        assert [item.name for item in running] == ["qwen3:8b"]

    def test_process_found_by_its_port(self) -> None:
        """The captured process list finds the one Ollama server by its port, with its memory."""
        found = replay_finder(LINUX).read()
        rss = json.loads((LINUX / "processes.json").read_text())["processes"][0]["rss"]
        assert (found.count, found.found_by, found.rss) == (1, "listening on :18556", rss)


# --- writing -------------------------------------------------------------------------------


class FakeNvml:
    """The pynvml names the readers call, for one GPU; also builds itself back from nvml.json."""

    class NVMLError(Exception):
        pass

    def __init__(self, device: dict[str, Any]) -> None:
        self.device = device

    def nvmlInit(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, h: int) -> str:
        name: str = self.device["name"]
        return name

    def nvmlDeviceGetMemoryInfo(self, h: int) -> SimpleNamespace:
        return SimpleNamespace(**self.device["memory"])

    def nvmlDeviceGetUtilizationRates(self, h: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=self.device["utilization_gpu"])

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        milliwatts: int = self.device["power_usage_mw"]
        return milliwatts

    def nvmlDeviceGetTotalEnergyConsumption(self, h: int) -> int:
        millijoules: int = self.device["total_energy_mj"]
        return millijoules

    def nvmlDeviceGetComputeRunningProcesses(self, h: int) -> list[SimpleNamespace]:
        processes = self.device["compute_processes"]
        return [SimpleNamespace(pid=p["pid"], usedGpuMemory=p["used_gpu_memory"]) for p in processes]


GPU = {
    "name": "NVIDIA H200",
    "memory": {"used": 7 * 2**30, "total": 141 * 2**30},
    "utilization_gpu": 63,
    "power_usage_mw": 412_000,
    "total_energy_mj": 9_000_000,
    "compute_processes": [{"pid": 201, "used_gpu_memory": 6 * 2**30}],
}


def test_capture_round_trips_through_the_readers(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A capture written from fakes reads back through the same readers: processes, memory and the GPU."""
    server = FakeProcess(100, "ollama", ["/usr/bin/ollama", "serve"], rss=60 * 2**20)
    runner = FakeProcess(201, "ollama", ["/usr/bin/ollama", "runner"], rss=900 * 2**20, ppid=100)
    other = FakeProcess(300, "bash", ["bash"], rss=1)
    items = write_capture(
        tmp_path / "cap",
        fake_ollama.url,
        platform="linux",
        process_iter=lambda: [server, runner, other],
        connections=list,
        nvml=NvmlLibrary(FakeNvml(GPU)),
    )
    capture = tmp_path / "cap"
    assert items["ollama"] == items["processes"] == items["nvml"] == "ok"
    manifest = json.loads((capture / "manifest.json").read_text())
    assert manifest["items"] == items and manifest["host"] == fake_ollama.url
    found = replay_finder(capture).read()
    assert found.pids == (100, 201) and found.rss == 960 * 2**20
    # Nothing listens on the fake's port in the faked socket list: found by name, and the capture says so.
    listing = json.loads((capture / "processes.json").read_text())
    assert found.found_by == listing["found_by"] == f"by name (nothing listens on :{fake_ollama.port})"
    assert listing["pids"] == [100, 201] and listing["server_pid"] == 100
    [device] = json.loads((capture / "nvml.json").read_text())["devices"]
    reading = NvmlGpu(NvmlLibrary(FakeNvml(device))).read([201])
    assert (reading.name, reading.util_pct, reading.processes_memory) == ("NVIDIA H200", 63.0, 6 * 2**30)


async def test_capture_of_a_wrong_host_keeps_what_answered(tmp_path: Path) -> None:
    """Capturing a server that is not Ollama keeps its reply, which replays as the same classified error."""
    with FakeOllama(impostor="html") as server:
        write_capture(tmp_path / "cap", server.url, platform="linux", process_iter=list, connections=list)
    engine = OllamaEngine(server.url, transport=captured_transport(tmp_path / "cap"))
    try:
        with pytest.raises(OllamaError, match="does not answer like Ollama: HTTP 200 with text/html"):
            await engine.version()
    finally:
        await engine.aclose()


def test_mac_kernel_counters_replay_to_the_same_reading(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """On a Mac the captured kernel counters replay through the memory reader to the live reading."""
    counters = counters_from_vm_stat(VM_STAT, 16 * 2**30, swap_used=2**29, swap_total=2**30)
    items = write_capture(
        tmp_path / "cap",
        fake_ollama.url,
        platform="darwin",
        run=lambda argv: VM_STAT if argv == ("vm_stat",) else "x\n",
        process_iter=list,
        connections=list,
        mach=FakeKernel(counters),
    )
    assert items["memory"] == "ok" and items["vm_stat"] == "ok"
    assert "smc" in items and "ioreport" in items and "powermetrics" in items
    replayed = MachCounters.from_json((tmp_path / "cap" / "memory.json").read_text())
    assert replayed == counters
    reading = MacMemory(FakeKernel(replayed)).read()
    assert reading == MacMemory(FakeKernel(counters)).read()
    assert reading.used == 16 * 2**30 - (12345 + 80000 + 10000) * 16384 and reading.pressure == "normal"
    # vm_stat's own output is kept beside it, and reads to the same figure.
    vm_stat = (tmp_path / "cap" / "commands" / command_file(["vm_stat"])).read_text()
    assert activity_monitor_used(parse_vm_stat(vm_stat), 16 * 2**30) == reading.used


def test_mac_capture_says_why_the_counters_are_missing(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """A kernel read that fails is noted in the manifest, and the rest of the capture is written."""

    class Broken:
        def read(self) -> MachCounters:
            raise OSError("host_statistics64(HOST_VM_INFO64) failed: kern_return_t 5")

    items = write_capture(
        tmp_path / "cap",
        fake_ollama.url,
        platform="darwin",
        run=lambda argv: "x\n",
        process_iter=list,
        connections=list,
        mach=Broken(),
    )
    assert items["memory"] == "failed: OSError: host_statistics64(HOST_VM_INFO64) failed: kern_return_t 5"
    assert items["ollama"] == "ok"


def test_doctor_writes_the_capture(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """`doctor --capture` writes the capture with its manifest and says where it went."""
    lines: list[str] = []
    sampler = scenario_sampler(NORMAL, ticks=1)
    sampler.interval = 0.01
    code = run_doctor(
        fake_ollama.url,
        MonitorOptions(),
        say=lines.append,
        sampler=sampler,
        store=BaselineStore(tmp_path),
        capture=tmp_path / "cap",
    )
    assert code == 0 and (tmp_path / "cap" / "manifest.json").is_file()
    assert any(line.startswith(f"capture    {tmp_path / 'cap'}: ") for line in lines)


def test_capture_keeps_how_the_server_was_found_where_listing_is_denied(tmp_path: Path) -> None:
    """macOS without root: the capture keeps each server's own ports and the finder's answer, which replay alike."""

    def denied() -> list[Any]:
        raise psutil.AccessDenied()

    desktop = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * 2**20, listens=[11434])
    second = FakeProcess(200, "ollama", ["ollama", "serve"], rss=30 * 2**20, listens=[11500])
    write_capture(
        tmp_path / "cap",
        "http://127.0.0.1:11500",
        platform="linux",
        process_iter=lambda: [desktop, second],
        connections=denied,
        transport=httpx.MockTransport(lambda request: httpx.Response(404)),
    )
    listing = json.loads((tmp_path / "cap" / "processes.json").read_text())
    assert listing["sockets_why"] == "cannot list sockets: AccessDenied"
    assert [row["listens"] for row in listing["processes"]] == [[11434], [11500]]
    assert (listing["found_by"], listing["pids"]) == ("listening on :11500", [200])
    found = replay_finder(tmp_path / "cap").read()
    assert (found.found_by, found.pids) == ("listening on :11500", (200,))
