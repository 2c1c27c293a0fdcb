"""Prompt tokens served from Ollama's cache (0.30.1+) do not count as evaluated in the prompt rate."""

from __future__ import annotations

import pytest

from tui.core.ollama.stats import DoneStats, prompt_evaluated
from tui.core.records.schema import Counts, TimingMs, compute_rates


def test_the_rate_counts_only_the_tokens_evaluated() -> None:
    """1,000 prompt tokens of which 990 cached, evaluated in 0.1 s: 100 tokens/s, not 10,000."""
    stats = DoneStats(prompt_eval_count=1000, prompt_eval_cached_count=990, prompt_eval_duration=100_000_000)
    assert stats.prompt_evaluated == 10
    assert stats.prompt_eval_rate == pytest.approx(100.0)


def test_an_older_server_keeps_the_figure_it_always_had() -> None:
    """Without a cached count the whole prompt_eval_count is divided by the duration, as before."""
    stats = DoneStats(prompt_eval_count=1000, prompt_eval_duration=100_000_000)
    assert stats.prompt_evaluated == 1000
    assert stats.prompt_eval_rate == pytest.approx(10_000.0)


@pytest.mark.parametrize(
    ("count", "cached", "evaluated"), [(None, 5, None), (10, None, 10), (10, 10, 0), (10, 12, 0), (10, 0, 10)]
)
def test_evaluated_is_the_count_less_the_cache_never_below_zero(
    count: int | None, cached: int | None, evaluated: int | None
) -> None:
    """A cached count above the total (a server's slip) gives 0 evaluated, not a negative number."""
    assert prompt_evaluated(count, cached) == evaluated


def test_the_record_rate_agrees_with_the_live_rate() -> None:
    """The record's prompt_tok_s leaves the cached tokens out, as the timers panel does."""
    stats = DoneStats(prompt_eval_count=400, prompt_eval_cached_count=300, prompt_eval_duration=50_000_000)
    rates = compute_rates(Counts(prompt_tokens=400, prompt_cached_tokens=300), TimingMs(prompt_eval=50.0))
    assert rates.prompt_tok_s == pytest.approx(stats.prompt_eval_rate or 0.0) == pytest.approx(2000.0)
