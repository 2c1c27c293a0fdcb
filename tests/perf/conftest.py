"""Each tuning test starts with the collector as the process had it, and leaves it on and unfrozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tui.perf import collector


@pytest.fixture(autouse=True)
def collector_as_it_was(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No pause left over from another test; after the test, collection is on and nothing frozen."""
    monkeypatch.setattr(collector, "_paused", False)
    yield
    gc.unfreeze()
    gc.enable()
