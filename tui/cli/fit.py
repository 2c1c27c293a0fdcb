"""`ollamon fit`: before loading, where Ollama will put each model and whether it will run well."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tui.core.fit.estimate import Accuracy, Fit, gib, ps_size
from tui.core.fit.gather import MachineUnknown, fit_models, read_machine
from tui.core.fit.inputs import Fact, GpuKind
from tui.core.fit.verdict import Verdict
from tui.core.fit.what_if import WhatIf
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([KMGT]i?B|B)\s*$", re.IGNORECASE)
_DECIMAL = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_BINARY = {"B": 1, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}
_MARKS = {Verdict.FITS: "green", Verdict.SPILLS: "yellow", Verdict.SWAPS: "red", Verdict.WONT_LOAD: "red"}


def parse_size(text: str, *, ram: bool = False) -> int:
    """`16GB`, `10.67GiB`, `512 MiB` -> bytes. For RAM, GB means GiB: RAM is sold in binary units."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size: write it like 16GB or 10.67GiB")
    number, unit = float(match.group(1)), match.group(2).upper()
    if ram and unit in _DECIMAL and unit != "B":
        unit = unit[0] + "IB"
    return int(number * (_BINARY.get(unit) or _DECIMAL[unit]))


def what_if_from(args: argparse.Namespace) -> WhatIf:
    """The machine --ram, --gpu-memory, --gpu-free, --gpu and --ollama-version describe; ValueError for bad sizes."""

    def size(flag: str, value: str | None, ram: bool = False) -> int | None:
        if value is None:
            return None
        try:
            return parse_size(value, ram=ram)
        except ValueError as exc:
            raise ValueError(f"{flag}: {exc}") from exc

    return WhatIf(
        ram=size("--ram", args.ram, ram=True),
        gpu_memory=size("--gpu-memory", args.gpu_memory),
        gpu_free=size("--gpu-free", args.gpu_free),
        gpu={"metal": GpuKind.METAL, "cuda": GpuKind.CUDA, "rocm": GpuKind.ROCM, "none": GpuKind.NONE}.get(
            args.gpu or ""
        ),
        version=args.ollama_version,
    )


async def _predict(host: str, args: argparse.Namespace, what_if: WhatIf) -> list[Fit]:
    engine = OllamaEngine(host)
    try:
        machine = await read_machine(engine, what_if)
        num_ctx = Fact(args.num_ctx, "--num-ctx") if args.num_ctx else None
        return await fit_models(engine, args.models, num_ctx=num_ctx, machine=machine)
    finally:
        await engine.aclose()


def _verdict_cell(fit: Fit) -> Text:
    label = fit.verdict.label + ("" if fit.accuracy is Accuracy.EXACT else f" ({fit.accuracy.value})")
    return Text(label, style=_MARKS[fit.verdict])


def _header(fit: Fit) -> list[str]:
    """The inputs every model shares, once, with their sources."""
    inputs = fit.inputs

    def shown(name: str, value: str) -> str:
        return f"{value} ({inputs[name].source})"

    gpu = inputs["gpu"].value
    lines = [
        "Ollama " + shown("version", inputs["version"].value.text) + f", placement era {fit.era.value}",
        "GPU    "
        + (
            shown("gpu", gpu.value) + ", may use " + shown("gpu_memory", gib(inputs["gpu_memory"].value))
            if gpu is not GpuKind.NONE
            else shown("gpu", "none: CPU only")
        ),
        "RAM    " + shown("ram", gib(inputs["ram"].value)),
        "run    num_ctx "
        + shown("num_ctx", str(inputs["num_ctx"].value))
        + ", num_parallel "
        + shown("num_parallel", str(inputs["num_parallel"].value))
        + ", KV cache "
        + shown("kv_cache_type", inputs["kv_cache_type"].value.value),
    ]
    if "loaded" in inputs:
        lines.append("loaded " + shown("loaded", gib(inputs["loaded"].value)))
    return lines


def render_table(fits: list[Fit], out: TextIO) -> None:
    console = (
        Console(file=out, highlight=False)
        if out.isatty()
        else Console(file=out, width=200, color_system=None, force_terminal=False, highlight=False)
    )
    if not fits:
        console.print("No models installed.")
        return
    for line in _header(fits[0]):
        console.print(Text(line))
    table = Table("MODEL", "SIZE", "PROCESSOR", "GPU LAYERS", "VERDICT", "REASON")
    for fit in fits:
        table.add_row(
            Text(fit.model),
            ps_size(fit.size),
            fit.processor,
            f"{fit.gpu_layers}/{fit.total_layers}",
            _verdict_cell(fit),
            Text(fit.reason),
        )
    console.print(table)
    for fit in fits:
        for note in fit.notes:
            console.print(Text(f"note: {fit.model}: {note}"))


def run_fit(args: argparse.Namespace, host: str, out: TextIO | None = None) -> int:
    """Print the predictions; 1 when Ollama cannot be asked or a model is missing, 2 for bad options."""
    out = out or sys.stdout
    try:
        what_if = what_if_from(args)
    except ValueError as exc:
        print(f"ollamon fit: {exc}", file=sys.stderr)
        return 2
    try:
        fits = asyncio.run(_predict(host, args, what_if))
    except OllamaError as exc:
        where = f"cannot reach Ollama at {host}: " if exc.kind is ErrorKind.CONNECTION else ""
        print(f"ollamon fit: {where}{exc.message}\n  {exc.kind.hint}", file=sys.stderr)
        return 1
    except MachineUnknown as exc:
        print(f"ollamon fit: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        out.write(json.dumps([fit.to_json() for fit in fits], indent=2) + "\n")
    else:
        render_table(fits, out)
    out.flush()
    return 0
