"""The record store read incrementally into per-model totals: only turns finished since the last read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui.core.metrics.turns import TurnTotals
from tui.core.records.files import StoreError
from tui.core.records.rows import TurnCursor
from tui.core.records.store import RecordStore


class TurnFeed:
    """This host's finished turns from the store at `path`, added to `totals` once each.

    The store is opened on the first update and again after a failure; the first update reads
    the whole history (the counters start from every past turn), later ones only what is new.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.totals = TurnTotals()
        self.problem = ""
        self._store: RecordStore | None = None
        self._cursor = TurnCursor()

    def update(self) -> bool:
        """Add the turns finished since the last update; False, and `problem` says why, if the store is unreadable."""
        try:
            if self._store is None:
                self._store = RecordStore.open(self.path)
            records, self._cursor = self._store.finished_since(self._cursor)
        except (StoreError, sqlite3.Error) as exc:
            self.problem = str(exc)
            self.close()
            return False
        for record in records:
            self.totals.add(record)
        self.problem = ""
        return True

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()
