"""`ollamon doctor --capture DIR`: every raw input the readers use, as files for a bug report.

The folder holds what the parsers were given, not what they made of it, so a capture from a
machine we cannot test on replays through the same parsers here:

- ``files/``: the files read, under their absolute paths (``files/proc/meminfo``, the sysfs
  power files RAPL, hwmon and the battery reader opened).
- ``commands/``: stdout of the commands gather_host runs on macOS (sysctl, sw_vers), and vm_stat's
  for comparison with ``memory.json``.
- ``memory.json``: on macOS, the kernel's counters the memory reader uses (vm_statistics64's
  fields, the kernel page size, hw.memsize, vm.swapusage, the pressure level).
- ``ollama/``: the bodies of /api/version, /api/tags and /api/ps, with ``replies.json`` giving
  each one's status and content type.
- ``processes.json``: the Ollama-looking processes, the sockets listening on the host's port, each
  named server's own listening ports, and how the finder found the server (`found_by`).
- ``nvml.json``, ``ioreport.json``, ``smc.json``, ``powermetrics.plist``: what those libraries
  returned, where this machine has them.
- ``manifest.json``: versions, the host, and for each item "ok" or why it is missing.
"""

from __future__ import annotations

import json
import platform as platform_info
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

from tui import __version__
from tui.core.ollama.host import is_local
from tui.core.records.schema import utc_now
from tui.core.sampling.footprint import FootprintReader, footprint_reader
from tui.core.sampling.mach_vm import MachCounterSource, MachKernel
from tui.core.sampling.power.base import PowerReadError, PowerSource
from tui.core.sampling.power.battery import BatterySource
from tui.core.sampling.power.hwmon import HwmonSource
from tui.core.sampling.power.ioreport import IOReportSubscription
from tui.core.sampling.power.nvml import NvmlLibrary
from tui.core.sampling.power.powermetrics import POWERMETRICS, PowermetricsSource
from tui.core.sampling.power.rapl import RaplSource
from tui.core.sampling.power.smc import SmcConnection, SmcSource
from tui.core.sampling.processes import OllamaProcessFinder, listening_ports

Run = Callable[[Sequence[str]], str]

# What LinuxMemory (through psutil) and gather_host read on Linux.
LINUX_FILES = (
    "/proc/meminfo",
    "/proc/vmstat",
    "/proc/cpuinfo",
    "/etc/os-release",
    "/sys/class/dmi/id/product_name",
    "/sys/firmware/devicetree/base/model",
)
# What gather_host runs on macOS, and vm_stat (which MacMemory no longer runs) to check memory.json by.
MAC_COMMANDS = (
    ("vm_stat",),
    ("sysctl", "-n", "kern.memorystatus_vm_pressure_level"),
    ("sysctl", "-n", "hw.memsize"),
    ("sysctl", "-n", "hw.model"),
    ("sysctl", "-n", "machdep.cpu.brand_string"),
    ("sw_vers", "-productVersion"),
)
API_PATHS = ("/api/version", "/api/tags", "/api/ps")


def run_command(argv: Sequence[str]) -> str:
    """Stdout of a short command; raises on failure or after 2 s."""
    return subprocess.run(
        list(argv), capture_output=True, text=True, check=True, timeout=2, stdin=subprocess.DEVNULL
    ).stdout


def command_file(argv: Sequence[str]) -> str:
    """The file name a command's output is kept under: `sysctl -n hw.model` -> sysctl_-n_hw.model.txt."""
    return "_".join(argv) + ".txt"


class _Capture:
    """The folder being written and the manifest's account of each item."""

    def __init__(self, directory: Path) -> None:
        self.root = directory
        self.items: dict[str, str] = {}

    def write(self, relative: str, data: str | bytes) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)

    def json(self, relative: str, value: Any) -> None:
        self.write(relative, json.dumps(value, indent=2, ensure_ascii=False) + "\n")

    def read_text(self, path: Path) -> str:
        """A reader's file read, kept under files/ (and failing just as the reader's own would)."""
        text = Path(path).read_text()
        self.write("files/" + str(path).lstrip("/"), text)
        return text

    def attempt(self, item: str, step: Callable[[], str | None]) -> None:
        """Run one capture step; what it returns (or raises) is the manifest's note on it."""
        try:
            self.items[item] = step() or "ok"
        except Exception as exc:  # a capture is best effort: one missing input must not stop the rest
            self.items[item] = f"failed: {type(exc).__name__}: {exc}"


def write_capture(
    directory: Path,
    host: str,
    *,
    platform: str = sys.platform,
    run: Run = run_command,
    process_iter: Callable[[], Iterable[Any]] = psutil.process_iter,
    connections: Callable[[], Iterable[Any]] = lambda: psutil.net_connections("tcp"),
    footprint: FootprintReader | None = None,
    nvml: NvmlLibrary | None = None,
    mach: MachCounterSource | None = None,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, str]:
    """Write the capture into `directory` (created); returns each item and "ok" or why not."""
    capture = _Capture(directory)
    directory.mkdir(parents=True, exist_ok=True)
    port = urlsplit(host).port if is_local(host) else None
    footprint = footprint if footprint is not None else footprint_reader(platform)
    if platform.startswith("linux"):
        for path in LINUX_FILES:
            capture.attempt(path, partial(_copy, capture, path))
        for source in (
            RaplSource(read_text=capture.read_text),
            HwmonSource(read_text=capture.read_text),
            BatterySource(read_text=capture.read_text),
        ):
            capture.attempt(f"power {source.name}", partial(_read_twice, source))
    if platform == "darwin":
        for argv in MAC_COMMANDS:
            capture.attempt(" ".join(argv), partial(_command, capture, run, argv))
        kernel = mach if mach is not None else MachKernel()
        capture.attempt("memory", lambda: capture.write("memory.json", kernel.read().to_json()))
        capture.attempt("smc", lambda: _smc(capture))
        capture.attempt("ioreport", lambda: _ioreport(capture))
        capture.attempt("powermetrics", lambda: _powermetrics(capture, platform))
    capture.attempt("nvml", lambda: _nvml(capture, nvml or NvmlLibrary()))
    capture.attempt("ollama", lambda: _ollama(capture, host, transport))
    capture.attempt("processes", lambda: _processes(capture, process_iter, connections, port, footprint))
    capture.json(
        "manifest.json",
        {
            "ollamon": __version__,
            "python": platform_info.python_version(),
            "platform": platform,
            "machine": platform_info.machine(),
            "created_at": utc_now(),
            "host": host,
            "port": port,
            "items": capture.items,
        },
    )
    return capture.items


def _command(capture: _Capture, run: Run, argv: Sequence[str]) -> None:
    capture.write(f"commands/{command_file(argv)}", run(argv))


def _copy(capture: _Capture, path: str) -> str | None:
    if not Path(path).exists():
        return "not on this machine"
    capture.read_text(Path(path))
    return None


def _read_twice(source: PowerSource) -> str | None:
    """Probe, then read twice a second apart (counters need two readings)."""
    availability = source.probe()
    if not availability.available:
        return f"unavailable: {availability.why}"
    try:
        source.read()
        time.sleep(1.0)
        source.read()
    except PowerReadError as exc:
        return f"read failed: {exc}"
    finally:
        source.close()
    return None


def _smc(capture: _Capture) -> None:
    connection = SmcConnection()
    try:
        capture.json("smc.json", {SmcSource.KEY: connection.read_key(SmcSource.KEY)})
    finally:
        connection.close()


def _ioreport(capture: _Capture) -> None:
    """Two raw samples of the rail channels a second apart, as (name, unit, counter, publication s)."""
    subscription = IOReportSubscription()
    try:
        samples = []
        for pause in (0.0, 1.0):
            time.sleep(pause)
            ref = subscription.sample()
            try:
                samples.append(subscription.readings(ref))
            finally:
                subscription.release(ref)
        capture.json("ioreport.json", {"interval_s": 1.0, "samples": samples})
    finally:
        subscription.close()


def _powermetrics(capture: _Capture, platform: str) -> str | None:
    availability = PowermetricsSource(platform=platform).probe()
    if not availability.available:
        return f"unavailable: {availability.why}"
    argv = ["sudo", "-n", POWERMETRICS, "--samplers", "cpu_power,gpu_power", "-f", "plist", "-i", "1000", "-n", "1"]
    done = subprocess.run(argv, capture_output=True, timeout=10, stdin=subprocess.DEVNULL, check=True)
    capture.write("powermetrics.plist", done.stdout)
    return None


def _nvml(capture: _Capture, library: NvmlLibrary) -> str | None:
    availability = library.open()
    if not availability.available:
        return f"unavailable: {availability.why}"
    nvml = library.nvml

    def value(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except nvml.NVMLError as exc:
            return {"error": str(exc)}

    def device(handle: Any) -> dict[str, Any]:
        memory = value(lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
        return {
            "name": value(lambda: _text(nvml.nvmlDeviceGetName(handle))),
            "memory": memory if isinstance(memory, dict) else {"used": memory.used, "total": memory.total},
            "utilization_gpu": value(lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
            "power_usage_mw": value(lambda: nvml.nvmlDeviceGetPowerUsage(handle)),
            "total_energy_mj": value(lambda: nvml.nvmlDeviceGetTotalEnergyConsumption(handle)),
            "compute_processes": value(
                lambda: [
                    {"pid": p.pid, "used_gpu_memory": p.usedGpuMemory}
                    for p in nvml.nvmlDeviceGetComputeRunningProcesses(handle)
                ]
            ),
        }

    capture.json("nvml.json", {"devices": [device(handle) for handle in library.handles]})
    return None


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ollama(capture: _Capture, host: str, transport: httpx.BaseTransport | None) -> str | None:
    """The raw replies, whatever they are: a capture of a wrong --host shows what answered."""
    replies: dict[str, Any] = {}
    with httpx.Client(base_url=host, timeout=5.0, transport=transport) as client:
        for path in API_PATHS:
            try:
                response = client.get(path)
            except httpx.HTTPError as exc:
                replies[path] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            name = path.rsplit("/", 1)[-1]
            capture.write(f"ollama/{name}.body", response.content)
            replies[path] = {
                "status": response.status_code,
                "content_type": response.headers.get("content-type"),
                "body": f"{name}.body",
            }
    capture.json("ollama/replies.json", replies)
    failed = [path for path, reply in replies.items() if "error" in reply]
    return f"no reply from {', '.join(failed)}" if failed else None


def _processes(
    capture: _Capture,
    process_iter: Callable[[], Iterable[Any]],
    connections: Callable[[], Iterable[Any]],
    port: int | None,
    footprint: FootprintReader | None,
) -> None:
    """The processes the finder would look at: Ollama-named ones and whatever listens on the port."""
    listeners, why = [], None
    if port is not None:
        try:
            listeners = [
                {"pid": c.pid, "port": c.laddr.port}
                for c in connections()
                if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
            ]
        except (psutil.AccessDenied, OSError) as exc:
            why = f"cannot list sockets: {type(exc).__name__}"
    wanted = {entry["pid"] for entry in listeners}
    everyone = []
    for process in process_iter():
        try:
            with process.oneshot():
                everyone.append((process, process.name(), process.ppid()))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    # The listener's descendants count too: follow parents down from the wanted pids.
    looks_like = {p.pid for p, name, _ in everyone if name.lower().startswith("ollama") or name == "llama-server"}
    wanted |= looks_like
    grew = True
    while grew:
        added = {p.pid for p, _, ppid in everyone if ppid in wanted and p.pid not in wanted}
        wanted |= added
        grew = bool(added)
    rows = []
    for process, name, ppid in everyone:
        if process.pid not in wanted:
            continue
        row = _process_row(process, name, ppid, footprint)
        if port is not None and process.pid in looks_like:
            row.update(_listening_ports(process))
        rows.append(row)
    # What the finder makes of it, as doctor and the app say it: "listening on :11434", "by name (...)".
    finder = OllamaProcessFinder(
        lambda: [p for p, _, _ in everyone], footprint=footprint, port=port, connections=connections
    )
    found = finder.read()
    capture.json(
        "processes.json",
        {
            "port": port,
            "listeners": listeners,
            "sockets_why": why,
            "processes": rows,
            "found_by": found.found_by,
            "server_pid": found.server_pid,
            "pids": list(found.pids),
        },
    )


def _listening_ports(process: Any) -> dict[str, Any]:
    """The TCP ports an Ollama-named process listens on, as the finder asks where listing is denied."""
    try:
        return {"listens": sorted(listening_ports(process))}
    except (psutil.Error, OSError) as exc:
        return {"listens_error": type(exc).__name__}


def _process_row(process: Any, name: str, ppid: int, footprint: FootprintReader | None) -> dict[str, Any]:
    row: dict[str, Any] = {"pid": process.pid, "ppid": ppid, "name": name}
    try:
        row["cmdline"] = process.cmdline()
        row["rss"] = process.memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied) as exc:
        row["error"] = type(exc).__name__
    if footprint is not None:
        try:
            row["footprint"] = footprint(process.pid)
        except OSError as exc:
            row["footprint_error"] = str(exc)
    return row
