"""A sweep's comparison table: one row per model, medians with their spread, like the Mac mini M4 16 GB sweep's.

Warm-up runs count nowhere. Timings and rates are over ok runs; peaks over every finished run
(a failed run's swap matters); the load is over runs that really loaded the model.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields

from tui.core.ollama.sanitize import strip_controls
from tui.core.records.export import csv_text, text_table
from tui.core.records.formats import SWEEP_FORMATS
from tui.core.records.schema import Record, Status
from tui.core.units import human_bytes, memory_bytes

# tok/s varying by more than this share of its median between repetitions is worth a warning.
SPREAD_WARNING = 0.10
MIN_RUNS = 3


@dataclass(frozen=True)
class Spread:
    """A figure over a model's runs: median, standard deviation (None for one run), min and max."""

    median: float
    sd: float | None
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Spread | None:
        found = [v for v in values if v is not None]
        if not found:
            return None
        sd = statistics.stdev(found) if len(found) > 1 else None
        return cls(statistics.median(found), sd, min(found), max(found), len(found))

    @property
    def relative_range(self) -> float:
        return (self.high - self.low) / self.median if self.median else 0.0


@dataclass(frozen=True)
class SweepRow:
    """One model in one sweep."""

    model: str
    digest: str | None
    quant: str | None
    file_size_bytes: int | None
    loaded_size_bytes: int | None
    processor: str | None
    load_warm: bool | None  # True: no run of this model had to load it
    load_ms: Spread | None
    ollama_load_ms: Spread | None
    ttft_ms: Spread | None
    first_answer_ms: Spread | None
    thinking_ms: Spread | None
    answer_ms: Spread | None
    total_ms: Spread | None
    eval_tok_s: Spread | None
    prompt_tok_s: Spread | None
    chars_s: Spread | None
    mem_peak_bytes: int | None
    swap_peak_bytes: int | None
    ollama_mem_peak_bytes: int | None
    swap_growth_bytes: int | None
    swapped: bool
    net_w: Spread | None
    gross_w: Spread | None
    j_per_token: Spread | None
    gross_j_per_token: Spread | None
    budget_exhausted: int
    ok: int
    failed: int
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    remote_host: str | None = None  # a cloud model's host: computed there, so no local cost


def _first_answer(record: Record) -> float | None:
    timing = record.timing_ms
    if timing.ttft is None:
        return None
    return timing.ttft + (timing.thinking or 0.0) if timing.answer is not None else None


def _max(values: Sequence[int | None]) -> int | None:
    found = [v for v in values if v is not None]
    return max(found) if found else None


# A swap growth above this during a run flags it (as the TUI's swap warning does).
SWAP_FLAG_BYTES = 64 * 1024 * 1024


def sweep_rows(records: Sequence[Record]) -> list[SweepRow]:
    """Rows in the order the models ran (smallest first), cloud models after the local ones."""
    by_model: dict[str, list[Record]] = {}
    for record in records:
        by_model.setdefault(record.model.name or "?", []).append(record)
    rows = [_row(name, runs) for name, runs in by_model.items()]
    return sorted(rows, key=lambda row: row.remote_host is not None)


def _row(name: str, runs: list[Record]) -> SweepRow:
    timed = [r for r in runs if not r.warmup]
    finished = [r for r in timed if r.status is not Status.RUNNING]
    ok = [r for r in finished if r.status is Status.OK]
    loaded = [r for r in ok if r.load.cold]
    latest = runs[-1]
    growth = [
        r.resources.swap_used_peak_bytes - r.resources.swap_used_start_bytes
        for r in finished
        if r.resources.swap_used_peak_bytes is not None and r.resources.swap_used_start_bytes is not None
    ]
    row = SweepRow(
        remote_host=latest.model.remote_host,
        model=name,
        digest=latest.model.digest,
        quant=latest.model.quantization,
        file_size_bytes=latest.model.file_size_bytes,
        loaded_size_bytes=next((r.load.ps_size_bytes for r in reversed(runs) if r.load.ps_size_bytes), None),
        processor=next((r.load.processor for r in reversed(runs) if r.load.processor), None),
        load_warm=(not loaded) if ok else None,
        load_ms=Spread.of([r.load.load_ms for r in loaded]),
        ollama_load_ms=Spread.of([r.load.ollama_load_ms for r in loaded]),
        ttft_ms=Spread.of([r.timing_ms.ttft for r in ok]),
        first_answer_ms=Spread.of([_first_answer(r) for r in ok]),
        thinking_ms=Spread.of([r.timing_ms.thinking for r in ok]),
        answer_ms=Spread.of([r.timing_ms.answer for r in ok]),
        total_ms=Spread.of([r.timing_ms.total_wall for r in ok]),
        eval_tok_s=Spread.of([r.rates.eval_tok_s for r in ok]),
        prompt_tok_s=Spread.of([r.rates.prompt_tok_s for r in ok]),
        chars_s=Spread.of([r.rates.chars_s for r in ok]),
        mem_peak_bytes=_max([r.resources.mem_used_peak_bytes for r in finished]),
        swap_peak_bytes=_max([r.resources.swap_used_peak_bytes for r in finished]),
        ollama_mem_peak_bytes=_max([r.resources.ollama_rss_peak_bytes for r in finished]),
        swap_growth_bytes=max(growth) if growth else None,
        swapped=any(g > SWAP_FLAG_BYTES for g in growth),
        net_w=Spread.of([r.power.net_mean_w for r in ok]),
        gross_w=Spread.of([r.power.mean_w for r in ok]),
        j_per_token=Spread.of([r.power.j_per_token for r in ok]),
        gross_j_per_token=Spread.of([r.power.gross_j_per_token for r in ok]),
        budget_exhausted=sum(1 for r in finished if r.error and "whole budget" in r.error),
        ok=len(ok),
        failed=sum(1 for r in finished if r.status in (Status.FAILED, Status.TIMEOUT)),
        errors=sorted(
            {f"{r.error_kind.value if r.error_kind else r.status.value}: {r.error}" for r in finished if r.error}
        ),
    )
    row.warnings.extend(_warnings(row))
    return row


def sweep_notes(rows: Sequence[SweepRow]) -> list[str]:
    """What a reader of the table should know: each row's warnings, and thin medians once."""
    thin = [row.model for row in rows if 0 < row.ok < MIN_RUNS]
    notes = [w for row in rows for w in row.warnings]
    if thin:
        notes.append(f"fewer than {MIN_RUNS} ok runs (medians are thin): {', '.join(thin)}")
    return notes


def _warnings(row: SweepRow) -> list[str]:
    found = []
    if row.eval_tok_s is not None and row.eval_tok_s.n > 1 and row.eval_tok_s.relative_range > SPREAD_WARNING:
        found.append(f"{row.model}: tok/s varies by {row.eval_tok_s.relative_range:.0%} between runs")
    if row.swapped:
        found.append(f"{row.model}: swap grew by {memory_bytes(row.swap_growth_bytes)} during a run")
    if row.budget_exhausted:
        found.append(f"{row.model}: thinking used the whole budget in {row.budget_exhausted} run(s)")
    return found


# --- text forms ------------------------------------------------------------------


def _fmt(spread: Spread | None, show: Callable[[float], str]) -> str:
    if spread is None:
        return "n/a"
    if spread.sd is None:
        return show(spread.median)
    return f"{show(spread.median)} ±{show(spread.sd)}"


def _secs(ms: float) -> str:
    return f"{ms / 1000:.2f} s"


def _load(row: SweepRow) -> str:
    if row.load_warm:
        return "warm"
    return _fmt(row.load_ms, _secs)


_COLUMNS: list[tuple[str, Callable[[SweepRow], str]]] = [
    ("Model", lambda r: r.model),
    ("Quant", lambda r: r.quant or "n/a"),
    ("File", lambda r: human_bytes(r.file_size_bytes)),
    ("Loaded", lambda r: human_bytes(r.loaded_size_bytes)),
    ("Processor", lambda r: r.processor or ("cloud" if r.remote_host else "n/a")),
    ("Load", _load),
    ("Total", lambda r: _fmt(r.total_ms, _secs)),
    ("chars/s", lambda r: _fmt(r.chars_s, lambda v: f"{v:.1f}")),
    ("tok/s", lambda r: _fmt(r.eval_tok_s, lambda v: f"{v:.1f}")),
    ("Mem peak", lambda r: memory_bytes(r.mem_peak_bytes)),
    ("Swap peak", lambda r: memory_bytes(r.swap_peak_bytes) + (" ⚠" if r.swapped else "")),
    ("W", lambda r: _fmt(r.gross_w, lambda v: f"{v:.1f}")),
    ("Net W", lambda r: _fmt(r.net_w, lambda v: f"{v:.1f}")),
    ("J/token", lambda r: _fmt(r.gross_j_per_token, lambda v: f"{v:.3f}")),
    ("Net J/token", lambda r: _fmt(r.j_per_token, lambda v: f"{v:.3f}")),
    ("ok", lambda r: str(r.ok)),
    ("failed", lambda r: str(r.failed)),
]


def _csv_columns() -> list[str]:
    """Every column of the csv form, the same whatever the rows: a figure over runs is always
    its median, sd, low, high and n, blank for a model without ok runs."""
    parts = [f.name for f in fields(Spread)]
    columns = ["sweep_id"]
    for f in fields(SweepRow):
        spread = "Spread" in str(f.type)
        columns += [f"{f.name}.{part}" for part in parts] if spread else [f.name]
    return columns


def _flat(row: SweepRow) -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in asdict(row).items():
        if isinstance(value, dict):
            for part, number in value.items():
                flat[f"{key}.{part}"] = number
        elif isinstance(value, list):
            flat[key] = "; ".join(value)
        elif value is not None:
            flat[key] = value
    return flat


def render(rows: Sequence[SweepRow], fmt: str, *, sweep_id: str, width: int | None = None) -> str:
    """The table in one of SWEEP_FORMATS; csv and json carry every figure and its spread."""
    if fmt not in SWEEP_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(SWEEP_FORMATS)}")
    if fmt == "json":
        return (
            json.dumps({"sweep_id": sweep_id, "models": [asdict(r) for r in rows]}, ensure_ascii=False, indent=2) + "\n"
        )
    if fmt == "csv":
        flat = [{"sweep_id": sweep_id, **_flat(r)} for r in rows]
        return csv_text(flat, _csv_columns())
    cells = [[strip_controls(get(row)) for _, get in _COLUMNS] for row in rows]
    return text_table([name for name, _ in _COLUMNS], cells, fmt, width=width, least_needed=_LEAST_NEEDED)


# Left out first when a terminal is too narrow for the whole table.
_LEAST_NEEDED = ("Quant", "Net J/token", "Net W", "J/token", "W", "File", "Loaded", "Swap peak", "Mem peak", "chars/s")
