"""The named points where ollamon's tuning runs; the entry point, the CLI and the app call only these.

With OLLAMON_NO_TUNING set, no hook does anything. Textual is imported only inside `turn_ended`:
the entry point calls `before_start` before Textual is imported, and the CLI runs without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.perf.collector import pause_collector, resume_collector
from tui.perf.heap import release_freed
from tui.perf.switch import tuning_on

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

# Work that holds the interpreter (a heap trim, a full garbage collection) waits this long after
# the frame it would delay: a turn's last, which drops the lines drawn while it streamed, or the first list's.
RELEASE_AFTER_S = 0.5
START_WAIT_S = 5.0  # at most this long after the first frame without collecting garbage


def before_start() -> None:
    """The entry point, before it imports the app: start-up runs without the collector's passes."""
    if tuning_on():
        pause_collector()


def command_parsed() -> None:
    """A headless command runs with the collector on at once; only the app waits for its first model list."""
    if tuning_on():
        resume_collector()


def app_started(app: App[Any]) -> None:
    """After the app's first frame: start-up ends START_WAIT_S later if no model list has ended it."""
    if tuning_on():
        app.set_timer(START_WAIT_S, resume_collector)


def first_models_shown(app: App[Any]) -> None:
    """A model list is on screen: the first one ends start-up once its frame is out (later ones change nothing)."""
    if tuning_on():
        app.set_timer(RELEASE_AFTER_S, resume_collector)


def turn_ended(app: App[Any], chat_view: Widget) -> None:
    """A turn's last frame is set: the chat and gone widgets drop their drawn lines, then the heap is trimmed."""
    if not tuning_on():
        return
    from tui.perf.drawn_lines import forget_drawn, forget_gone_widgets  # Textual: not imported by the CLI

    forget_drawn(chat_view)
    forget_gone_widgets()
    app.set_timer(RELEASE_AFTER_S, release_freed)
