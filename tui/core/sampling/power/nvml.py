"""NVIDIA GPUs through NVML (nvidia-ml-py): power or energy, memory, utilisation, per-process VRAM."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ..energy import counter_delta
from .base import Availability, CounterRate, PowerReadError, PowerReading, PowerSource

NOT_INSTALLED = "nvidia-ml-py not installed"


class NvmlLibrary:
    """NVML initialised once with its device handles, shared by the power and GPU readers.

    `module` is the pynvml module or a stand-in with the same names; by default pynvml is
    imported on first use, so the package is optional.
    """

    def __init__(self, module: ModuleType | Any | None = None) -> None:
        self._module = module
        self._handles: list[Any] | None = None
        self._why: str | None = None

    def open(self) -> Availability:
        """Initialise NVML once; later calls repeat the first outcome."""
        if self._handles is None and self._why is None:
            self._why = self._initialise()
        return Availability.no(self._why) if self._why else Availability.ok(f"{len(self.handles)} device(s)")

    def _initialise(self) -> str | None:
        if self._module is None:
            try:
                import pynvml
            except ImportError:
                return NOT_INSTALLED
            self._module = pynvml
        nvml = self._module
        try:
            nvml.nvmlInit()
            count = nvml.nvmlDeviceGetCount()
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except nvml.NVMLError as exc:
            return f"no NVIDIA driver ({exc})"
        if not handles:
            return "no NVIDIA device"
        self._handles = handles
        return None

    @property
    def nvml(self) -> Any:
        return self._module

    @property
    def handles(self) -> list[Any]:
        return self._handles or []


class NvmlPowerSource(PowerSource):
    """All NVIDIA GPUs: total-energy counters (Volta+) when every GPU has one, else power usage."""

    name = "nvml"
    scope = "GPU"
    covers = frozenset({"nvidia"})

    def __init__(self, library: NvmlLibrary | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.library = library or NvmlLibrary()
        self._rate = CounterRate(clock)
        self._counter: bool | None = None
        self._previous_mj: float | None = None

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
        nvml = self.library.nvml
        try:
            for handle in self.library.handles:
                nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            self._counter = True
            return
        except nvml.NVMLError:
            pass
        try:
            for handle in self.library.handles:
                nvml.nvmlDeviceGetPowerUsage(handle)
        except nvml.NVMLError as exc:
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
                total_mj = float(sum(nvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in self.library.handles))
                delta_mj = None if self._previous_mj is None else counter_delta(self._previous_mj, total_mj, None)
                self._previous_mj = total_mj
                watts = self._rate.step(None if delta_mj is None else delta_mj / 1e3)
                return PowerReading(watts, self._rate.total_j, self.scope)
            parts = {f"gpu{i}": nvml.nvmlDeviceGetPowerUsage(h) / 1e3 for i, h in enumerate(self.library.handles)}
        except nvml.NVMLError as exc:
            raise PowerReadError(f"NVML read failed ({exc})") from None
        return PowerReading(sum(parts.values()), None, self.scope, parts)


@dataclass(frozen=True)
class GpuReading:
    """GPU memory and load, summed over NVIDIA devices, with the VRAM of the given processes."""

    name: str
    memory_used: int
    memory_total: int
    util_pct: float | None
    process_memory: Mapping[int, int] = field(default_factory=dict)

    @property
    def processes_memory(self) -> int:
        return sum(self.process_memory.values())


class NvmlGpu:
    """Reads GPU memory, utilisation and per-process VRAM for a set of pids."""

    name = "nvml"

    def __init__(self, library: NvmlLibrary | None = None) -> None:
        self.library = library or NvmlLibrary()

    def probe(self) -> Availability:
        return self.library.open()

    def read(self, pids: Collection[int]) -> GpuReading:
        availability = self.library.open()
        if not availability.available:
            raise RuntimeError(availability.why)
        nvml, handles = self.library.nvml, self.library.handles
        used = total = 0
        utils: list[float] = []
        per_pid: dict[int, int] = {}
        wanted = set(pids)
        try:
            names = [_text(nvml.nvmlDeviceGetName(h)) for h in handles]
            for handle in handles:
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                used, total = used + memory.used, total + memory.total
                try:
                    utils.append(float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu))
                except nvml.NVMLError:
                    pass  # some boards (and MIG slices) do not report utilisation
                for process in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    # usedGpuMemory is None where the driver cannot attribute memory (e.g. WDDM).
                    if process.pid in wanted and process.usedGpuMemory is not None:
                        per_pid[process.pid] = per_pid.get(process.pid, 0) + process.usedGpuMemory
        except nvml.NVMLError as exc:
            raise RuntimeError(f"NVML read failed ({exc})") from None
        name = names[0] if len(set(names)) == 1 else ", ".join(names)
        if len(names) > 1 and len(set(names)) == 1:
            name = f"{len(names)} × {name}"
        util = sum(utils) / len(utils) if utils else None
        return GpuReading(name, used, total, util, per_pid)


def _text(value: str | bytes) -> str:
    # Older nvidia-ml-py releases return bytes.
    return value.decode() if isinstance(value, bytes) else value
