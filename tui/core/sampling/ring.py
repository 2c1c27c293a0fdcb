"""A bounded history of (time, value) points for sparklines and windows."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Ring(Generic[T]):
    """The newest `maxlen` (t, value) points, oldest first; appending beyond drops the oldest.

    Readers iterate a snapshot (copied in one C call, so atomic under the GIL): the app may
    tick in a worker thread while the UI thread draws.
    """

    def __init__(self, maxlen: int) -> None:
        self._points: deque[tuple[float, T]] = deque(maxlen=maxlen)

    @property
    def maxlen(self) -> int:
        return self._points.maxlen or 0

    def append(self, t: float, value: T) -> None:
        self._points.append((t, value))

    def __len__(self) -> int:
        return len(self._points)

    def __iter__(self) -> Iterator[tuple[float, T]]:
        return iter(tuple(self._points))

    def values(self) -> list[T]:
        return [value for _, value in tuple(self._points)]

    def between(self, t0: float, t1: float) -> list[tuple[float, T]]:
        """Points with t0 <= t <= t1."""
        return [(t, v) for t, v in tuple(self._points) if t0 <= t <= t1]

    def last(self) -> tuple[float, T] | None:
        return self._points[-1] if self._points else None
