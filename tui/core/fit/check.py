"""Predictions beside what happened: each stored load's predicted split against `ollama ps`'s.

Records keep the fit advisor's prediction (`load.predicted`, `Fit.to_json()`) beside what
/api/ps showed after the load, so every load on a host is a test case. Pure functions over
records: the comparison per Ollama version (`ollamon fit --check`), and the free-memory margin
past era C loads imply (the advisor's correction).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from tui.core.fit.estimate import Era
from tui.core.fit.inputs import GIB, Fact, Machine, OllamaVersion
from tui.core.fit.llama_server import FIT_MARGIN
from tui.core.ollama.errors import ErrorKind
from tui.core.records.schema import Record
from tui.core.records.status import Status

_SPLIT = re.compile(r"^(\d+)%/(\d+)% CPU/GPU$")
# Swap that grew this much during a turn means the model did not fit in memory.
SWAP_GROWTH = 1 * GIB
# A correction never moves the margin outside this range.
MARGIN_BOUNDS = (0, 4 * GIB)
UNKNOWN_VERSION = "unknown"


def gpu_share(processor: str | None) -> int | None:
    """The GPU's share in percent of a PROCESSOR string (`26%/74% CPU/GPU` -> 74); None if not one."""
    if processor == "100% GPU":
        return 100
    if processor == "100% CPU":
        return 0
    match = _SPLIT.match(processor) if isinstance(processor, str) else None
    return int(match[2]) if match else None


def cpu_share(processor: str | None) -> str | None:
    """`26%/74% CPU/GPU` -> `26% CPU`, as the turn detail compares them; None if not a split."""
    share = gpu_share(processor)
    return None if share is None else f"{100 - share}% CPU"


def observed_verdict(record: Record) -> str:
    """What happened, in the advisor's words: swapped (swap grew or it ran out of memory), fit, or spilled."""
    res = record.resources
    grew = (res.swap_used_peak_bytes or 0) - (res.swap_used_start_bytes or 0)
    failed = record.status is Status.FAILED and record.error_kind in (ErrorKind.OUT_OF_MEMORY, ErrorKind.RUNNER_CRASHED)
    if grew >= SWAP_GROWTH or failed:
        return "swaps"
    return "fits" if record.load.processor == "100% GPU" else "spills"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class PastLoad:
    """One load: what the advisor predicted before it and what /api/ps showed after."""

    model: str
    version: str
    started_at: str
    era: str | None
    predicted_processor: str
    observed_processor: str
    predicted_verdict: str
    observed_verdict: str
    predicted_vram: int | None
    observed_vram: int | None
    margin: int | None  # the free-memory target the prediction used (era C)

    @property
    def error(self) -> int | None:
        """Percentage points between the predicted and the observed GPU share."""
        predicted, observed = gpu_share(self.predicted_processor), gpu_share(self.observed_processor)
        return None if predicted is None or observed is None else abs(predicted - observed)

    @property
    def exact(self) -> bool:
        """Same verdict and the same PROCESSOR string."""
        return self.predicted_verdict == self.observed_verdict and self.predicted_processor == self.observed_processor


def past_load(record: Record) -> PastLoad | None:
    """The load a record saw, with its prediction; None for a warm turn or one missing either side."""
    load = record.load
    predicted = load.predicted
    if load.cold is False or not isinstance(predicted, dict) or not load.processor:
        return None
    processor, verdict = predicted.get("processor"), predicted.get("verdict")
    if not isinstance(processor, str) or not isinstance(verdict, str):
        return None
    inputs = predicted.get("inputs")
    margin = inputs.get("fit_margin") if isinstance(inputs, dict) else None
    return PastLoad(
        model=record.model.name or "(unknown model)",
        version=record.engine.version or UNKNOWN_VERSION,
        started_at=record.started_at,
        era=predicted.get("era") if isinstance(predicted.get("era"), str) else None,
        predicted_processor=processor,
        observed_processor=load.processor,
        predicted_verdict=verdict,
        observed_verdict=observed_verdict(record),
        predicted_vram=_int(predicted.get("size_vram_bytes")),
        observed_vram=_int(load.ps_vram_bytes),
        margin=_int(margin.get("value")) if isinstance(margin, dict) else None,
    )


def on_host(records: Iterable[Record], host_id: str) -> list[PastLoad]:
    """The loads of an Ollama running on the machine of `host_id` (this one), oldest first: never
    another machine's (imported), whatever its name."""
    loads = [
        load
        for record in records
        if record.host.host_id == host_id and not record.engine.remote
        if (load := past_load(record)) is not None
    ]
    return sorted(loads, key=lambda load: load.started_at)


@dataclass(frozen=True)
class VersionCheck:
    """How the predictions for one Ollama version compare with what happened."""

    version: str
    loads: tuple[PastLoad, ...]

    @property
    def exact(self) -> int:
        return sum(load.exact for load in self.loads)

    @property
    def errors(self) -> list[int]:
        return [error for load in self.loads if (error := load.error) is not None]

    @property
    def mean_error(self) -> float | None:
        return statistics.fmean(self.errors) if self.errors else None

    @property
    def max_error(self) -> int | None:
        return max(self.errors, default=None)

    def worst(self, count: int = 3) -> list[PastLoad]:
        """The loads furthest off (by GPU share, then a wrong verdict), newest first among equals."""
        wrong = [load for load in self.loads if not load.exact]
        ranked = sorted(wrong, key=lambda load: (load.error or 0, load.started_at), reverse=True)
        return ranked[:count]


def compare(loads: Iterable[PastLoad]) -> list[VersionCheck]:
    """The loads grouped by Ollama version, oldest version first (an unknown one last)."""
    by_version: dict[str, list[PastLoad]] = {}
    for load in loads:
        by_version.setdefault(load.version, []).append(load)

    def order(version: str) -> tuple[bool, tuple[int, int, int]]:
        return version == UNKNOWN_VERSION, OllamaVersion.parse(version).parts

    return [VersionCheck(version, tuple(by_version[version])) for version in sorted(by_version, key=order)]


def fit_margin(loads: Iterable[PastLoad], version: str) -> Fact[int] | None:
    """The free-memory target that would have made past era C loads at `version` match; None without any.

    Each load where the GPU held part of the model says how far the predicted GPU share was
    off: margin used + (predicted − observed size_vram). The median of those, within
    MARGIN_BOUNDS. Loads that fit wholly in both prediction and reality say nothing of the margin.
    """
    implied = [
        (load.margin if load.margin is not None else FIT_MARGIN) + load.predicted_vram - load.observed_vram
        for load in loads
        if load.version == version
        and load.era == "C"
        and load.predicted_vram is not None
        and load.observed_vram is not None
        and load.observed_vram > 0
        and not (load.predicted_processor == load.observed_processor == "100% GPU")
    ]
    if not implied:
        return None
    low, high = MARGIN_BOUNDS
    margin = int(min(max(statistics.median(implied), low), high))
    count = len(implied)
    return Fact(margin, f"margin from {count} past load{'s' if count != 1 else ''} on this host")


def corrected(machine: Machine, loads: Iterable[PastLoad]) -> Machine:
    """`machine` with the fit margin its past era C loads at the same version imply, when there are any."""
    if Era.of(machine.version.value) is not Era.C:
        return machine
    margin = fit_margin(loads, machine.version.value.text)
    return machine if margin is None else replace(machine, fit_margin=margin)
