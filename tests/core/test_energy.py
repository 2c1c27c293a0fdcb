"""Energy arithmetic: integration over uneven ticks, counters, baselines, J/token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.sampling.energy import (
    Baseline,
    BaselineStore,
    counter_delta,
    integrate_watts,
    joules_per_token,
    net_energy,
    tokens_per_joule,
)


class TestIntegration:
    def test_trapezoid_over_uneven_intervals(self) -> None:
        points = [(0.0, 10.0), (0.5, 20.0), (2.0, 20.0), (2.25, 40.0)]
        # 0.5 × 15 + 1.5 × 20 + 0.25 × 30
        assert integrate_watts(points) == pytest.approx(7.5 + 30.0 + 7.5)

    def test_needs_two_points(self) -> None:
        assert integrate_watts([]) is None
        assert integrate_watts([(1.0, 30.0)]) is None


class TestCounterDelta:
    def test_plain_increase(self) -> None:
        assert counter_delta(100, 250, None) == 150

    def test_wrap_adds_the_range_once(self) -> None:
        assert counter_delta(990, 10, 1000) == 20

    def test_unknown_range_or_reset_drops_the_interval(self) -> None:
        assert counter_delta(990, 10, None) is None
        assert counter_delta(5000, 10, 1000) is None  # fell by more than one range: a reset


class TestNetEnergyAndTokens:
    def test_reviewer_example(self) -> None:
        # 32 W at the wall for 10 s with 5 W idle: 270 J above idle.
        assert net_energy(320.0, 5.0, 10.0) == pytest.approx(270.0)

    def test_no_baseline_or_no_energy_means_no_net(self) -> None:
        assert net_energy(320.0, None, 10.0) is None
        assert net_energy(None, 5.0, 10.0) is None

    def test_joules_per_token(self) -> None:
        assert joules_per_token(270.0, 540) == pytest.approx(0.5)
        assert tokens_per_joule(270.0, 540) == pytest.approx(2.0)

    @pytest.mark.parametrize(("energy", "count"), [(270.0, None), (270.0, 0), (None, 540)])
    def test_missing_figures_give_none_never_zero(self, energy: float | None, count: int | None) -> None:
        assert joules_per_token(energy, count) is None
        assert tokens_per_joule(energy, count) is None

    def test_tokens_per_joule_refuses_non_positive_energy(self) -> None:
        assert tokens_per_joule(0.0, 10) is None
        assert tokens_per_joule(-3.0, 10) is None
        assert joules_per_token(-3.0, 10) == pytest.approx(-0.3)  # shown: it says the baseline is off


class TestBaseline:
    def test_median_of_a_quiet_window(self) -> None:
        baseline = Baseline.from_watts("smc", [5.1, 4.9, 30.0, 5.0, 5.2])
        assert baseline == Baseline("smc", 5.1, 5)

    def test_empty_window(self) -> None:
        assert Baseline.from_watts("smc", []) is None

    def test_store_round_trip_per_host_and_source(self, tmp_path: Path) -> None:
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
        (tmp_path / BaselineStore.FILENAME).write_text("{not json")
        store = BaselineStore(tmp_path)
        assert store.get("mac", "smc") is None
        store.set("mac", Baseline("smc", 5.0, 3))
        assert json.loads(store.path.read_text())["hosts"]["mac"]["smc"]["watts"] == 5.0
