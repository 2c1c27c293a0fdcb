"""`textual serve`'s driver, told to say when the server is gone rather than fail or wait.

Textual's web driver talks to the server over the process's stdin and stdout. When the server
goes (its process killed, or the SSH session that ran it closed), the driver's input thread
ends at stdin's end without a word, and each frame written after fails with BrokenPipeError:
that error kills the screen's message loop, so nothing is drawn while the timers, the sampler
and the answer go on, and on the way out Textual raises it again before the workers are
stopped, so a running turn's record was never finished. Here either sign posts EndRequested,
and later writes are dropped, so the app ends as ctrl+q does.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from textual.app import App
from textual.drivers.web_driver import WebDriver

from tui.ui.ending import EndRequested


class ServedDriver(WebDriver):
    """The web driver, ending the app when the server's end of stdin or stdout is gone, or the browser left."""

    def __init__(
        self, app: App[Any], *, debug: bool = False, mouse: bool = True, size: tuple[int, int] | None = None
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._gone = False
        # Every packet the driver sends goes through _write (a partial, as Textual types it).
        self._write = partial(self._write_while_read)

    def _write_while_read(self, data: bytes) -> int:
        if not self._gone:
            try:
                return os.write(self.fileno, data)
            except OSError:  # EPIPE: nothing reads stdout any more
                self._server_gone("the server stopped reading")
        return len(data)

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():  # stdin ended before the app did: the server closed it
            self._server_gone("the server closed the app's input")

    def on_meta(self, packet_type: str, payload: dict[str, object]) -> None:
        if packet_type == "quit":  # the browser left: textual serve asks the app to quit
            self.send_message(EndRequested("the browser left"))
        else:
            super().on_meta(packet_type, payload)

    def _server_gone(self, why: str) -> None:
        if not self._gone:
            self._gone = True
            self.send_message(EndRequested(why))
