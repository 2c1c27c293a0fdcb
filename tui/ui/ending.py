"""How the app ends when no key asks it to: SIGTERM or SIGHUP, or the browser or `textual serve` gone.

Each way posts EndRequested; the app then ends as ctrl+q does, an answer in flight stopped and its
record finished first.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# What signal.signal takes and returns.
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class EndRequested(Message):
    """Something other than a key asks the app to end: a signal, or the browser or server gone."""

    def __init__(self, why: str) -> None:
        super().__init__()
        self.why = why


class ExitSignals:
    """SIGTERM and SIGHUP end the app, whatever its driver.

    Handled by the interpreter, not in the event loop: the handler still runs while the loop is
    stuck (in a write to a server that no longer reads), and with `deadline` set the process exits
    that many seconds after the first signal, whether the app managed to end cleanly or not.
    """

    def __init__(self, app: App[Any], *, deadline: float | None = None) -> None:
        self._app = app
        self._loop = asyncio.get_running_loop()
        self._deadline = deadline
        self._previous: dict[signal.Signals, Handler] = {}
        self._timer: threading.Timer | None = None

    def install(self) -> None:
        for number in EXIT_SIGNALS:
            # Textual's web driver hands SIGTERM to the loop, to exit without stopping the turn: ours instead.
            self._loop.remove_signal_handler(number)
            self._previous[number] = signal.signal(number, self._received)

    def uninstall(self) -> None:
        """Back to the handlers from before; a deadline already running keeps running."""
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        self._previous.clear()

    def _received(self, number: int, _frame: FrameType | None) -> None:
        self._loop.call_soon_threadsafe(self._app.post_message, EndRequested(signal.Signals(number).name))
        if self._deadline is not None and self._timer is None:
            # A shell reports a process ended by a signal as 128 + its number.
            self._timer = threading.Timer(self._deadline, os._exit, (128 + number,))
            self._timer.daemon = True
            self._timer.start()
