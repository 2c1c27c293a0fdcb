"""Figures defined once: the live timers and the record agree on chars/s, every view on durations."""

from __future__ import annotations

import pytest

from tests.helpers.records import turn
from tui.core import units
from tui.core.chat.timers import TurnTimes
from tui.core.records.export import export_rows, turn_figures
from tui.core.records.rows import record_row
from tui.core.records.schema import Counts, TimingMs, chars_per_s, compute_rates
from tui.ui.history.turns_table import COLUMNS, row_cells


@pytest.mark.parametrize(
    ("thinking_chars", "answer_chars", "thinking_s", "answer_s"),
    [
        (0, 0, None, 1.5),  # an empty answer: no rate, not 0.0
        (0, 0, 0.4, 0.6),
        (0, 12, None, 0.0),
        (300, 700, 1.5, 2.5),
        (0, 700, None, 2.5),
        (40, 0, 2.0, None),
    ],
)
def test_record_and_live_chars_per_second_agree(
    thinking_chars: int, answer_chars: int, thinking_s: float | None, answer_s: float | None
) -> None:
    """The record's chars/s and answer chars/s are the live timers' figures, for every mix of parts."""
    live = TurnTimes(None, thinking_s, answer_s, 5.0, thinking_chars, answer_chars, 3)
    ms = [None if s is None else s * 1000 for s in (thinking_s, answer_s)]
    assert chars_per_s(thinking_chars, answer_chars, *ms) == live.chars_per_s
    rates = compute_rates(
        Counts(thinking_chars=thinking_chars, answer_chars=answer_chars), TimingMs(thinking=ms[0], answer=ms[1])
    )
    assert rates.chars_s == live.chars_per_s
    assert rates.answer_chars_s == live.answer_chars_per_s


def test_an_empty_answer_records_no_rate() -> None:
    """An empty answer records no chars/s rather than 0."""
    rates = compute_rates(Counts(thinking_chars=0, answer_chars=0), TimingMs(answer=1500.0))
    assert rates.chars_s is None and rates.answer_chars_s is None


@pytest.mark.parametrize(("ms", "shown"), [(120.0, "120 ms"), (1520.0, "1.52 s"), (125_000.0, "2m05.0s")])
def test_history_and_f2_write_durations_alike(ms: float, shown: str) -> None:
    """The history table, Markdown export and F2 detail write a duration as the timers do."""
    record = turn(0)
    record.timing_ms.total_wall = ms
    total = [column.key for column in COLUMNS].index("total")
    assert units.milliseconds(ms) == shown
    assert row_cells(record_row(record), None)[total].plain == shown
    assert f"| {shown} |" in export_rows([record_row(record)], "md")
    assert f"total {shown}" in turn_figures(record)
