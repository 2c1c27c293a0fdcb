"""Build the app the way the CLI does (engine, monitor, session), with test doubles injected."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tests.helpers.clocks import StepClock, frozen_wall_clock
from tests.helpers.resources import NORMAL, Scenario, scenario_sampler
from tui.app import OllamonApp, stylesheet_paths
from tui.core.chat.recorder import TurnRecorder
from tui.core.chat.session import ChatSession
from tui.core.fit.what_if import WhatIf
from tui.core.ollama.client import OllamaEngine
from tui.core.records.schema import HostInfo
from tui.core.records.store import RecordStore
from tui.core.sampling.energy import BaselineStore
from tui.core.sampling.monitor import ResourceMonitor
from tui.core.sampling.sampler import Sampler

# Snapshots show the server's URL: the same name on every run, whatever free port the server got.
SHOWN_HOST = "http://127.0.0.1:11434"


def make_app(
    url: str,
    *,
    clock: Callable[[], float] | None = None,
    engine_clock: Callable[[], float] = time.monotonic,
    scenario: Scenario | None = None,
    ticks: int = 3,
    sample_interval: float | None = None,
    sampler: Sampler | None = None,
    idle_watts: float | None = None,
    baselines: BaselineStore | None = None,
    recorder: TurnRecorder | None = None,
    fit_machine: WhatIf | None = None,
    display_host: str | None = None,
    live: bool = False,
    retry_interval: float = 0.1,
    refresh_interval: float = 0.2,
    **app_options: Any,
) -> OllamonApp:
    """The chat app on `url`, quick to retry and refresh, with no live sampling and a StepClock for its timers.

    `clock=time.monotonic` times real waits (a load delay). `scenario` ticks `ticks` readings into a
    fake sampler (`sample_interval` apart once the app samples), `sampler` brings one of its own;
    without either the app reads this machine. The fit advisor is off unless `fit_machine`
    describes a machine: this machine's own GPU and RAM would make the marks differ from one test
    machine to the next. `app_options` go to OllamonApp (model, wall_clock, store_problem, ...).
    """
    if scenario is not None:
        sampler = scenario_sampler(scenario, ticks=ticks)
    if sampler is not None and sample_interval is not None:
        sampler.interval = sample_interval
    monitor = ResourceMonitor.with_saved_baseline(sampler, idle_watts=idle_watts, baselines=baselines)
    engine = OllamaEngine(url, clock=engine_clock, display_host=display_host)
    session = ChatSession(engine, monitor, recorder=recorder, clock=clock or StepClock(), fit_machine=fit_machine)
    return OllamonApp(
        session, live=live, retry_interval=retry_interval, refresh_interval=refresh_interval, **app_options
    )


def recording_app(url: str, db: Path, *, keep_content: bool = True, **options: Any) -> tuple[OllamonApp, RecordStore]:
    """`make_app` with a recorder writing to the store at `db` as host "testhost"; returns the store too.

    Unless told otherwise the turn's resources come from the NORMAL scenario (two ticks) at 5 W idle.
    """
    options.setdefault("scenario", NORMAL)
    options.setdefault("ticks", 2)
    options.setdefault("idle_watts", 5.0)
    store = RecordStore.open(db)
    recorder = TurnRecorder(store, HostInfo(hostname="testhost", os="Linux"), keep_content=keep_content)
    return make_app(url, recorder=recorder, **options), store


def snapshot_app(
    url: str,
    scenario: Scenario = NORMAL,
    idle_watts: float | None = 5.0,
    recorder: TurnRecorder | None = None,
    *,
    sampler: Sampler | None = None,
    fit_machine: WhatIf | None = None,
) -> OllamonApp:
    """`make_app` as a UI snapshot sees it: every clock it can show frozen or stepped, a fixed host name.

    `sampler` replaces the scenario's readings; `fit_machine` turns the fit advisor on for that machine.
    """
    clock = StepClock()
    return make_app(
        url,
        engine_clock=clock,
        clock=clock,
        retry_interval=0,
        refresh_interval=0,
        sampler=sampler or scenario_sampler(scenario, ticks=3),
        idle_watts=idle_watts,
        recorder=recorder,
        fit_machine=fit_machine,
        wall_clock=frozen_wall_clock,
        display_host=SHOWN_HOST,
    )


class HostApp(App[None]):
    """A bare app that shows one screen over an empty base screen, with the app's stylesheets."""

    CSS_PATH: ClassVar[list[str | PurePath]] = [*stylesheet_paths()]

    def __init__(self, make_screen: Callable[[], Screen[None]]) -> None:
        super().__init__()
        self._make_screen = make_screen
        self.closed = False

    def compose(self) -> ComposeResult:
        yield Static("chat screen", id="base")

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(), callback=lambda _: setattr(self, "closed", True))
