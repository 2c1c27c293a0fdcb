"""The panels with the largest figures a user can meet, at every size: nothing is cut."""

from __future__ import annotations

from collections.abc import Iterator

import ollama
import pytest
from textual.pilot import Pilot

from devtools.fake_ollama import FakeOllama, default_models
from tests.helpers.apps import snapshot_app
from tests.helpers.clocks import frozen_wall_clock
from tests.helpers.pilot import settled, steady_cursors, wait_until
from tests.helpers.resources import GB, FakeMemory, FakePower, FakeProcesses, sampler_clock
from tests.helpers.snapshots import SnapCompare
from tui.app import OllamonApp
from tui.core.sampling.sampler import Sampler

GIB, MIB = 2**30, 2**20
LOADED = ["qwen3:8b", "deepseek-r1:1.5b", "deepseek-r1:7b", "llama3.2:3b", "gemma3:1b"]
LONG_WHY = (
    "no power sensor: NVML not found, powercap unreadable without root, no amdgpu hwmon, "
    "no battery, and no --power-cmd given"
)


@pytest.fixture
def crowded() -> Iterator[FakeOllama]:
    # Pinned: the snapshots show "Ollama 0.12.6" and that release's figures.
    server = FakeOllama(
        default_models(), rate=5000.0, nominal_stats=True, wall_clock=frozen_wall_clock, version="0.12.6"
    ).start()
    client = ollama.Client(host=server.url)
    for name in LOADED:
        client.generate(model=name, keep_alive=-1)  # held forever: no "unloads in" that moves
    yield server
    server.stop()


def worst_sampler() -> Sampler:
    memory = FakeMemory(
        [127.8 * GIB / GB] * 3,
        [1023.9 * MIB / GB] * 3,
        total_gb=127.9 * GIB / GB,
        swap_total_gb=63.9 * GIB / GB,
        pressure="critical",
    )
    sampler = Sampler(
        memory,
        FakeProcesses([127.5 * GIB / GB] * 3, [None, 399.0, 799.5]),
        [FakePower(None, why=LONG_WHY)],
        clock=sampler_clock(),
        wall_clock=lambda: 1_700_000_000.0,
        timer=lambda: 0.0,
    )
    for _ in range(3):
        sampler.tick()
    return sampler


async def settle(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, OllamonApp)
    await wait_until(pilot, lambda: bool(app.models) and bool(app.resources.loaded))
    await wait_until(pilot, lambda: settled(app))
    steady_cursors(app)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48), (200, 60)])
class TestWorstCase:
    def test_crowded_machine(self, snap_compare: SnapCompare, crowded: FakeOllama, size: tuple[int, int]) -> None:
        """127.9 GiB of RAM nearly full, 1023.9 MiB of swap, five models loaded, a long power reason."""
        assert snap_compare(
            snapshot_app(crowded.url, idle_watts=None, sampler=worst_sampler()), terminal_size=size, run_before=settle
        )
