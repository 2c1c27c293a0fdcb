"""Collect a prediction's inputs from an Ollama server (and this machine when it runs here)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence

import psutil

from tui.core.fit.estimate import Fit, predict
from tui.core.fit.inputs import Fact, GpuKind, Machine, ModelFacts, OllamaVersion, Request
from tui.core.fit.machine import read_local_machine, rule_of_thumb
from tui.core.fit.what_if import MEASURE_HERE, WhatIf
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.host import is_local
from tui.core.ollama.models import CatalogModel, LoadedModel


class MachineUnknown(Exception):
    """Ollama runs elsewhere and nothing said what that machine has."""


def hypothetical_machine(what_if: WhatIf, version: Fact[OllamaVersion], local_ram: Callable[[], int]) -> Machine:
    """The machine the flags describe, with nothing loaded; unspecified figures are derived and labelled."""
    gpu = Fact(what_if.gpu, "--gpu") if what_if.gpu else Fact(GpuKind.METAL, "assumed: Apple Silicon")
    if what_if.ram is not None:
        ram = Fact(what_if.ram, "--ram")
    else:
        ram = Fact(local_ram(), "this machine's RAM")
    if gpu.value is GpuKind.NONE:
        gpu_memory = Fact(0, "no GPU")
    elif what_if.gpu_free is not None:
        gpu_memory = Fact(what_if.gpu_free, "--gpu-free")
    elif what_if.gpu_memory is not None:
        gpu_memory = Fact(what_if.gpu_memory, "--gpu-memory")
    elif gpu.value is GpuKind.METAL:
        gpu_memory = Fact(rule_of_thumb(ram.value), "guessed: 2/3 of RAM (3/4 from 36 GB)")
    else:
        raise MachineUnknown(f"say how much memory the {gpu.value.value} GPU has: --gpu-memory or --gpu-free")
    unified = gpu.value is GpuKind.METAL
    available = None if unified else Fact(ram.value, "--ram, taken as free")
    return Machine(version, gpu, gpu_memory, ram, "darwin" if unified else "linux", ram_available=available)


async def read_machine(
    engine: OllamaEngine,
    what_if: WhatIf = MEASURE_HERE,
    *,
    local: Callable[[Fact[OllamaVersion], Sequence[LoadedModel]], Machine] = read_local_machine,
) -> Machine:
    """The server's machine: measured when Ollama runs here, else as `what_if` describes it."""
    if what_if.version:
        version = Fact(OllamaVersion.parse(what_if.version), "--ollama-version")
    else:
        text = await engine.version()
        version = Fact(OllamaVersion.parse(text), "/api/version")
    if what_if.describes_machine:
        return hypothetical_machine(what_if, version, lambda: int(psutil.virtual_memory().total))
    if not is_local(engine.host):
        raise MachineUnknown(
            f"Ollama at {engine.host} runs on another machine: describe it with --ram and --gpu-memory (or --gpu-free)"
        )
    loaded = await engine.ps()
    return await asyncio.to_thread(local, version, loaded)


async def model_facts(
    engine: OllamaEngine,
    model: CatalogModel,
    cache: dict[tuple[str, str], ModelFacts] | None = None,
) -> ModelFacts:
    """One installed model's tensors and keys (/api/show verbose) with its file size (/api/tags).

    With `cache`, each model (by name and digest) is asked once: the verbose answer carries the
    whole tensor list, too much to fetch on every refresh of the model list.
    """
    key = (model.name, model.digest)
    if cache is not None and key in cache:
        return cache[key]
    facts = ModelFacts.from_tensors(await engine.show_tensors(model.name), model.size)
    if cache is not None:
        cache[key] = facts
    return facts


def server_request(engine: OllamaEngine, env: Mapping[str, str] | None = None) -> Request:
    """Ollama's settings from the environment, when the server runs here and so may share it."""
    if not is_local(engine.host):
        return Request()
    return Request.from_environment(os.environ if env is None else env, source="this shell's environment")


def _installed(models: Sequence[CatalogModel], names: Sequence[str]) -> list[CatalogModel]:
    by_name = {model.name: model for model in models}
    chosen = []
    for name in names:
        model = by_name.get(name) or (by_name.get(f"{name}:latest") if ":" not in name else None)
        if model is None:
            raise OllamaError(ErrorKind.NOT_FOUND, f"model '{name}' is not installed", 404)
        chosen.append(model)
    return chosen


async def fit_report(
    engine: OllamaEngine,
    names: Sequence[str] = (),
    *,
    num_ctx: Fact[int] | None = None,
    machine: Machine | None = None,
    request: Request | None = None,
) -> tuple[list[Fit], list[CatalogModel]]:
    """Predict every installed local model (or those named), smallest predicted size first; and
    the cloud models among those asked about, which run on their remote host: nothing to place here.

    `num_ctx` is the chat's setting (it wins); `machine` defaults to `read_machine(engine)` and
    `request` to `server_request(engine)`. Raises OllamaError, MachineUnknown.
    """
    installed = await engine.list_models()
    chosen = _installed(installed, names) if names else installed
    local = [model for model in chosen if not model.cloud]
    machine = machine or await read_machine(engine)
    request = request or server_request(engine)
    if num_ctx is not None:
        request = request.with_num_ctx(num_ctx.value, num_ctx.source)
    fits = [predict(await model_facts(engine, model), request, machine) for model in local]
    return sorted(fits, key=lambda fit: (fit.size, fit.model)), [model for model in chosen if model.cloud]
