"""Turn timers on an injected clock, and Ollama's rates from nanosecond stats."""

import pytest

from tests.helpers.clocks import ManualClock
from tui.core.chat.timers import TurnTimer
from tui.core.ollama.stats import DoneStats


def test_thinking_then_answer_times() -> None:
    """TTFT, thinking, answer and total times and char rates come from the chunk times, not the end."""
    clock = ManualClock()
    timer = TurnTimer(clock)
    clock.now = 100.5
    timer.thinking("想一想")
    clock.now = 102.5
    timer.answer("答案是四十二")
    clock.now = 104.5
    timer.answer("。")
    clock.now = 109.0  # bookkeeping after the last chunk does not count
    timer.end()
    times = timer.times()
    assert times.ttft == pytest.approx(0.5)
    assert times.thinking == pytest.approx(2.0)
    assert times.answer == pytest.approx(2.0)
    assert times.total == pytest.approx(4.5)
    assert times.thinking_chars == 3 and times.answer_chars == 7
    assert times.chars_per_s == pytest.approx(10 / 4.0)
    assert times.answer_chars_per_s == pytest.approx(3.5)


def test_model_without_thinking_has_no_thinking_time() -> None:
    """A turn with no thinking has no thinking time and no char rate."""
    clock = ManualClock()
    timer = TurnTimer(clock)
    clock.now = 101.0
    timer.answer("hi")
    timer.end()
    assert timer.times().thinking is None
    assert timer.times().answer == 0.0
    assert timer.times().chars_per_s is None


def test_live_times_grow_until_end() -> None:
    """Before the turn ends its times read up to the clock's now."""
    clock = ManualClock()
    timer = TurnTimer(clock)
    clock.now = 101.0
    timer.thinking("x")
    clock.now = 103.0
    assert timer.times().thinking == pytest.approx(2.0)
    assert timer.times().total == pytest.approx(3.0)


def test_lone_close_reclassifies() -> None:
    """Answer text later found to be thinking counts its time and chars as thinking."""
    clock = ManualClock()
    timer = TurnTimer(clock)
    clock.now = 101.0
    timer.answer("reason")
    clock.now = 103.0
    timer.answer_was_thinking("reasoning")
    clock.now = 104.0
    timer.answer("ok")
    timer.end()
    times = timer.times()
    assert times.thinking == pytest.approx(3.0)
    assert times.answer == pytest.approx(0.0)
    assert times.thinking_chars == 9 and times.answer_chars == 2


def test_rates_use_float_durations() -> None:
    """Eval and prompt rates divide by exact durations; zero or missing durations give no rate."""
    stats = DoneStats(
        eval_count=1000, eval_duration=1_500_000_000, prompt_eval_count=26, prompt_eval_duration=130_079_000
    )
    assert stats.eval_rate == pytest.approx(666.6667, rel=1e-6)
    assert stats.prompt_eval_rate == pytest.approx(199.878, rel=1e-4)
    assert DoneStats(eval_count=5, eval_duration=0).eval_rate is None
    assert DoneStats().eval_rate is None
