"""Build the app the way the CLI does (engine, monitor, session), with test doubles injected."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.conftest import StepClock, frozen_wall_clock
from tests.resource_fakes import NORMAL, Scenario, scenario_sampler
from tui.app import OllamonApp
from tui.core.chat.recorder import TurnRecorder
from tui.core.chat.session import ChatSession
from tui.core.fit.gather import WhatIf
from tui.core.ollama.client import OllamaEngine
from tui.core.sampling.energy import BaselineStore
from tui.core.sampling.monitor import ResourceMonitor
from tui.core.sampling.sampler import Sampler


def build_app(
    url: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    engine_clock: Callable[[], float] | None = None,
    sampler: Sampler | None = None,
    idle_watts: float | None = None,
    baselines: BaselineStore | None = None,
    recorder: TurnRecorder | None = None,
    fit_machine: WhatIf | None = None,
    display_host: str | None = None,
    **app_options: Any,
) -> OllamonApp:
    """The fit advisor is off unless `fit_machine` describes a machine: this machine's own GPU
    and RAM would make the marks differ from one test machine to the next."""
    monitor = ResourceMonitor.with_saved_baseline(sampler, idle_watts=idle_watts, baselines=baselines)
    engine = OllamaEngine(url, clock=engine_clock or time.monotonic, display_host=display_host)
    session = ChatSession(engine, monitor, recorder=recorder, clock=clock, fit_machine=fit_machine)
    return OllamonApp(session, **app_options)


# Snapshots show the server's URL: the same name on every run, whatever free port the server got.
SHOWN_HOST = "http://127.0.0.1:11434"


def snapshot_app(
    url: str,
    scenario: Scenario = NORMAL,
    idle_watts: float | None = 5.0,
    recorder: TurnRecorder | None = None,
    *,
    sampler: Sampler | None = None,
    fit_machine: WhatIf | None = None,
) -> OllamonApp:
    """The app as a UI snapshot sees it: every clock it can show frozen or stepped, a fixed host name.

    `sampler` replaces the scenario's readings; `fit_machine` turns the fit advisor on for that machine.
    """
    clock = StepClock()
    return build_app(
        url,
        engine_clock=clock,
        clock=clock,
        live=False,
        retry_interval=0,
        refresh_interval=0,
        sampler=sampler or scenario_sampler(scenario, ticks=3),
        idle_watts=idle_watts,
        recorder=recorder,
        fit_machine=fit_machine,
        wall_clock=frozen_wall_clock,
        display_host=SHOWN_HOST,
    )
