"""Per-model totals of the turns recorded on this machine, kept as Prometheus counters and
histograms hold them (sums, counts, cumulative buckets), fed one finished record at a time."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field

from tui.core.records.schema import Record, Status

# Upper bounds in seconds (+Inf is implied): from a warm first token to a cold load of a large
# model from disk, and from a short reply to a long reasoning trace.
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
LOAD_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# 200 down to 1 token/s.
PER_TOKEN_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0)

HISTOGRAMS: dict[str, tuple[float, ...]] = {
    "time_to_first_token_seconds": FIRST_TOKEN_BUCKETS,
    "load_seconds": LOAD_BUCKETS,
    "thinking_seconds": DURATION_BUCKETS,
    "answer_seconds": DURATION_BUCKETS,
    "turn_duration_seconds": DURATION_BUCKETS,
    "time_per_output_token_seconds": PER_TOKEN_BUCKETS,
}


@dataclass
class Histogram:
    """Observations in fixed buckets: per-bucket counts (not yet cumulative), their sum and count."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # a value equal to a bound is in it (le)
        self.total += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """(le, count at or below) for each bound and +Inf, as the exposition format lists them."""
        running, out = 0, []
        for bound, count in zip((*map(_le, self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out


def _le(bound: float) -> str:
    return repr(float(bound))


@dataclass
class ModelTotals:
    """One model's turns by status (`cloud_turns` for a cloud model), counters (a counter no turn
    gave a figure for is absent: unknown is not 0) and histograms."""

    turns: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cloud_turns: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    counters: dict[str, float] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(
        default_factory=lambda: {name: Histogram(bounds) for name, bounds in HISTOGRAMS.items()}
    )


class TurnTotals:
    """Totals per model over the finished turns added so far.

    Local turns only feed the figures; a cloud model's turn (computed on another host, so this
    machine's time and energy are not its cost) only counts in `cloud_turns`. Counters add every
    finished turn (a failed turn spent its tokens and energy); histograms observe ok turns, so a
    cancelled answer does not shorten the durations. Energy is left out where Ollama ran on
    another machine: this machine's power was not the answer's cost.
    """

    def __init__(self) -> None:
        self.models: dict[str, ModelTotals] = defaultdict(ModelTotals)
        self.changed: set[str] = set()  # models with turns added since a reader last cleared it

    def add(self, record: Record) -> None:
        model = record.model.name or ""
        status = record.status.value
        totals = self.models[model]
        self.changed.add(model)
        if record.model.remote_host is not None:
            totals.cloud_turns[status] += 1
            return
        totals.turns[status] += 1
        counts, timing, power = record.counts, record.timing_ms, record.power
        thinking, answer = counts.thinking_chars, counts.answer_chars
        tok_s = record.rates.eval_tok_s
        local_power = not record.engine.remote
        added = {
            "input_tokens": counts.prompt_tokens,
            "output_tokens": counts.eval_tokens,
            "output_characters": None if thinking is None and answer is None else (thinking or 0) + (answer or 0),
            # Ollama's eval duration (or the client's estimate), as the record's rate was worked out.
            "eval_seconds": counts.eval_tokens / tok_s if counts.eval_tokens and tok_s else None,
            "energy_joules": power.energy_j if local_power else None,
            "net_energy_joules": power.net_energy_j if local_power else None,
        }
        for name, value in added.items():
            if value is not None:
                totals.counters[name] = totals.counters.get(name, 0.0) + value
        if record.status is not Status.OK:
            return
        observed = {
            "time_to_first_token_seconds": _seconds(timing.ttft),
            "load_seconds": _seconds(timing.load) if record.load.cold else None,
            "thinking_seconds": _seconds(timing.thinking),
            "answer_seconds": _seconds(timing.answer),
            "turn_duration_seconds": _seconds(timing.total_wall),
            "time_per_output_token_seconds": 1 / tok_s if tok_s else None,
        }
        for name, value in observed.items():
            if value is not None:
                totals.histograms[name].observe(value)


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000
