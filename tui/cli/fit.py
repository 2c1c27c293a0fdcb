"""`ollamon fit`: before loading, where Ollama will put each model and whether it will run well."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tui.core.fit.check import PastLoad, VersionCheck, compare, corrected, fit_margin, on_host
from tui.core.fit.estimate import Accuracy, Era, Fit, gib, ps_size
from tui.core.fit.gather import MachineUnknown, fit_report, read_machine
from tui.core.fit.inputs import Fact, GpuKind, Machine, OllamaVersion
from tui.core.fit.verdict import Verdict
from tui.core.fit.what_if import WhatIf
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.models import CatalogModel
from tui.core.records.files import StoreError

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

    if args.ollama_version and not OllamaVersion.parse(args.ollama_version).known:
        raise ValueError(f"--ollama-version: {args.ollama_version!r} is not a version: write it like 0.33.0")
    return WhatIf(
        ram=size("--ram", args.ram, ram=True),
        gpu_memory=size("--gpu-memory", args.gpu_memory),
        gpu_free=size("--gpu-free", args.gpu_free),
        gpu={"metal": GpuKind.METAL, "cuda": GpuKind.CUDA, "rocm": GpuKind.ROCM, "none": GpuKind.NONE}.get(
            args.gpu or ""
        ),
        version=args.ollama_version,
    )


def past_loads(store_path: Path | None) -> list[PastLoad]:
    """This host's stored loads with their predictions, read-only; StoreError when the store cannot be read."""
    if store_path is None:
        return []
    from tui.cli.history import open_read_only

    try:
        with open_read_only(store_path) as store:
            return on_host(store.loads_on(), store.host_id)
    except sqlite3.DatabaseError as exc:
        raise StoreError(store_path, f"damaged: cannot read its records ({exc})") from exc


def corrected_from_store(machine: Machine, store_path: Path | None) -> Machine:
    """This machine with the fit margin its past era C loads at the same version imply, when there are any."""
    if Era.of(machine.version.value) is not Era.C or store_path is None or not store_path.is_file():
        return machine
    try:
        loads = past_loads(store_path)
    except StoreError:
        return machine  # a prediction without the correction is still a prediction
    return corrected(machine, loads)


async def _predict(
    host: str, args: argparse.Namespace, what_if: WhatIf, store_path: Path | None
) -> tuple[list[Fit], list[CatalogModel]]:
    engine = OllamaEngine(host)
    try:
        machine = await read_machine(engine, what_if)
        if not what_if.describes_machine:
            machine = corrected_from_store(machine, store_path)
        num_ctx = Fact(args.num_ctx, "--num-ctx") if args.num_ctx else None
        return await fit_report(engine, args.models, num_ctx=num_ctx, machine=machine)
    finally:
        await engine.aclose()


def verdict_label(fit: Fit) -> str:
    """The verdict in the dropdown's words: a model that spills all of itself runs on the CPU only."""
    cpu_only = fit.verdict is Verdict.SPILLS and fit.processor == "100% CPU"
    return "runs on CPU only" if cpu_only else fit.verdict.label


def _verdict_cell(fit: Fit) -> Text:
    label = verdict_label(fit) + ("" if fit.accuracy is Accuracy.EXACT else f" ({fit.accuracy.value})")
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


def remote_reason(model: CatalogModel) -> str:
    """What `fit` says of a cloud model."""
    return f"runs on {model.remote_host}: no local placement"


def render_table(fits: list[Fit], out: TextIO, cloud: Sequence[CatalogModel] = ()) -> None:
    console = (
        Console(file=out, highlight=False)
        if out.isatty()
        else Console(file=out, width=200, color_system=None, force_terminal=False, highlight=False)
    )
    for model in cloud:
        console.print(Text(f"{model.name} {remote_reason(model)}"))
    if not fits:
        console.print("No local models." if cloud else "No models installed.")
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


def _check_json(checks: list[VersionCheck]) -> list[dict[str, object]]:
    def load(past: PastLoad) -> dict[str, object]:
        return {
            "model": past.model,
            "started_at": past.started_at,
            "predicted": {"processor": past.predicted_processor, "verdict": past.predicted_verdict},
            "observed": {"processor": past.observed_processor, "verdict": past.observed_verdict},
            "error_pp": past.error,
        }

    return [
        {
            "version": check.version,
            "loads": len(check.loads),
            "exact": check.exact,
            "mean_error_pp": check.mean_error,
            "max_error_pp": check.max_error,
            "margin_bytes": (margin := fit_margin(check.loads, check.version)) and margin.value,
            "worst": [load(past) for past in check.worst()],
        }
        for check in checks
    ]


def render_check(checks: list[VersionCheck], out: TextIO) -> None:
    """One row per Ollama version, then its worst cases."""
    console = Console(file=out, width=200, color_system=None, force_terminal=False, highlight=False)
    table = Table("OLLAMA", "LOADS", "EXACT", "MEAN ERROR", "MAX ERROR", "ERA C MARGIN")
    for check in checks:
        mean, top = check.mean_error, check.max_error
        margin = fit_margin(check.loads, check.version)
        table.add_row(
            Text(check.version),
            str(len(check.loads)),
            str(check.exact),
            "—" if mean is None else f"{mean:.1f} pp",
            "—" if top is None else f"{top} pp",
            "—" if margin is None else f"{gib(margin.value)} ({margin.source})",
        )
    console.print(table)
    console.print("error: percentage points between the predicted and the observed GPU share")
    for check in checks:
        for past in check.worst():
            error = "" if past.error is None else f", {past.error} pp off"
            line = (
                f"worst at {check.version}: {past.model} ({past.started_at}): predicted "
                f"{past.predicted_processor} ({past.predicted_verdict}), Ollama {past.observed_processor} "
                f"({past.observed_verdict}){error}"
            )
            console.print(Text(line))


def run_check(args: argparse.Namespace, store_path: Path, out: TextIO | None = None) -> int:
    """`fit --check`: this host's predictions against what happened, per Ollama version; read-only."""
    out = out or sys.stdout
    try:
        loads = past_loads(store_path)
    except StoreError as exc:
        print(f"ollamon fit --check: {exc}", file=sys.stderr)
        return 1
    if args.models:
        loads = [load for load in loads if load.model in args.models]
    if not loads:
        print(
            f"ollamon fit --check: no loads with a prediction on {socket.gethostname()} in {store_path} yet "
            "(the chat stores one beside each load it sees)",
            file=sys.stderr,
        )
        return 0
    checks = compare(loads)
    if args.format == "json":
        out.write(json.dumps(_check_json(checks), indent=2) + "\n")
    else:
        render_check(checks, out)
    out.flush()
    return 0


def run_fit(args: argparse.Namespace, host: str, store_path: Path | None = None, out: TextIO | None = None) -> int:
    """Print the predictions, or with --check past ones beside reality; 1: something unreadable, 2: bad options."""
    out = out or sys.stdout
    if getattr(args, "check", False):
        if store_path is None:
            print("ollamon fit --check: no record store", file=sys.stderr)
            return 1
        return run_check(args, store_path, out)
    try:
        what_if = what_if_from(args)
    except ValueError as exc:
        print(f"ollamon fit: {exc}", file=sys.stderr)
        return 2
    try:
        fits, cloud = asyncio.run(_predict(host, args, what_if, store_path))
    except OllamaError as exc:
        where = f"cannot reach Ollama at {host}: " if exc.kind is ErrorKind.CONNECTION else ""
        print(f"ollamon fit: {where}{exc.message}\n  {exc.kind.hint}", file=sys.stderr)
        return 1
    except MachineUnknown as exc:
        print(f"ollamon fit: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        remote = [
            {"model": m.name, "verdict": "remote", "remote_host": m.remote_host, "reason": remote_reason(m)}
            for m in cloud
        ]
        out.write(json.dumps([fit.to_json() for fit in fits] + remote, indent=2) + "\n")
    else:
        render_table(fits, out, cloud)
    out.flush()
    return 0
