"""`ollamon pull MODEL`: fetch a model with a progress bar from Ollama's pull stream."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, TextIO

from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.units import human_bytes

if TYPE_CHECKING:  # rich is imported only when a progress bar is drawn
    from rich.progress import TaskID

NOT_IN_LIBRARY = "Check the name and tag: the Ollama library (ollama.com/library) has no model by that name."


async def _pull(host: str, name: str, err: TextIO) -> int:
    engine = OllamaEngine(host)
    live = err.isatty()
    bar = None
    last_status = ""
    try:
        if live:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=Console(file=err),
                transient=False,
            )
            bar.start()
        tasks: dict[str, TaskID] = {}
        async for part in engine.pull(name):
            if bar is not None:
                if part.digest and part.total:
                    task = tasks.get(part.digest)
                    if task is None:
                        task = tasks[part.digest] = bar.add_task(part.status, total=part.total)
                    bar.update(task, completed=part.completed or 0, description=part.status)
                elif part.status != last_status:
                    bar.console.print(part.status, markup=False, highlight=False)
            elif part.status != last_status or (part.total and part.completed == part.total):
                done = f" {human_bytes(part.completed)} / {human_bytes(part.total)}" if part.total else ""
                print(f"{part.status}{done}", file=err, flush=True)
            last_status = part.status
    except OllamaError as exc:
        if bar is not None:
            bar.stop()
        # The usual hint of a missing model is to pull it: here the name itself is what to check.
        hint = NOT_IN_LIBRARY if exc.kind is ErrorKind.NOT_FOUND else exc.kind.hint
        print(f"ollamon pull: {name}: {exc.message}\n{hint}", file=err)
        return 1
    finally:
        await engine.aclose()
    if bar is not None:
        bar.stop()
    print(f"{name} is ready.", file=err)
    return 0


def run_pull(host: str, name: str, *, err: TextIO | None = None) -> int:
    """0 when the model was pulled; 1 with Ollama's reason otherwise."""
    try:
        return asyncio.run(_pull(host, name, err or sys.stderr))
    except KeyboardInterrupt:
        print("ollamon pull: stopped", file=err or sys.stderr)
        return 130
