"""The fit advisor's machine facts: each from the best source that answers, labelled with it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tui.core.fit.gather import MachineUnknown, hypothetical_machine, read_machine
from tui.core.fit.inputs import GIB, MIB, Fact, GpuKind, OllamaVersion
from tui.core.fit.machine import (
    apple_gpu_memory,
    logged_gpu_memory,
    nvidia_free_memory,
    read_local_machine,
    rule_of_thumb,
)
from tui.core.fit.what_if import WhatIf
from tui.core.ollama.client import OllamaEngine
from tui.core.ollama.models import LoadedModel
from tui.core.sampling.power.nvml import NvmlLibrary

VERSION = Fact(OllamaVersion.parse("0.12.6"), "test")
LOG = (
    'time=2025-10-08T14:00:01.000+02:00 level=INFO source=types.go:131 msg="inference compute" id=0 '
    'library=Metal compute=0.0 name=Metal description="Apple M4" type=discrete total="10.7 GiB" available="10.7 GiB"\n'
)


def none() -> None:
    return None


def test_metal_itself_comes_first() -> None:
    """Metal's recommended working set is the GPU's share when Metal can be asked."""
    fact = apple_gpu_memory(16 * GIB, working_set=lambda: 11_453_251_584, server_log=lambda: LOG, sysctl=lambda _: "0")
    assert fact == Fact(11_453_251_584, "Metal recommendedMaxWorkingSetSize")


def test_then_the_server_log_then_the_sysctl_then_the_rule() -> None:
    """Without Metal the share comes from the server log, then the sysctl, then a guess."""
    from_log = apple_gpu_memory(16 * GIB, working_set=none, server_log=lambda: LOG, sysctl=lambda _: "12000")
    assert from_log.value == int(10.7 * GIB) and "server log" in from_log.source
    from_sysctl = apple_gpu_memory(16 * GIB, working_set=none, server_log=lambda: "", sysctl=lambda _: "12000\n")
    assert from_sysctl == Fact(12000 * MIB, "sysctl iogpu.wired_limit_mb")
    guessed = apple_gpu_memory(16 * GIB, working_set=none, server_log=lambda: "", sysctl=lambda _: "0")
    assert guessed.value == rule_of_thumb(16 * GIB) and guessed.source.startswith("guessed")


def test_the_log_reader_takes_the_latest_line_of_the_library() -> None:
    """The server log gives the latest figure for the asked library, or None."""
    cuda = LOG.replace("library=Metal", "library=CUDA").replace("10.7 GiB", "23.6 GiB")
    assert logged_gpu_memory(LOG + cuda) == int(10.7 * GIB)
    assert logged_gpu_memory(LOG + cuda, "CUDA") == int(23.6 * GIB)
    assert logged_gpu_memory("no such line") is None


def test_the_rule_of_thumb_matches_the_macs_seen() -> None:
    """The rule of thumb gives the GPU shares seen on 16 to 64 GiB Macs."""
    expected = [10.667, 16, 21.333, 27, 48]
    assert [rule_of_thumb(n * GIB) / GIB for n in (16, 24, 32, 36, 64)] == pytest.approx(expected, abs=1e-3)


class _Nvml:
    """A stand-in pynvml module with one GPU that has 20 GiB free."""

    class NVMLError(Exception):
        pass

    def nvmlInit(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(free=20 * GIB, total=24 * GIB)


def test_nvidia_free_vram_and_loaded_models_added_back() -> None:
    """On NVIDIA the GPU memory is free VRAM plus what loaded models hold."""
    assert nvidia_free_memory(NvmlLibrary(_Nvml())) == Fact(20 * GIB, "NVML free VRAM")
    loaded = [LoadedModel("qwen3:8b", 6 * GIB, 5 * GIB)]
    machine = read_local_machine(
        VERSION, loaded, system="linux", arch="x86_64", nvidia=lambda: nvidia_free_memory(NvmlLibrary(_Nvml()))
    )
    assert machine.gpu.value is GpuKind.CUDA and machine.os == "linux"
    assert machine.gpu_memory.value == 25 * GIB  # the predictor takes the 5 GiB off again
    assert machine.ram_available is not None and machine.loaded == tuple(loaded)


class _MismatchedNvml(_Nvml):
    """A stand-in pynvml newer than its driver: the memory query raises NVMLLibraryMismatchError."""

    class NVMLLibraryMismatchError(Exception):  # pynvml's: an Exception, not an NVMLError
        pass

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        raise self.NVMLLibraryMismatchError("Unversioned function called")


def test_a_library_mismatch_means_no_nvidia_figure_not_a_traceback() -> None:
    """An NVML library mismatch gives no free-VRAM figure instead of an uncaught error."""
    assert nvidia_free_memory(NvmlLibrary(_MismatchedNvml(), at_exit=lambda close: None)) is None


def test_without_nvml_or_on_an_intel_mac_it_is_cpu_only() -> None:
    """Linux without NVML and Intel Macs have no GPU; Apple Silicon has Metal."""
    assert read_local_machine(VERSION, [], system="linux", arch="x86_64", nvidia=none).gpu.value is GpuKind.NONE
    assert read_local_machine(VERSION, [], system="darwin", arch="x86_64").gpu.value is GpuKind.NONE
    apple = read_local_machine(VERSION, [], system="darwin", arch="arm64", apple=lambda ram: Fact(7 * GIB, "t"))
    assert apple.gpu.value is GpuKind.METAL and apple.gpu_memory == Fact(7 * GIB, "t")


def test_a_described_machine_fills_in_what_was_not_said() -> None:
    """A what-if machine assumes the rest (Apple Silicon, this RAM) or asks for --gpu-memory."""
    mac = hypothetical_machine(WhatIf(ram=16 * GIB), VERSION, lambda: 0)
    assert mac.gpu == Fact(GpuKind.METAL, "assumed: Apple Silicon")
    assert mac.gpu_memory.value == rule_of_thumb(16 * GIB) and mac.loaded == ()
    free = hypothetical_machine(WhatIf(gpu=GpuKind.CUDA, gpu_free=8 * GIB), VERSION, lambda: 32 * GIB)
    assert free.gpu_memory == Fact(8 * GIB, "--gpu-free") and free.ram == Fact(32 * GIB, "this machine's RAM")
    with pytest.raises(MachineUnknown, match="--gpu-memory"):
        hypothetical_machine(WhatIf(gpu=GpuKind.CUDA), VERSION, lambda: 32 * GIB)


async def test_a_remote_server_needs_its_machine_described() -> None:
    """A remote Ollama's machine cannot be read: the error says it is another machine."""
    engine = OllamaEngine("http://gpu-box.invalid:11434")
    try:
        with pytest.raises(MachineUnknown, match="another machine"):
            await read_machine(engine, WhatIf(version="0.12.6"))
    finally:
        await engine.aclose()
