"""NVIDIA GPUs through NVML (nvidia-ml-py): power or energy, memory, utilisation, per-process VRAM."""

from __future__ import annotations

import atexit
import ctypes
import sys
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .base import Availability, PowerReadError, PowerReading, PowerSource
from .counter import CounterRate

NOT_INSTALLED = "nvidia-ml-py not installed"
LINUX_LIBRARY = "libnvidia-ml.so.1"
# No single GPU draws this (a GB300 board is rated 1.4 kW): a bigger step is a corrupt value.
MAX_GPU_WATTS = 2000.0


def driver_missing() -> str | None:
    """Why NVIDIA's driver library cannot load, found without pynvml: importing it costs memory
    and start-up time, for nothing on a Mac or a machine without an NVIDIA GPU. None: try NVML."""
    if sys.platform == "darwin":
        return "no NVIDIA driver on macOS"
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(LINUX_LIBRARY)  # what nvmlInit loads first
        except OSError:
            return "no NVIDIA driver (NVML Shared Library Not Found)"
    return None


class NvmlLibrary:
    """NVML initialised once with its device handles, shared by the power and GPU readers.

    `module` is the pynvml module or a stand-in with the same names; by default pynvml is
    imported on first use, so the package is optional. A successful init registers the
    matching shutdown with `at_exit`.
    """

    def __init__(
        self, module: ModuleType | Any | None = None, at_exit: Callable[[Callable[[], None]], object] | None = None
    ) -> None:
        self._module = module
        self._at_exit = at_exit or atexit.register
        self._handles: list[Any] | None = None
        self._why: str | None = None
        self._initialised = False  # nvmlInit succeeded and nvmlShutdown is still owed

    def open(self) -> Availability:
        """Initialise NVML once; later calls repeat the first outcome."""
        if self._handles is None and self._why is None:
            self._why = self._initialise()
        return Availability.no(self._why) if self._why else Availability.ok(f"{len(self.handles)} device(s)")

    def _initialise(self) -> str | None:
        if self._module is None:
            missing = driver_missing()
            if missing:
                return missing
            try:
                import pynvml
            except ImportError:
                return NOT_INSTALLED
            self._module = pynvml
        nvml = self._module
        try:
            nvml.nvmlInit()
        except self.errors as exc:
            return f"no NVIDIA driver ({exc})"
        self._initialised = True
        self._at_exit(self.shutdown)
        try:
            count = nvml.nvmlDeviceGetCount()
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except self.errors as exc:
            return f"NVIDIA devices unreadable ({exc})"
        if not handles:
            return "no NVIDIA device"
        self._handles = handles
        return None

    def shutdown(self) -> None:
        """Release NVML (registered at exit); later calls report it closed."""
        if not self._initialised:
            return
        self._initialised, self._handles, self._why = False, None, "NVML shut down"
        close = getattr(self._module, "nvmlShutdown", None)  # stand-ins in tests may lack it
        try:
            if close is not None:
                close()
        except self.errors:
            pass  # exiting anyway: nothing to do about a driver that will not close

    @property
    def nvml(self) -> Any:
        return self._module

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """What an NVML call may raise: NVMLError, and NVMLLibraryMismatchError, which is not one."""
        nvml = self._module
        return tuple(
            e
            for e in (getattr(nvml, "NVMLError", None), getattr(nvml, "NVMLLibraryMismatchError", None))
            if isinstance(e, type)
        )

    @property
    def handles(self) -> list[Any]:
        return self._handles or []


_shared: NvmlLibrary | None = None


def shared_library() -> NvmlLibrary:
    """The process's one NvmlLibrary: every reader built without one shares a single nvmlInit."""
    global _shared
    if _shared is None:
        _shared = NvmlLibrary()
    return _shared


class NvmlPowerSource(PowerSource):
    """All NVIDIA GPUs: total-energy counters (Volta+) when every GPU has one, else power usage."""

    name = "nvml"
    scope = "GPU"
    covers = frozenset({"nvidia"})

    def __init__(self, library: NvmlLibrary | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.library = library or shared_library()
        self._rate = CounterRate(clock, MAX_GPU_WATTS)
        self._counter: bool | None = None

    def probe(self) -> Availability:
        availability = self.library.open()
        if not availability.available:
            return availability
        try:
            self._choose_mode()
        except PowerReadError as exc:
            return Availability.no(str(exc))
        return Availability.ok("total energy counter" if self._counter else "power usage")

    def _choose_mode(self) -> None:
        nvml, errors = self.library.nvml, self.library.errors
        try:
            for handle in self.library.handles:
                nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            self._counter = True
            return
        except errors:
            pass
        try:
            for handle in self.library.handles:
                nvml.nvmlDeviceGetPowerUsage(handle)
        except errors as exc:
            raise PowerReadError(f"GPU power not supported ({exc})") from None
        self._counter = False

    def read(self) -> PowerReading:
        availability = self.library.open()
        if not availability.available:
            raise PowerReadError(availability.why)
        if self._counter is None:
            self._choose_mode()
        nvml = self.library.nvml
        try:
            if self._counter:
                joules = {
                    f"gpu{i}": nvml.nvmlDeviceGetTotalEnergyConsumption(h) / 1e3
                    for i, h in enumerate(self.library.handles)
                }
                watts = self._rate.step(joules)
                if self._rate.why:
                    return PowerReading(None, None, self.scope, note=f"interval dropped: {self._rate.why}")
                return PowerReading(watts, self._rate.total_j, self.scope)
            parts = {f"gpu{i}": nvml.nvmlDeviceGetPowerUsage(h) / 1e3 for i, h in enumerate(self.library.handles)}
        except self.library.errors as exc:
            raise PowerReadError(f"NVML read failed ({exc})") from None
        return PowerReading(sum(parts.values()), None, self.scope, parts)

    def explain(self) -> list[str]:
        count = len(self.library.handles)
        if self._counter:
            return [
                f"GPU: nvmlDeviceGetTotalEnergyConsumption (mJ) summed over {count} GPU(s); watts = the "
                "counter's delta over the measured interval; energy = the counter; an interval where a "
                f"counter fell (a driver reload) or read over {MAX_GPU_WATTS:.0f} W is dropped (the answer's "
                "energy estimates it from the watts around it)"
            ]
        return [
            f"GPU: nvmlDeviceGetPowerUsage (mW) summed over {count} GPU(s), each tick; energy is the "
            "trapezoid integral of the watts"
        ]


@dataclass(frozen=True)
class GpuReading:
    """GPU memory and load, summed over NVIDIA devices, with the VRAM of the given processes."""

    name: str
    memory_used: int
    memory_total: int
    util_pct: float | None
    process_memory: Mapping[int, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # queries that failed, and why

    @property
    def processes_memory(self) -> int:
        return sum(self.process_memory.values())


class NvmlGpu:
    """Reads GPU memory, utilisation and per-process VRAM for a set of pids.

    Memory is the reading; the name, utilisation and each device's process list have their own
    guards, so one failing query (NVMLLibraryMismatchError from the process list on older
    drivers) leaves the rest and says why in `notes`.

    Memory "used" comes from nvmlDeviceGetMemoryInfo_v2 where the driver has it: v1's used
    includes the driver's reserved memory (an idle A10 reads ~527 MiB used instead of 1 MiB,
    where nvidia-smi says 1 MiB). The process list is the _v3 query pynvml calls by default, else
    _v2 on drivers without _v3. Each fallback, once needed, is kept.
    """

    name = "nvml"

    def __init__(self, library: NvmlLibrary | None = None) -> None:
        self.library = library or shared_library()
        self._memory_v2: bool | None = None  # None: not tried yet
        self._processes_v2 = False

    def probe(self) -> Availability:
        return self.library.open()

    def read(self, pids: Collection[int]) -> GpuReading:
        availability = self.library.open()
        if not availability.available:
            raise RuntimeError(availability.why)
        nvml, handles, errors = self.library.nvml, self.library.handles, self.library.errors
        used = total = 0
        utils: list[float] = []
        per_pid: dict[int, int] = {}
        notes: list[str] = []
        wanted = set(pids)
        try:
            for handle in handles:
                memory = self._memory(handle)
                used, total = used + memory.used, total + memory.total
        except errors as exc:
            raise RuntimeError(f"NVML memory unreadable ({exc})") from None
        names: list[str] = []
        for index, handle in enumerate(handles):
            try:
                names.append(_text(nvml.nvmlDeviceGetName(handle)))
            except errors:
                names.append("NVIDIA GPU")
            try:
                utils.append(float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu))
            except errors:
                pass  # some boards (and MIG slices) do not report utilisation
            try:
                processes = self._processes(handle)
            except errors as exc:
                notes.append(f"gpu{index} per-process VRAM n/a: {type(exc).__name__}: {exc}")
                continue
            for process in processes:
                # usedGpuMemory is None where the driver cannot attribute memory (e.g. WDDM).
                if process.pid in wanted and process.usedGpuMemory is not None:
                    per_pid[process.pid] = per_pid.get(process.pid, 0) + process.usedGpuMemory
        name = names[0] if len(set(names)) == 1 else ", ".join(names)
        if len(names) > 1 and len(set(names)) == 1:
            name = f"{len(names)} × {name}"
        util = sum(utils) / len(utils) if utils else None
        return GpuReading(name, used, total, util, per_pid, tuple(notes))

    def _memory(self, handle: Any) -> Any:
        """The device's memory info: the v2 struct where the driver and pynvml have it, else v1."""
        nvml = self.library.nvml
        version = getattr(nvml, "nvmlMemory_v2", None)
        missing: tuple[type[BaseException], ...] = (*self.library.errors, TypeError)  # TypeError: old pynvml
        if version is not None and self._memory_v2 is not False:
            try:
                memory = nvml.nvmlDeviceGetMemoryInfo(handle, version=version)
            except missing:
                if self._memory_v2:
                    raise  # v2 worked before: this is a real failure, not a missing function
            else:
                self._memory_v2 = True
                return memory
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        self._memory_v2 = False
        return memory

    def _processes(self, handle: Any) -> Any:
        """The device's compute processes: _v3 (pynvml's default), else _v2 where _v3 is missing."""
        nvml = self.library.nvml
        if self._processes_v2:
            return nvml.nvmlDeviceGetComputeRunningProcesses_v2(handle)
        try:
            return nvml.nvmlDeviceGetComputeRunningProcesses(handle)
        except self.library.errors as newest:
            older = getattr(nvml, "nvmlDeviceGetComputeRunningProcesses_v2", None)
            if older is None:
                raise
            try:
                processes = older(handle)
            except self.library.errors:
                raise newest from None  # the _v3 error says more than the _v2 one
            self._processes_v2 = True
            return processes


def _text(value: str | bytes) -> str:
    # Older nvidia-ml-py releases return bytes.
    return value.decode() if isinstance(value, bytes) else value
