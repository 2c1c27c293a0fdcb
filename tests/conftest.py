"""Shared fixtures: a neutral environment, snapshot files in snapshots/, the fake Ollama server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_textual_snapshot
from syrupy.location import PyTestLocation

from devtools.fake_ollama import FakeOllama, deepseek_r1_sweep_models, default_models
from tests.helpers.clocks import StepClock, frozen_wall_clock
from tests.helpers.environment import LEAKY_VARIABLES, neutral_directories
from tui.perf.switch import tuning_on

SNAPSHOT_ROOT = Path(__file__).resolve().parents[1] / "snapshots"


class TopLevelSnapshots(pytest_textual_snapshot.SVGImageExtension):
    """Keep UI snapshots in the top-level snapshots/<test module>/ folder."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(SNAPSHOT_ROOT / Path(test_location.filepath).stem)


# snap_compare looks the extension up on the module at call time.
pytest_textual_snapshot.SVGImageExtension = TopLevelSnapshots


@pytest.fixture(autouse=True)
def neutral_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user config, host, colour or tuning settings leak into a test."""
    for name in LEAKY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    tuning_on.cache_clear()  # the switch is read once a process: read it again without the user's setting
    for name, value in neutral_directories(tmp_path).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def snapshot_server() -> Iterator[FakeOllama]:
    """The fake server for UI snapshots: on a free port, stats independent of timing, frozen wall clock."""
    # Pinned: the snapshots show "Ollama 0.12.6" and that release's figures.
    server = FakeOllama(
        default_models(), rate=5000.0, nominal_stats=True, wall_clock=frozen_wall_clock, version="0.12.6"
    ).start()
    yield server
    server.stop()


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """A real HTTP server on 127.0.0.1 speaking Ollama's wire format, fast enough for tests."""
    # Pinned: app tests assert the version they were written against (status line, doctor, records).
    server = FakeOllama(default_models(), rate=2000.0, version="0.12.6").start()
    yield server
    server.stop()


@pytest.fixture
def sweep_ollama() -> Iterator[FakeOllama]:
    """The fake server with the eleven DeepSeek-R1 variants of the Mac mini M4 16 GB sweep."""
    # Pinned: the sweep ran on Ollama 0.12.6, and the fit predictions follow the server's version.
    server = FakeOllama(deepseek_r1_sweep_models(), rate=2000.0, version="0.12.6").start()
    yield server
    server.stop()


@pytest.fixture
def sweep_snapshot_server() -> Iterator[FakeOllama]:
    """`sweep_ollama` for UI snapshots: stats independent of timing, frozen wall clock."""
    # Pinned: the sweep ran on Ollama 0.12.6; the snapshots show that release's predictions.
    server = FakeOllama(
        deepseek_r1_sweep_models(), rate=5000.0, nominal_stats=True, wall_clock=frozen_wall_clock, version="0.12.6"
    ).start()
    yield server
    server.stop()


@pytest.fixture
def step_clock() -> StepClock:
    """A fresh clock that steps 50 ms on every reading."""
    return StepClock()
