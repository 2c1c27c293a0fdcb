"""Facts about the machine and the Ollama engine, gathered once per run and copied into each record."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import psutil

from tui.core.records.schema import GpuInfo, HostInfo
from tui.core.sampling.power.nvml import NvmlGpu

CommandRunner = Callable[[list[str]], str | None]
GpuProbe = Callable[[], GpuInfo | None]

# Firmware placeholders that name no machine at all.
_DMI_PLACEHOLDERS = {
    "",
    "to be filled by o.e.m.",
    "system product name",
    "default string",
    "not applicable",
    "none",
}


def run_command(argv: list[str]) -> str | None:
    """Stdout of a short command, stripped; None if it is missing or fails."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def parse_cpuinfo_model(text: str) -> str | None:
    """The CPU name from /proc/cpuinfo ("model name", else ARM's "Hardware"/"Model")."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if sep and value and key not in found:
            found[key] = value
    for key in ("model name", "hardware", "model", "cpu model"):
        # x86 "model" is a bare number; only take it when it is a name.
        if key in found and not found[key].isdigit():
            return found[key]
    return None


def parse_meminfo_total(text: str) -> int | None:
    """MemTotal from /proc/meminfo, in bytes."""
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                unit = parts[2].lower() if len(parts) > 2 else "b"
                return int(parts[1]) * (1024 if unit == "kb" else 1)
    return None


def parse_os_release(text: str) -> str | None:
    """PRETTY_NAME (else NAME VERSION_ID) from /etc/os-release."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    if values.get("PRETTY_NAME"):
        return values["PRETTY_NAME"]
    name = " ".join(v for v in (values.get("NAME"), values.get("VERSION_ID")) if v)
    return name or None


def clean_dmi(text: str | None) -> str | None:
    """A DMI/device-tree string without NULs and firmware placeholders."""
    if text is None:
        return None
    value = text.replace("\x00", "").strip()
    return None if value.lower() in _DMI_PLACEHOLDERS else value


def _read(root: Path, relative: str) -> str | None:
    try:
        return (root / relative).read_text(errors="replace")
    except OSError:
        return None


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def gather_host(
    *,
    system: str | None = None,
    root: Path = Path("/"),
    run: CommandRunner = run_command,
    gpu: GpuProbe | None = None,
) -> HostInfo:
    """This machine's facts; `system`, `root`, `run` and `gpu` are injectable for tests."""
    system = system or platform.system()
    host = HostInfo(
        hostname=socket.gethostname(),
        kernel=platform.release() or None,
        arch=platform.machine() or None,
        cpu_cores=os.cpu_count(),
        gpu=gpu() if gpu else None,
    )
    if system == "Darwin":
        version = run(["sw_vers", "-productVersion"])
        host.os = f"macOS {version}" if version else "macOS"
        host.machine_model = run(["sysctl", "-n", "hw.model"])
        host.chip = run(["sysctl", "-n", "machdep.cpu.brand_string"])
        host.ram_bytes = _int_or_none(run(["sysctl", "-n", "hw.memsize"]))
    elif system == "Linux":
        host.os = parse_os_release(_read(root, "etc/os-release") or "") or "Linux"
        host.machine_model = clean_dmi(_read(root, "sys/class/dmi/id/product_name")) or clean_dmi(
            _read(root, "sys/firmware/devicetree/base/model")
        )
        host.chip = parse_cpuinfo_model(_read(root, "proc/cpuinfo") or "")
        host.ram_bytes = parse_meminfo_total(_read(root, "proc/meminfo") or "")
    else:
        host.os = f"{system} {platform.version()}".strip()
        host.chip = platform.processor() or None
    if host.ram_bytes is None:
        host.ram_bytes = psutil.virtual_memory().total
    return host


def nvml_gpu_facts() -> GpuInfo | None:
    """The NVIDIA GPU for a record's host facts, or None where NVML does not answer."""
    gpu = NvmlGpu()
    if not gpu.probe().available:
        return None
    try:
        reading = gpu.read(())
    except Exception:  # facts are best effort: a driver hiccup must not stop the app
        return None
    return GpuInfo(name=reading.name, vram_bytes=reading.memory_total)
