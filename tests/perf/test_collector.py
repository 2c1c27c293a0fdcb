"""The collector paused for start-up comes back frozen-and-on; a pause not taken here is left alone."""

from __future__ import annotations

import gc
import weakref

from tui.perf.collector import pause_collector, resume_collector


def test_a_paused_collector_comes_back_on_with_start_up_frozen() -> None:
    """Resuming turns the collector back on, freezes what start-up made, and only once."""
    pause_collector()
    assert not gc.isenabled()
    made_meanwhile: list[list[object]] = [[] for _ in range(100)]
    assert resume_collector()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made_meanwhile)
    assert not resume_collector()  # once


class Node:
    """Something a weak reference can follow."""

    def __init__(self) -> None:
        self.me = self


def test_what_start_up_threw_away_is_freed_not_frozen() -> None:
    """A cycle dropped during start-up is collected on resume, not frozen."""
    pause_collector()
    thrown_away = Node()  # a cycle: only the collector can free it
    gone = weakref.ref(thrown_away)
    del thrown_away
    resume_collector()
    assert gone() is None


def test_without_a_pause_resuming_touches_nothing() -> None:
    """Resuming without a pause does nothing and freezes nothing."""
    frozen = gc.get_freeze_count()
    assert not resume_collector()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    """A collector turned off before the pause stays off after resuming."""
    gc.disable()
    pause_collector()
    assert not resume_collector()
    assert not gc.isenabled()
