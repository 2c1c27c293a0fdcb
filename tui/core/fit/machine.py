"""This machine's facts for a placement estimate: which GPU Ollama would use and what it may hold.

On Apple Silicon the limit is Metal's recommended working set, read (in this order) from Metal
itself, from Ollama's server log, from the `iogpu.wired_limit_mb` sysctl, and only as a last
resort from the 2/3–3/4 rule. On NVIDIA it is the free VRAM from NVML. Otherwise: CPU only.
"""

from __future__ import annotations

import ctypes
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

from tui.core.fit.inputs import GIB, Fact, GpuKind, Machine, OllamaVersion
from tui.core.ollama.models import LoadedModel
from tui.core.sampling.power.nvml import NvmlLibrary

SERVER_LOG = Path.home() / ".ollama" / "logs" / "server.log"
_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
_COMPUTE = re.compile(r'msg="inference compute".*?library=(\w+).*?total="([\d.]+) (\w+)"')


def metal_working_set() -> int | None:
    """`recommendedMaxWorkingSetSize` of the default Metal device, through the Objective-C runtime."""
    try:
        objc = ctypes.CDLL("/usr/lib/libobjc.A.dylib")
        metal = ctypes.CDLL("/System/Library/Frameworks/Metal.framework/Metal")
        # A command-line process gets no Metal device unless CoreGraphics is loaded.
        ctypes.CDLL("/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics")
    except OSError:
        return None
    metal.MTLCreateSystemDefaultDevice.restype = ctypes.c_void_p
    device = metal.MTLCreateSystemDefaultDevice()
    if not device:
        return None
    objc.sel_registerName.restype = ctypes.c_void_p
    objc.sel_registerName.argtypes = [ctypes.c_char_p]
    send = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p)(("objc_msgSend", objc))
    size = send(device, objc.sel_registerName(b"recommendedMaxWorkingSetSize"))
    send(device, objc.sel_registerName(b"release"))
    return int(size) or None


def logged_gpu_memory(text: str, library: str = "Metal") -> int | None:
    """The latest `inference compute` line's total for `library` (to 0.1 GiB, as Ollama logs it)."""
    found = None
    for match in _COMPUTE.finditer(text):
        if match.group(1) == library and match.group(3) in _UNITS:
            found = int(float(match.group(2)) * _UNITS[match.group(3)])
    return found


def _read_log(path: Path = SERVER_LOG) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _sysctl(name: str) -> str:
    try:
        return subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def rule_of_thumb(ram: int) -> int:
    """macOS lets the GPU wire 2/3 of RAM up to 36 GB, 3/4 above: only a guess, not a reading."""
    return ram * 2 // 3 if ram < 36 * GIB else ram * 3 // 4


def apple_gpu_memory(
    ram: int,
    *,
    working_set: Callable[[], int | None] = metal_working_set,
    server_log: Callable[[], str] = _read_log,
    sysctl: Callable[[str], str] = _sysctl,
) -> Fact[int]:
    """What Metal lets Ollama use, from the best source that answers."""
    if size := working_set():
        return Fact(size, "Metal recommendedMaxWorkingSetSize")
    if size := logged_gpu_memory(server_log()):
        return Fact(size, f"Ollama server log ({SERVER_LOG})")
    wired = sysctl("iogpu.wired_limit_mb").strip()
    if wired.isdigit() and int(wired) > 0:
        return Fact(int(wired) << 20, "sysctl iogpu.wired_limit_mb")
    return Fact(rule_of_thumb(ram), "guessed: 2/3 of RAM (3/4 from 36 GB); Metal could not be read")


def nvidia_free_memory(library: NvmlLibrary | None = None) -> Fact[int] | None:
    """Free VRAM of the NVIDIA GPU with the most free; None without NVML or a device."""
    library = library or NvmlLibrary()
    if not library.open().available:
        return None
    nvml = library.nvml
    try:
        free = [int(nvml.nvmlDeviceGetMemoryInfo(handle).free) for handle in library.handles]
    except library.errors:  # NVMLError, and NVMLLibraryMismatchError, which is not one
        return None
    where = "NVML free VRAM" + (f" (the freest of {len(free)} GPUs)" if len(free) > 1 else "")
    return Fact(max(free), where)


def read_local_machine(
    version: Fact[OllamaVersion],
    loaded: Sequence[LoadedModel],
    *,
    system: str = sys.platform,
    arch: str = platform.machine(),
    apple: Callable[[int], Fact[int]] = apple_gpu_memory,
    nvidia: Callable[[], Fact[int] | None] = nvidia_free_memory,
) -> Machine:
    """This machine, for an Ollama server that runs on it. Blocking: call it off the event loop."""
    memory = psutil.virtual_memory()
    ram = Fact(int(memory.total), "this machine's RAM")
    loaded = tuple(loaded)
    if system == "darwin":
        if arch != "arm64":  # Ollama does not use the GPU of an Intel Mac
            return Machine(version, Fact(GpuKind.NONE, "Intel Mac"), Fact(0, "no GPU"), ram, "darwin", loaded=loaded)
        return Machine(version, Fact(GpuKind.METAL, "Apple Silicon"), apple(ram.value), ram, "darwin", loaded=loaded)
    available = Fact(int(memory.available + psutil.swap_memory().free), "free RAM + free swap")
    os_name = "windows" if system.startswith("win") else "linux"
    free = nvidia()
    if free is None:
        return Machine(
            version,
            Fact(GpuKind.NONE, "no NVIDIA GPU found"),
            Fact(0, "no GPU"),
            ram,
            os_name,
            ram_available=available,
            loaded=loaded,
        )
    # NVML's free VRAM already lacks what loaded models hold; add it back to get the empty GPU.
    held = sum(m.size_vram for m in loaded)
    gpu_memory = Fact(free.value + held, free.source + (" + what loaded models hold" if held else ""))
    return Machine(
        version, Fact(GpuKind.CUDA, "NVML"), gpu_memory, ram, os_name, ram_available=available, loaded=loaded
    )
