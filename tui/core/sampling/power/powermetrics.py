"""CPU + GPU + ANE power from `sudo -n powermetrics` plists (opt-in: needs root)."""

from __future__ import annotations

import io
import plistlib
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from .base import Availability, PowerReadError, PowerReading, PowerSource

NEEDS_ROOT = "needs root: sudo -n failed (no NOPASSWD rule)"
POWERMETRICS = "/usr/bin/powermetrics"


@dataclass(frozen=True)
class PowermetricsSample:
    """One plist document: watts per part and the energy of its interval."""

    elapsed_s: float
    cpu_w: float
    gpu_w: float
    ane_w: float
    energy_j: float

    @property
    def combined_w(self) -> float:
        return self.cpu_w + self.gpu_w + self.ane_w


def split_documents(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Complete NUL-separated documents in `buffer`, and the incomplete rest."""
    *documents, rest = buffer.split(b"\0")
    return [d for d in documents if d.strip()], rest


def parse_sample(document: bytes) -> PowermetricsSample:
    """Read one plist document; `*_power` are mW, `*_energy` mJ over `elapsed_ns`."""
    data = plistlib.loads(document.strip())
    processor: dict[str, Any] = data["processor"]
    elapsed_s = data["elapsed_ns"] / 1e9

    def watts(part: str) -> float:
        # Each figure is already a rate over the interval: divide by it once, never twice.
        if f"{part}_power" in processor:
            return float(processor[f"{part}_power"]) / 1e3
        energy_mj = processor.get(f"{part}_energy", 0)
        return energy_mj / 1e3 / elapsed_s if elapsed_s > 0 else 0.0

    energy_mj = sum(processor.get(f"{part}_energy", 0) for part in ("cpu", "gpu", "ane"))
    return PowermetricsSample(elapsed_s, watts("cpu"), watts("gpu"), watts("ane"), energy_mj / 1e3)


Popen = Callable[..., Any]
Runner = Callable[..., subprocess.CompletedProcess]


class PowermetricsSource(PowerSource):
    """Runs powermetrics in the background and reports its latest sample.

    A thread reads the process's stdout; read() only returns what has arrived, so it never
    blocks. `energy_j` is the sum of the samples' interval energies.
    """

    name = "powermetrics"
    scope = "CPU + GPU + ANE (powermetrics)"
    covers = frozenset({"cpu", "gpu", "ane"})

    def __init__(
        self,
        interval_ms: int = 1000,
        platform: str = sys.platform,
        popen: Popen = subprocess.Popen,
        run: Runner = subprocess.run,
    ) -> None:
        self.argv = [
            "sudo",
            "-n",
            POWERMETRICS,
            "--samplers",
            "cpu_power,gpu_power",
            "-f",
            "plist",
            "-i",
            str(interval_ms),
        ]
        self._platform = platform
        self._popen = popen
        self._run = run
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._latest: PowermetricsSample | None = None
        self._energy_j = 0.0
        self._failure: str | None = None
        self._process: Any = None
        self._thread: threading.Thread | None = None

    def probe(self) -> Availability:
        if self._platform != "darwin":
            return Availability.no("not macOS")
        try:
            # `sudo -n -l CMD` asks whether CMD may run without a password, without running it.
            done = self._run(
                ["sudo", "-n", "-l", POWERMETRICS], capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Availability.no(f"sudo could not run: {exc}")
        return Availability.ok() if done.returncode == 0 else Availability.no(NEEDS_ROOT)

    def start(self) -> None:
        """Start powermetrics and the reader thread, once."""
        if self._process is not None:
            return
        try:
            self._process = self._popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self._failure = f"powermetrics could not start: {exc}"
            return
        self._thread = threading.Thread(target=self._consume, name="powermetrics", daemon=True)
        self._thread.start()

    def _consume(self) -> None:
        stdout: io.BufferedReader = self._process.stdout  # Popen(stdout=PIPE) buffers: read1 exists
        buffer = b""
        while chunk := stdout.read1(65536):
            documents, buffer = split_documents(buffer + chunk)
            for document in documents:
                self._take(document)
        if buffer.strip():
            self._take(buffer)
        returncode = self._process.wait()
        stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
        detail = stderr.strip().splitlines()
        with self._arrived:
            if "password" in stderr:  # "sudo: a password is required"
                self._failure = NEEDS_ROOT
            else:
                self._failure = f"powermetrics exited with {returncode}" + (f": {detail[0]}" if detail else "")
            self._arrived.notify_all()

    def _take(self, document: bytes) -> None:
        try:
            sample = parse_sample(document)
        except (ValueError, KeyError, TypeError, ExpatError):
            return  # a malformed document costs one sample, not the source
        with self._arrived:
            self._latest = sample
            self._energy_j += sample.energy_j
            self._arrived.notify_all()

    def wait_for_sample(self, timeout: float) -> bool:
        """Block until a sample or a failure has arrived; True if a sample did."""
        self.start()
        with self._arrived:
            self._arrived.wait_for(lambda: self._latest is not None or self._failure is not None, timeout)
            return self._latest is not None and self._failure is None

    def read(self) -> PowerReading:
        self.start()
        with self._lock:
            if self._failure is not None:
                raise PowerReadError(self._failure)
            latest, energy_j = self._latest, self._energy_j
        if latest is None:
            return PowerReading(None, None, self.scope)
        parts = {"CPU": latest.cpu_w, "GPU": latest.gpu_w, "ANE": latest.ane_w}
        return PowerReading(latest.combined_w, energy_j, self.scope, parts)

    def explain(self) -> list[str]:
        return [
            "CPU + GPU + ANE: powermetrics' cpu_power + gpu_power + ane_power (mW) of its latest sample; "
            "energy = the sum of each sample's cpu/gpu/ane_energy (mJ)"
        ]

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
        if self._thread is not None:
            self._thread.join(timeout=2)
