"""Energy arithmetic: integration over uneven ticks, counters, baselines, J/token."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from tui.core.sampling.energy import (
    Baseline,
    BaselineStore,
    counter_delta,
    joules_per_token,
    net_energy,
    span_energy,
    tokens_per_joule,
)
from tui.core.sampling.power.base import PowerReading


def tick(t: float, watts: float | None, energy_j: float | None = None, failed: bool = False) -> SimpleNamespace:
    """A sampler tick as Baseline.from_samples sees it."""
    return SimpleNamespace(t=t, power=None if failed else PowerReading(watts, energy_j, "test"))


class TestIntegration:
    def test_trapezoid_over_uneven_intervals(self) -> None:
        """Energy is the trapezoid area under the watts, whatever the gaps between readings."""
        points = [(t, PowerReading(w, None, "test")) for t, w in [(0.0, 10.0), (0.5, 20.0), (2.0, 20.0), (2.25, 40.0)]]
        # 0.5 × 15 + 1.5 × 20 + 0.25 × 30
        assert span_energy(points)[0] == pytest.approx(7.5 + 30.0 + 7.5)

    def test_needs_two_points(self) -> None:
        """Fewer than two readings give no energy, not zero."""
        assert span_energy([])[0] is None
        assert span_energy([(1.0, PowerReading(30.0, None, "test"))])[0] is None


class TestCounterDelta:
    def test_plain_increase(self) -> None:
        """A counter that rose gives the difference."""
        assert counter_delta(100, 250, None) == 150

    def test_wrap_adds_the_range_once(self) -> None:
        """A counter that wrapped past its known range adds the range once."""
        assert counter_delta(990, 10, 1000) == 20

    def test_unknown_range_or_reset_drops_the_interval(self) -> None:
        """A fall with no known range, or by more than the range, drops the interval."""
        assert counter_delta(990, 10, None) is None
        assert counter_delta(5000, 10, 1000) is None  # fell by more than one range: a reset

    def test_negative_readings_are_not_energy(self) -> None:
        """A negative reading (INT64_MIN included) drops the interval instead of wrapping."""
        assert counter_delta(-(2**63), 10, 2**64) is None  # INT64_MIN: unreadable, not a wrap
        assert counter_delta(10, -5, 1000) is None


class TestSpanEnergy:
    def test_counter_delta_when_every_reading_counts(self) -> None:
        """With every counter reading present the span's energy is the counter's delta."""
        readings = [(0.0, PowerReading(None, 0.0, "x")), (2.0, PowerReading(9.0, 30.0, "x"))]
        assert span_energy(readings) == (30.0, 2.0)

    def test_a_dropped_interval_integrates_the_watts_instead(self) -> None:
        """A dropped counter interval makes the span's energy the integral of its watts."""
        readings = [
            (0.0, PowerReading(10.0, 0.0, "x")),
            (1.0, PowerReading(None, None, "x")),
            (2.0, PowerReading(10.0, 10.0, "x")),
        ]
        # The counter lost the dropped second (10 J for 2 s); the watts say 20 J.
        assert span_energy(readings) == (20.0, 2.0)

    def test_a_dropped_interval_is_estimated_and_the_counter_kept_elsewhere(self) -> None:
        """A dropped interval is estimated from the watts beside it; the rest of the span stays the counter's."""
        # A rail that publishes every 2 s (0 then 20 W per tick), with the interval ending at t=3
        # dropped. The counter says 20 J up to t=2 and 10 J from t=4 to t=5; the lost 2 s are
        # estimated from the 20 W before and the 10 W after them: 30 J.
        readings = [
            (0.0, PowerReading(None, 0.0, "x")),
            (1.0, PowerReading(0.0, 0.0, "x")),
            (2.0, PowerReading(20.0, 20.0, "x")),
            (3.0, PowerReading(None, None, "x")),
            (4.0, PowerReading(10.0, 30.0, "x")),
            (5.0, PowerReading(10.0, 40.0, "x")),
        ]
        assert span_energy(readings) == pytest.approx((20.0 + 30.0 + 10.0, 5.0))

    def test_a_gap_with_no_watts_around_it_has_no_energy(self) -> None:
        """A dropped interval with no watts on either side leaves the energy blank, not a guess."""
        readings = [
            (0.0, PowerReading(None, 0.0, "x")),
            (1.0, PowerReading(None, None, "x")),
            (2.0, PowerReading(None, 5.0, "x")),
        ]
        assert span_energy(readings) == (None, 0.0)


class TestNetEnergyAndTokens:
    def test_32_w_for_10_s_over_5_w_idle(self) -> None:
        """The worked example: 32 W at the wall for 10 s over 5 W idle is 270 J above idle."""
        # 32 W at the wall for 10 s with 5 W idle: 270 J above idle.
        assert net_energy(320.0, 5.0, 10.0) == pytest.approx(270.0)

    def test_no_baseline_or_no_energy_means_no_net(self) -> None:
        """Without a baseline or without measured energy there is no net energy."""
        assert net_energy(320.0, None, 10.0) is None
        assert net_energy(None, 5.0, 10.0) is None

    def test_joules_per_token(self) -> None:
        """270 J over 540 tokens is 0.5 J/token and 2 tokens/J."""
        assert joules_per_token(270.0, 540) == pytest.approx(0.5)
        assert tokens_per_joule(270.0, 540) == pytest.approx(2.0)

    @pytest.mark.parametrize(("energy", "count"), [(270.0, None), (270.0, 0), (None, 540)])
    def test_missing_figures_give_none_never_zero(self, energy: float | None, count: int | None) -> None:
        """No energy, no tokens or zero tokens give no per-token figure, never a zero."""
        assert joules_per_token(energy, count) is None
        assert tokens_per_joule(energy, count) is None

    def test_tokens_per_joule_refuses_non_positive_energy(self) -> None:
        """Zero or negative net energy gives no tokens/J; negative J/token is still shown."""
        assert tokens_per_joule(0.0, 10) is None
        assert tokens_per_joule(-3.0, 10) is None
        assert joules_per_token(-3.0, 10) == pytest.approx(-0.3)  # shown: it says the baseline is off


class TestBaseline:
    def test_empty_window(self) -> None:
        """An idle window without samples makes no baseline."""
        assert Baseline.from_samples("smc", []) is None

    def test_from_samples_is_the_energy_of_a_batched_counter(self) -> None:
        """A batched counter's baseline is its energy over the window, not the median tick."""
        # A 10 W rail published every 2 s, read each second: 0, 20, 0, 20 W per tick. The
        # median of the ticks says 0 W (or 20 W); the counter says 40 J over 4 s.
        ticks = [tick(0, None, 0.0), tick(1, 0.0, 0.0), tick(2, 20.0, 20.0), tick(3, 0.0, 20.0), tick(4, 20.0, 40.0)]
        assert Baseline.from_samples("ioreport", ticks) == Baseline("ioreport", 10.0, 5)

    def test_from_samples_integrates_watts_without_counters_and_skips_failed_ticks(self) -> None:
        """Without counters the baseline integrates the watts and skips failed ticks."""
        ticks = [tick(0, 4.0), tick(1, 4.0), tick(1.5, 0, failed=True), tick(2, 4.0), tick(3, 28.0)]
        # 4 + 4 + 16 J over 3 s: a burst in the quiet window counts for its energy, not one vote.
        assert Baseline.from_samples("smc", ticks) == Baseline("smc", 8.0, 4)

    def test_from_samples_needs_a_span(self) -> None:
        """No samples, one sample or only failed ticks make no baseline."""
        assert Baseline.from_samples("smc", []) is None
        assert Baseline.from_samples("smc", [tick(0, 5.0)]) is None
        assert Baseline.from_samples("smc", [tick(0, 0, failed=True), tick(1, 0, failed=True)]) is None

    def test_store_round_trip_per_host_and_source(self, tmp_path: Path) -> None:
        """Baselines are saved per host and source, survive a reopen, and a new one replaces the old."""
        store = BaselineStore(tmp_path / "data")
        assert store.get("mac", "smc") is None
        store.set("mac", Baseline("smc", 5.0, 60))
        store.set("mac", Baseline("ioreport", 1.2, 60))
        store.set("box", Baseline("smc", 7.5, 1, manual=True))
        again = BaselineStore(tmp_path / "data")
        assert again.get("mac", "smc") == Baseline("smc", 5.0, 60)
        assert again.get("mac", "ioreport") == Baseline("ioreport", 1.2, 60)
        assert again.get("box", "smc") == Baseline("smc", 7.5, 1, manual=True)
        assert again.get("box", "ioreport") is None
        store.set("mac", Baseline("smc", 6.0, 30))
        assert again.get("mac", "smc") == Baseline("smc", 6.0, 30)

    def test_corrupt_file_reads_as_empty(self, tmp_path: Path) -> None:
        """A corrupt baseline file reads as empty and the next save rewrites it."""
        (tmp_path / BaselineStore.FILENAME).write_text("{not json")
        store = BaselineStore(tmp_path)
        assert store.get("mac", "smc") is None
        store.set("mac", Baseline("smc", 5.0, 3))
        assert json.loads(store.path.read_text())["hosts"]["mac"]["smc"]["watts"] == 5.0
