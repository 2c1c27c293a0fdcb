"""`ollamon doctor`: what works here and why not, without the UI. Exit 1 if Ollama is unreachable."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path

import platformdirs

from tui.core.capture import write_capture
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.host import is_local
from tui.core.sampling.energy import BaselineStore
from tui.core.sampling.memory import FORMULAS
from tui.core.sampling.monitor import MonitorOptions, ResourceMonitor, build_sampler, no_power_reason
from tui.core.sampling.processor import processor_split
from tui.core.sampling.sampler import Sampler
from tui.core.units import human_bytes, memory_bytes

Print = Callable[[str], None]


async def _check_ollama(host: str, say: Print) -> OllamaError | None:
    """Report the server at `host`; the error when it cannot be reached or is not Ollama."""
    engine = OllamaEngine(host)
    try:
        version = await engine.version()
        models = await engine.list_models()
        running = await engine.ps()
    except OllamaError as exc:
        # A server that answered, just not as Ollama, is reachable: say what it is instead.
        state = "NOT OLLAMA" if exc.kind is ErrorKind.NOT_OLLAMA else "UNREACHABLE"
        say(f"Ollama     {state} at {host}: {exc.message}")
        say(f"           {exc.kind.hint}")
        return exc
    finally:
        await engine.aclose()
    say(f"Ollama     {version or 'unknown version'} at {host}")
    say(f"models     {len(models)} installed")
    # Columns, as `ollama list` and `ollama ps` print them.
    names = [m.name for m in models] + [m.name for m in running]
    sizes = [human_bytes(m.size) for m in models] + [human_bytes(m.size) for m in running]
    name_width = max(map(len, names), default=0)
    size_width = max(map(len, sizes), default=0)
    params_width = max((len(m.parameter_size) for m in models), default=0)
    for model in models:
        say(
            f"           {model.name:<{name_width}}  {human_bytes(model.size):>{size_width}}  "
            f"{model.parameter_size:>{params_width}}  {model.quantization}"
        )
    if not running:
        say("loaded     none")
    for item in running:
        split = processor_split(item.size, item.size_vram)
        say(f"loaded     {item.name:<{name_width}}  {human_bytes(item.size):>{size_width}}  {split}")
    return None


def _report_sources(sampler: Sampler, say: Print) -> None:
    for status in sampler.status():
        state = "ok" if status.available else "unavailable"
        chosen = " (in use)" if status.kind == "power" and status.chosen and status.available else ""
        why = f": {status.why}" if status.why else ""
        say(f"{status.kind:<10} {status.name:<14} {state}{chosen}{why}")


def _report_readings(sampler: Sampler, host: str, say: Print) -> None:
    last = sampler.samples.last()
    sample = last[1] if last else None
    memory = sample.memory if sample else None
    if memory is not None:
        say(
            f"memory     {memory_bytes(memory.used)} used of {memory_bytes(memory.total)}, "
            f"swap {memory_bytes(memory.swap_used)} ({memory.source})"
        )
        if (formula := FORMULAS.get(memory.source)) is not None:
            say(f"           used = {formula.name}: {formula.arithmetic}")
    ollama = sample.ollama if sample else None
    if ollama is not None:
        found = "none found"
        if ollama.count:
            found = f"{ollama.count} process(es), {ollama.memory_measure} {memory_bytes(ollama.rss)}"
            found += f", {ollama.found_by}" if ollama.found_by else ""
        say(f"processes  Ollama: {found}{' — ' + ollama.why if ollama.why else ''}")
    if sampler.power is not None:
        watts = sample.watts if sample else None
        reading = f"{watts:.1f} W" if watts is not None else "no reading yet"
        say(f"power      {reading} from {sampler.power.name} ({sampler.power.scope})")
        for line in sampler.power.explain():
            say(f"           {line}")
        power = sample.power if sample else None
        if power is not None and power.components:
            say("           rails now: " + ", ".join(f"{rail} {w:.1f} W" for rail, w in power.components.items()))
        if power is not None and power.note:
            say(f"           note: {power.note}")
    else:
        say(f"power      n/a — {no_power_reason(sampler)}")
    if not is_local(host):
        say(f"note       Ollama runs on {host}: the app's panels describe this machine, not that host.")


def _measure_baseline(monitor: ResourceMonitor, seconds: float, say: Print) -> None:
    if monitor.power_why:
        say("baseline   cannot measure: no power source")
        return
    say(f"baseline   measuring idle power for {seconds:.0f} s; keep the machine quiet…")
    monitor.start()
    try:
        baseline = asyncio.run(monitor.measure_baseline(seconds))
    finally:
        monitor.stop()
    if baseline is None:
        say("baseline   no readings came in; nothing stored")
        return
    say(f"baseline   {baseline.watts:.1f} W (mean over {baseline.samples} readings), remembered for this host")


def _write_capture(directory: Path, host: str, say: Print) -> None:
    try:
        items = write_capture(directory, host)
    except OSError as exc:
        say(f"capture    cannot write {directory}: {exc.strerror or exc}")
        return
    missing = {item: note for item, note in items.items() if note != "ok"}
    say(f"capture    {directory}: {len(items) - len(missing)} inputs captured; attach the folder to a bug report")
    for item, note in missing.items():
        say(f"           {item}: {note}")


def run_doctor(
    host: str,
    options: MonitorOptions,
    *,
    baseline_seconds: float | None = None,
    say: Print = print,
    sampler: Sampler | None = None,
    store: BaselineStore | None = None,
    capture: Path | None = None,
) -> int:
    """Print the report, and write a capture of the raw inputs if asked; 1 when Ollama cannot be reached."""
    problem = asyncio.run(_check_ollama(host, say))
    sampler = sampler or build_sampler(options, host=host)
    if problem is not None and problem.kind is ErrorKind.NOT_OLLAMA:
        sampler.note_server(problem.message)  # its listener's process is not counted as Ollama's
    store = store or BaselineStore(platformdirs.user_data_path("ollamon"))
    monitor = ResourceMonitor(sampler, baselines=store)
    try:
        monitor.tick()
        time.sleep(min(sampler.interval, 1.0))  # counters need two readings for watts
        monitor.tick()
        _report_sources(sampler, say)
        _report_readings(sampler, host, say)
        if sampler.power is not None:
            saved = store.get(socket.gethostname(), sampler.power.name)
            idle = options.idle_watts if options.idle_watts is not None else (saved.watts if saved else None)
            say(f"idle       {f'{idle:.1f} W' if idle is not None else 'not measured (ollamon doctor --baseline)'}")
        if baseline_seconds is not None:
            _measure_baseline(monitor, baseline_seconds, say)
    finally:
        monitor.close()
    if capture is not None:
        _write_capture(capture, host, say)
    return 0 if problem is None else 1
