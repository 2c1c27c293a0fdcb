"""`ollamon bench`: the Mac mini M4 16 GB DeepSeek-R1 sweep in one command, on the same chat session as the TUI."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from tui.cli.bench_options import plan_from
from tui.cli.fit import what_if_from
from tui.core.chat.recorder import TurnRecorder
from tui.core.chat.session import ChatSession
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.records.files import StoreError
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import ResourceMonitor
from tui.core.sweep.plan import SweepPlan
from tui.core.sweep.runner import Progress, SweepRunner
from tui.core.sweep.table import render, sweep_notes, sweep_rows
from tui.core.units import seconds

EXIT_INTERRUPTED = 130


class ProgressView:
    """Live progress: rich's display on a terminal, plain lines (no escape codes) elsewhere."""

    def __init__(self, err: TextIO) -> None:
        self._err = err
        self._live = err.isatty()
        self._last: tuple[str, int, str] = ("", 0, "")
        if self._live:
            from rich.console import Console
            from rich.status import Status

            self._status: Status | None = Status("starting…", console=Console(file=err))
            self._status.start()
        else:
            self._status = None

    def __call__(self, progress: Progress) -> None:
        line = describe(progress)
        if not progress.model and progress.phase == "skipped":
            self._keep(line)  # what the sweep leaves out stays on screen, above the live status
            return
        if self._status is not None:
            from rich.text import Text

            self._status.update(Text(line))
        elif (progress.model, progress.run, progress.phase) != self._last:
            print(line, file=self._err, flush=True)  # one line per phase: a log, not a stream of updates
        self._last = (progress.model, progress.run, progress.phase)

    def _keep(self, line: str) -> None:
        if self._status is None:
            print(line, file=self._err, flush=True)
        else:
            from rich.text import Text

            self._status.console.print(Text(line))

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()


def describe(progress: Progress) -> str:
    """`model 2 of 5 · deepseek-r1:7b · run 1/2 · answering · 31.2 tok/s · ETA 1m04.0s`."""
    if not progress.model:
        return progress.note or progress.phase
    parts = [f"model {progress.model_index} of {progress.model_count}", progress.model]
    if progress.runs:
        parts.append(f"run {progress.run}/{progress.runs}")
    parts.append(progress.phase)
    if progress.tok_s is not None:
        parts.append(f"{progress.tok_s:.1f} tok/s")
    if progress.note:
        parts.append(progress.note)
    if progress.eta_s is not None:
        parts.append(f"ETA {seconds(progress.eta_s)}")
    return " · ".join(parts)


async def _sweep(
    session: ChatSession, store: RecordStore, plan: SweepPlan, resume: str | None, report: Callable[[Progress], None]
) -> tuple[SweepRunner, bool]:
    if resume:
        runner = SweepRunner(session, plan, resume, report=report)
    else:
        runner = SweepRunner.start(session, plan, report=report)
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, runner.stop)
    except (NotImplementedError, RuntimeError):  # not the main thread (tests) or no signals here
        pass
    try:
        await runner.run()
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError):
            pass
        await session.engine.aclose()
    return runner, runner.stopped


def run_bench(
    args: argparse.Namespace,
    host: str,
    db: Path,
    monitor: ResourceMonitor,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the sweep and print its table; 1 on bad input or no Ollama, 130 after Ctrl+C."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        store = RecordStore.open(db)
    except StoreError as exc:
        print(f"ollamon bench: records cannot be saved: {exc}", file=err)
        return 1
    try:
        if args.resume:
            saved = store.get_sweep(args.resume)
            if saved is None:
                print(f"ollamon bench: no sweep {args.resume} in {db}", file=err)
                return 1
            plan = SweepPlan.from_json(saved)
        else:
            plan = plan_from(args)
        what_if = what_if_from(args)
    except ValueError as exc:
        print(f"ollamon bench: {exc}", file=err)
        store.close()
        return 1
    from tui.core.records.hostfacts import gather_host, nvml_gpu_facts

    recorder = TurnRecorder(store, gather_host(gpu=nvml_gpu_facts), keep_content=True)
    session = ChatSession(OllamaEngine(host), monitor, recorder=recorder, fit_machine=what_if)
    view = ProgressView(err)
    monitor.start()
    try:
        runner, stopped = asyncio.run(_sweep(session, store, plan, args.resume, view))
    except OllamaError as exc:
        view.close()
        print(f"ollamon bench: Ollama at {host}: {exc.message}\n{exc.kind.hint}", file=err)
        return 1
    finally:
        view.close()
        monitor.close()
    records = store.sweep_records(runner.sweep_id)
    store.close()
    rows = sweep_rows(records)
    # On a terminal the table fits its width (cells wrap); to a file or pipe it is never cut.
    width = shutil.get_terminal_size().columns if out.isatty() else None
    out.write(render(rows, args.format, sweep_id=runner.sweep_id, width=width))
    for line in [*runner.notes, *sweep_notes(rows)]:
        print(f"note: {line}", file=err)
    for row in rows:
        for error in row.errors:
            print(f"{row.model}: {error}", file=err)
    if stopped:
        again = shlex.join(["ollamon", "bench", "--resume", runner.sweep_id, "--host", host, "--db", str(db)])
        print(f"Stopped. Resume with: {again}", file=err)
        return EXIT_INTERRUPTED
    print(f"sweep {runner.sweep_id}: {len(records)} run(s) recorded in {db}", file=err)
    return 0
