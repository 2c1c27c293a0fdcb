"""Past predictions beside what happened: the per-version comparison and the margin it implies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.records import record
from tui.core.fit.check import (
    FIT_MARGIN,
    compare,
    cpu_share,
    fit_margin,
    gpu_share,
    observed_verdict,
    on_host,
    past_load,
)
from tui.core.fit.inputs import GIB, MIB
from tui.core.ollama.errors import ErrorKind
from tui.core.records.schema import EngineInfo, HostInfo, LoadInfo, Record, Resources, Status


def predicted(processor: str, verdict: str, vram: int = 0, era: str = "C", margin: int | None = None) -> dict[str, Any]:
    """A `Fit.to_json()` as a record keeps it, with the fields the check reads."""
    inputs = {} if margin is None else {"fit_margin": {"value": margin, "source": "test"}}
    return {"processor": processor, "verdict": verdict, "size_vram_bytes": vram, "era": era, "inputs": inputs}


def load(
    processor: str,
    guess: dict[str, Any] | None,
    *,
    version: str = "0.33.0",
    vram: int = 0,
    cold: bool | None = True,
    host: str = "box",
    started_at: str = "2025-01-01T00:00:00.000Z",
    **fields: Any,
) -> Record:
    """A turn that loaded the model, with its prediction and what /api/ps showed; `host`: its machine's name and id."""
    info = LoadInfo(cold=cold, processor=processor, ps_vram_bytes=vram, predicted=guess)
    machine = HostInfo(hostname=host, host_id=host)
    return record(host=machine, started_at=started_at, load=info, engine=EngineInfo(version=version), **fields)


def test_gpu_and_cpu_shares_are_read_from_processor_strings() -> None:
    """`ollama ps` strings give the GPU share; anything else gives none."""
    assert [gpu_share(p) for p in ("100% GPU", "100% CPU", "26%/74% CPU/GPU", "Unknown", None)] == [
        100,
        0,
        74,
        None,
        None,
    ]
    assert cpu_share("22%/78% CPU/GPU") == "22% CPU" and cpu_share("100% GPU") == "0% CPU"


def test_what_happened_is_read_as_a_verdict() -> None:
    """All on the GPU fits, a split spills, swap growth or running out of memory swaps."""
    assert observed_verdict(load("100% GPU", None)) == "fits"
    assert observed_verdict(load("26%/74% CPU/GPU", None)) == "spills"
    swapped = load("26%/74% CPU/GPU", None, resources=Resources(swap_used_start_bytes=0, swap_used_peak_bytes=2 * GIB))
    assert observed_verdict(swapped) == "swaps"
    failed = load("26%/74% CPU/GPU", None, status=Status.FAILED, error_kind=ErrorKind.OUT_OF_MEMORY)
    assert observed_verdict(failed) == "swaps"


def test_warm_turns_and_turns_without_a_prediction_are_no_loads() -> None:
    """Only a turn that loaded the model, with a prediction and an observed split, counts."""
    assert past_load(load("100% GPU", predicted("100% GPU", "fits"), cold=False)) is None
    assert past_load(load("100% GPU", None)) is None
    assert past_load(load("", predicted("100% GPU", "fits"))) is None
    assert past_load(load("100% GPU", {"processor": 3})) is None  # a damaged prediction is skipped
    assert past_load(load("100% GPU", predicted("100% GPU", "fits"), cold=None)) is not None


def test_the_check_counts_exact_matches_and_errors_per_version() -> None:
    """Per version: loads, exact matches, mean and max error in GPU points, and the worst case first."""
    records = [
        load("100% GPU", predicted("100% GPU", "fits"), version="0.12.6"),
        load("26%/74% CPU/GPU", predicted("26%/74% CPU/GPU", "spills"), version="0.12.6"),
        load("100% GPU", predicted("100% GPU", "fits")),
        load("26%/74% CPU/GPU", predicted("22%/78% CPU/GPU", "spills"), started_at="2025-01-02T00:00:00.000Z"),
        load("40%/60% CPU/GPU", predicted("30%/70% CPU/GPU", "spills"), started_at="2025-01-03T00:00:00.000Z"),
        load("100% GPU", predicted("100% GPU", "fits"), host="other"),  # another machine's Ollama
    ]
    old, new = compare(on_host(records, "box"))
    assert (old.version, len(old.loads), old.exact, old.mean_error, old.max_error) == ("0.12.6", 2, 2, 0, 0)
    assert (new.version, len(new.loads), new.exact, new.max_error) == ("0.33.0", 3, 1, 10)
    assert new.mean_error == pytest.approx(14 / 3)
    assert [(w.observed_processor, w.error) for w in new.worst()] == [("40%/60% CPU/GPU", 10), ("26%/74% CPU/GPU", 4)]
    assert old.worst() == []


def test_a_wrong_verdict_is_not_exact() -> None:
    """The same split with a swap that was not predicted is not an exact match."""
    swapped = load(
        "26%/74% CPU/GPU",
        predicted("26%/74% CPU/GPU", "spills"),
        resources=Resources(swap_used_start_bytes=0, swap_used_peak_bytes=3 * GIB),
    )
    (check,) = compare(on_host([swapped], "box"))
    assert (check.exact, check.max_error, len(check.worst())) == (0, 0, 1)


def test_an_unknown_version_sorts_last() -> None:
    """Versions sort by number, a load without one comes last."""
    records = [load("100% GPU", predicted("100% GPU", "fits"), version=v) for v in ("", "0.33.0", "0.9.6", "0.12.6")]
    assert [c.version for c in compare(on_host(records, "box"))] == ["0.9.6", "0.12.6", "0.33.0", "unknown"]


def test_the_margin_is_what_would_have_matched_past_loads() -> None:
    """The margin is the median of margin + (predicted − observed GPU bytes) over era C loads at the version."""
    records = [
        # Predicted 300 MiB more on the GPU than llama.cpp put there, twice; 500 MiB once.
        load("40%/60% CPU/GPU", predicted("38%/62% CPU/GPU", "spills", 9000 * MIB), vram=8700 * MIB),
        load("40%/60% CPU/GPU", predicted("38%/62% CPU/GPU", "spills", 9000 * MIB), vram=8700 * MIB),
        load("45%/55% CPU/GPU", predicted("40%/60% CPU/GPU", "spills", 9000 * MIB), vram=8500 * MIB),
        load("100% GPU", predicted("100% GPU", "fits", 4000 * MIB), vram=4000 * MIB),  # says nothing
        load("40%/60% CPU/GPU", predicted("38%/62% CPU/GPU", "spills", 9000 * MIB), vram=1, version="0.31.0"),
        load("40%/60% CPU/GPU", predicted("38%/62% CPU/GPU", "spills", 9000 * MIB, era="B"), vram=1),
    ]
    margin = fit_margin(on_host(records, "box"), "0.33.0")
    assert margin is not None and margin.value == FIT_MARGIN + 300 * MIB
    assert margin.source == "margin from 3 past loads on this host"
    assert fit_margin(on_host(records, "box"), "0.30.0") is None


def test_the_margin_starts_from_the_one_each_prediction_used_and_is_bounded() -> None:
    """A prediction that used a corrected margin is corrected from it; the result stays within 0 and 4 GiB."""
    used = load("40%/60% CPU/GPU", predicted("38%/62% CPU/GPU", "spills", 9 * GIB, margin=2 * GIB), vram=9 * GIB)
    margin = fit_margin(on_host([used], "box"), "0.33.0")
    assert margin is not None and margin.value == 2 * GIB and margin.source == "margin from 1 past load on this host"
    fit_all = load("100% GPU", predicted("30%/70% CPU/GPU", "spills", 7 * GIB), vram=12 * GIB)
    low = fit_margin(on_host([fit_all], "box"), "0.33.0")
    assert low is not None and low.value == 0
