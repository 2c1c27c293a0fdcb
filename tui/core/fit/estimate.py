"""Predict where Ollama puts a model, what `ollama ps` will then show, and what happens next.

Ollama's placement changed twice (fit-estimate.md): era A (≤ 0.12.10) and era B (0.12.11 up to
0.30) are reproduced from their rules; from 0.30 llama.cpp measures its own fit while loading:
era C follows that fit (`llama_server`) with an estimated compute buffer, labelled ±1 layer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from tui.core.fit import llama_server
from tui.core.fit.ggml import LayerWeights
from tui.core.fit.graph import KNOWN_GRAPHS, graph_size
from tui.core.fit.inputs import (
    GIB,
    MIB,
    OLLAMA_ENGINE_ARCHITECTURES,
    Fact,
    GpuKind,
    KvCacheType,
    Machine,
    ModelFacts,
    OllamaVersion,
    Request,
)
from tui.core.fit.placement import Placement, estimate_layers, greedy_layout
from tui.core.fit.verdict import Accuracy, Verdict
from tui.core.sampling.processor import processor_split

# llama.cpp's --fit leaves about this much free on each device (era C).
FIT_MARGIN = llama_server.FIT_MARGIN
# macOS and the apps beside Ollama keep some RAM; above what is left the model pages to swap.
OS_HEADROOM = 4 * GIB


class Era(str, enum.Enum):
    A = "A"
    B = "B"
    C = "C"

    @classmethod
    def of(cls, version: OllamaVersion) -> Era:
        if not version.at_least(0, 12, 11):
            return cls.A
        return cls.B if not version.at_least(0, 30) else cls.C


@dataclass(frozen=True)
class Fit:
    """The prediction for one model: what `ollama ps` will show and what that means here."""

    model: str
    verdict: Verdict
    gpu_layers: int
    total_layers: int  # blocks + the output layer, as Ollama counts them
    size: int
    size_vram: int
    reason: str
    accuracy: Accuracy
    era: Era
    inputs: dict[str, Fact[Any]]
    notes: tuple[str, ...] = ()
    evicts: tuple[str, ...] = ()  # loaded models Ollama unloads to make room

    @property
    def processor(self) -> str:
        """The PROCESSOR column exactly as `ollama ps` will print it."""
        return processor_split(self.size, self.size_vram)

    @property
    def placement(self) -> str:
        """`15 GB, 26%/74% CPU/GPU, 22/29 layers on the GPU`, and how sure that is when not exact."""
        rough = "" if self.accuracy is Accuracy.EXACT else f" ({self.accuracy.value})"
        return f"{ps_size(self.size)}, {self.processor}, {self.gpu_layers}/{self.total_layers} layers on the GPU{rough}"

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "verdict": self.verdict.value,
            "processor": self.processor,
            "size_bytes": self.size,
            "size_vram_bytes": self.size_vram,
            "gpu_layers": self.gpu_layers,
            "total_layers": self.total_layers,
            "reason": self.reason,
            "accuracy": self.accuracy.value,
            "era": self.era.value,
            "notes": list(self.notes),
            "evicts": list(self.evicts),
            "inputs": {
                name: {"value": _plain(fact.value), "source": fact.source} for name, fact in self.inputs.items()
            },
        }


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, OllamaVersion):
        return value.text
    return value


def ps_size(value: int) -> str:
    """SIZE as `ollama ps` prints it: decimal units, whole numbers from 10 up, else one decimal."""
    amount, unit = float(value), "B"
    for next_unit in ("KB", "MB", "GB", "TB"):
        if amount < 1000:
            break
        amount, unit = amount / 1000, next_unit
    if amount >= 10 or amount == int(amount):
        return f"{int(amount)} {unit}"
    return f"{amount:.1f} {unit}"


def gib(value: int) -> str:
    """Memory capacities in reasons: binary units, as Ollama's log and Apple's specs count RAM."""
    text = f"{value / GIB:.1f}"
    return f"{text.removesuffix('.0')} GiB"


@dataclass
class _Work:
    """The facts settled so far and the notes gathered on the way."""

    inputs: dict[str, Fact[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    accuracy: Accuracy = Accuracy.EXACT

    def lower(self, accuracy: Accuracy, note: str) -> None:
        order = [Accuracy.EXACT, Accuracy.ESTIMATE, Accuracy.ROUGH]
        self.accuracy = max(self.accuracy, accuracy, key=order.index)
        self.notes.append(note)


def _num_ctx(model: ModelFacts, request: Request, machine: Machine) -> Fact[int]:
    version = machine.version.value
    if request.num_ctx is not None:
        chosen = request.num_ctx
    elif model.modelfile_num_ctx:
        chosen = Fact(model.modelfile_num_ctx, "the model's Modelfile")
    elif request.default_num_ctx is not None:
        chosen = request.default_num_ctx
    elif not version.at_least(0, 6, 7):
        chosen = Fact(2048, f"Ollama {version.text} default")
    elif not version.at_least(0, 15, 5):
        chosen = Fact(4096, f"Ollama {version.text} default")
    else:
        vram = machine.gpu_memory.value - request.gpu_overhead.value if machine.gpu.value is not GpuKind.NONE else 0
        tier = 262144 if vram >= 47 * GIB else 32768 if vram >= 23 * GIB else 4096
        chosen = Fact(tier, f"Ollama {version.text} default for {gib(vram)} of GPU memory")
    if model.context_length and chosen.value > model.context_length:
        return Fact(model.context_length, f"{chosen.source}, cut to the model's context length")
    return chosen


def _weights(model: ModelFacts, work: _Work) -> LayerWeights:
    blocks = max(model.block_count, 1)
    if model.tensors:
        try:
            weights = LayerWeights.from_tensors(model.tensors, blocks)
            total = sum(weights.blocks) + weights.output + (0 if weights.tied else weights.token_embd)
            work.inputs["weights"] = Fact(total, f"{len(model.tensors)} tensors (/api/show verbose)")
            return weights
        except KeyError as exc:
            work.lower(Accuracy.ROUGH, f"tensor type {exc.args[0]} has no known size: sized from the file")
    else:
        work.lower(Accuracy.ROUGH, "the server sent no tensor list: sized from the file")
    work.inputs["weights"] = Fact(model.file_size, "file size (/api/tags)")
    # Without architecture keys the whole file is one unit: no block to count twice as era A's buffer.
    return LayerWeights.from_file_size(model.file_size, model.block_count)


@dataclass(frozen=True)
class _Shape:
    """Per-block bytes (weights + KV) and the rest, for one num_parallel."""

    layers: tuple[int, ...]
    output: int
    input_weights: int
    partial: int
    full: int


def _shape(
    model: ModelFacts,
    weights: LayerWeights,
    request: Request,
    num_ctx: int,
    parallel: int,
    kv_type: KvCacheType,
    work: _Work,
    gpu: GpuKind,
) -> _Shape:
    graph = graph_size(model, num_ctx * parallel, min(num_ctx, request.num_batch), kv_type.bytes_per_element)
    kv = graph.kv if len(graph.kv) == len(weights.blocks) else (0,) * len(weights.blocks)
    if graph.generic and not any("graph" in note for note in work.notes):
        why = (
            "vocabulary size unknown"
            if model.architecture in KNOWN_GRAPHS
            else f"no graph formula for {model.architecture or 'this architecture'}"
        )
        work.lower(Accuracy.ROUGH, f"{why}: generic compute-graph formula, rough")
    partial, full = graph.partial, graph.full
    if gpu is GpuKind.METAL:
        partial = full  # no partial-offload overhead on Metal
    layers = tuple(w + k for w, k in zip(weights.blocks, kv, strict=True))
    return _Shape(layers, weights.output, weights.token_embd, partial, full)


def _place(shape: _Shape, machine: Machine, free: int, era: Era, request: Request, own_engine: bool) -> Placement:
    gpu = machine.gpu.value
    overhead = request.gpu_overhead.value
    version = machine.version.value
    if gpu is GpuKind.NONE:
        if era is Era.A:
            ram = machine.ram_available.value if machine.ram_available else machine.ram.value
            return estimate_layers(shape.layers, shape.output, shape.partial, shape.full, ram, 0, 0, cpu=True)
        return Placement(0, sum(shape.layers) + shape.output + (shape.input_weights if own_engine else 0), 0)
    reserve = gpu.minimum_memory
    if gpu is GpuKind.METAL and version.at_least(0, 12, 4) and not version.at_least(0, 12, 7):
        reserve = 0  # these three releases reserved nothing on Metal
    if era is Era.A and not own_engine:
        return estimate_layers(shape.layers, shape.output, shape.partial, shape.full, free, reserve, overhead)
    if own_engine:
        return greedy_layout(
            shape.layers,
            shape.output,
            shape.partial,
            shape.full,
            free,
            reserve,
            overhead,
            buffer=False,
            input_weights=shape.input_weights,
        )
    return greedy_layout(shape.layers, shape.output, shape.partial, shape.full, free, reserve, overhead)


@dataclass(frozen=True)
class _ServerFit:
    """Era C's settings for one load: flash attention, margin, and the batch for the memory free."""

    model: ModelFacts
    request: Request
    machine: Machine
    flash: Fact[bool]
    margin: Fact[int]

    def available(self, free: int) -> int:
        """What Ollama's scheduler counts as free for the preflight (sched.go logs it so)."""
        taken = self.request.gpu_overhead.value + self.machine.gpu.value.minimum_memory
        return max(0, free - taken)

    def preflight(self, ctx: int, free: int) -> tuple[int, int]:
        """Ollama's own prediction for the load with its batch surcharge, and the batch."""
        predicted = llama_server.preflight_bytes(self.model, ctx)
        gpu = self.machine.gpu.value
        batch = llama_server.generation_batch(
            ctx, predicted, self.available(free), gpu, self.flash.value, self.machine.gpu_memory.value
        )
        return predicted + llama_server.batch_surcharge(batch), batch

    def crowded(self, ctx: int, free: int) -> bool:
        """Ollama unloads other models first when its prediction takes over 80 % of what is free."""
        wanted, _ = self.preflight(ctx, free)
        return wanted > self.available(free) * llama_server.EVICT_SHARE // 100

    def place(self, shape: _Shape, ctx: int, free: int, work: _Work) -> Placement:
        _, batch = self.preflight(ctx, free)
        compute = llama_server.compute_buffers(self.model, ctx, batch, self.flash.value)
        work.inputs["num_batch"] = Fact(batch, f"Ollama's generation batch for {ctx} tokens")
        work.inputs["compute_buffer"] = Fact(compute.device, "estimate: llama.cpp measures it while loading")
        if self.machine.gpu.value is GpuKind.NONE:
            return Placement(0, sum(shape.layers) + shape.output + shape.input_weights + compute.host, 0)
        margin = self.margin.value
        return llama_server.fit_layers(shape.layers, shape.output, shape.input_weights, compute, free, margin)


def _flash_attention(request: Request, gpu: GpuKind, era: Era) -> Fact[bool]:
    """From 0.30 Ollama passes `--flash-attn auto` unless OLLAMA_FLASH_ATTENTION is set: on with a GPU."""
    if era is not Era.C or request.flash_attention.source != "default":
        return request.flash_attention
    on = gpu is not GpuKind.NONE
    return Fact(on, "llama.cpp auto (--flash-attn auto)" + (" on the GPU" if on else " on the CPU"))


def predict(model: ModelFacts, request: Request, machine: Machine) -> Fit:
    """Where Ollama will put `model` on `machine` for `request`, and whether it will run well."""
    machine = machine.without(model.name)
    work = _Work()
    version = machine.version.value
    era = Era.of(version)
    gpu = machine.gpu.value
    work.inputs.update(version=machine.version, gpu=machine.gpu, gpu_memory=machine.gpu_memory, ram=machine.ram)
    if machine.ram_available is not None:
        work.inputs["ram_available"] = machine.ram_available
    if not version.known:
        work.notes.append(f"Ollama version {version.text!r} is no version number: placed as the newest release")
    if model.context_length is None:
        work.notes.append("the server sent no context length: num_ctx is not capped to the model's")
    flash = _flash_attention(request, gpu, era)
    server: _ServerFit | None = None
    if era is Era.C:
        margin = machine.fit_margin or Fact(FIT_MARGIN, "llama.cpp's default fit target")
        server = _ServerFit(model, request, machine, flash, margin)
        work.inputs["fit_margin"] = margin
        work.lower(
            Accuracy.ESTIMATE,
            f"Ollama {version.text} lets llama.cpp fit the model while loading: ±1 layer "
            "(its compute buffer is estimated here, measured there)",
        )
    own_engine = model.architecture in OLLAMA_ENGINE_ARCHITECTURES and era is not Era.C
    if own_engine:
        work.lower(
            Accuracy.ESTIMATE,
            f"Ollama's own engine runs {model.architecture} and measures its layout while loading: ±1 layer",
        )

    num_ctx = _num_ctx(model, request, machine)
    kv_type = request.kv_cache_type
    if kv_type.value is not KvCacheType.F16 and not flash.value:
        kv_type = Fact(KvCacheType.F16, f"f16: {kv_type.source} needs flash attention")
    work.inputs.update(
        num_ctx=num_ctx,
        kv_cache_type=kv_type,
        flash_attention=flash,
        gpu_overhead=request.gpu_overhead,
    )
    weights = _weights(model, work)
    if model.block_count == 0:
        work.lower(
            Accuracy.ROUGH, "no architecture keys: sized as the file alone, with no KV cache (num_ctx changes nothing)"
        )
    elif weights.tied and model.tensors:
        work.notes.append("embeddings tied: token_embd counts as the output layer")

    loaded = list(machine.loaded)
    in_use = sum(m.size_vram for m in loaded) if gpu is not GpuKind.NONE else 0
    free = max(0, machine.gpu_memory.value - in_use)

    def place(shape: _Shape, parallel: int) -> Placement:
        if server is not None:
            return server.place(shape, num_ctx.value * parallel, free, work)
        return _place(shape, machine, free, era, request, own_engine)

    def shaped(parallel: int) -> tuple[_Shape, Placement]:
        shape = _shape(model, weights, request, num_ctx.value, parallel, kv_type.value, work, gpu)
        return shape, place(shape, parallel)

    total_layers = len(weights.blocks) + 1
    if request.num_parallel is not None:
        parallel = request.num_parallel
        shape, placement = shaped(parallel.value)
    elif version.at_least(0, 10):
        parallel = Fact(1, f"Ollama {version.text} default")
        shape, placement = shaped(1)
    else:
        shape, placement = shaped(4)  # these versions try 4 parallel slots, and 1 when that does not fit
        parallel = Fact(4, f"Ollama {version.text} default (auto)")
        if placement.gpu_layers < total_layers:
            parallel = Fact(1, f"Ollama {version.text} default (auto)")
            shape, placement = shaped(1)
    work.inputs["num_parallel"] = parallel

    def needs_room() -> bool:
        if server is not None:
            return server.crowded(num_ctx.value * parallel.value, free)
        return placement.gpu_layers < total_layers

    # With other models loaded Ollama wants room (a full fit; from 0.30 its preflight under 80 %
    # of what is free); failing that it unloads them one by one.
    evicts: list[str] = []
    while loaded and gpu is not GpuKind.NONE and needs_room():
        evicts.append(loaded.pop(0).name)
        free = max(0, machine.gpu_memory.value - sum(m.size_vram for m in loaded))
        placement = place(shape, parallel.value)
    if loaded:
        work.inputs["loaded"] = Fact(sum(m.size_vram for m in loaded), "/api/ps: " + ", ".join(m.name for m in loaded))

    if gpu is GpuKind.METAL and era is not Era.C and placement.size_vram > machine.ram.value:
        # Ollama refuses a partial offload bigger than RAM on a Mac and runs on the CPU instead.
        work.notes.append(
            f"the GPU share would exceed this Mac's {gib(machine.ram.value)} of RAM: Ollama runs it on the CPU"
        )
        placement = Placement(0, sum(shape.layers) + shape.output + (shape.input_weights if own_engine else 0), 0)

    verdict, reason = _judge(placement, total_layers, machine, free)
    if evicts:
        reason += f" (Ollama unloads {', '.join(evicts)} first)"
    elif loaded and gpu is not GpuKind.NONE:
        reason += f" (beside {', '.join(m.name for m in loaded)})"
    if server is not None and gpu is not GpuKind.NONE:
        reason += _uncertainty(work.inputs)
    return Fit(
        model=model.name,
        verdict=verdict,
        gpu_layers=placement.gpu_layers,
        total_layers=total_layers,
        size=placement.size,
        size_vram=placement.size_vram,
        reason=reason,
        accuracy=work.accuracy,
        era=era,
        inputs=work.inputs,
        notes=tuple(work.notes),
        evicts=tuple(evicts),
    )


def _uncertainty(inputs: dict[str, Fact[Any]]) -> str:
    """What an era C prediction rests on that llama.cpp decides only while loading."""
    compute = inputs["compute_buffer"].value
    margin = inputs["fit_margin"]
    where = "" if margin.value == FIT_MARGIN and "past load" not in margin.source else f" ({margin.source})"
    return f"; ±1 layer: compute buffer ~{round(compute / MIB)} MiB estimated, {gib(margin.value)} kept free{where}"


def _judge(placement: Placement, total_layers: int, machine: Machine, free: int) -> tuple[Verdict, str]:
    size, vram = placement.size, placement.size_vram
    gpu = machine.gpu.value
    ram = machine.ram.value
    on_cpu = size - vram
    if machine.os != "darwin" and machine.ram_available is not None and on_cpu > machine.ram_available.value:
        return Verdict.WONT_LOAD, (
            f"needs {gib(on_cpu)} of system memory, {gib(machine.ram_available.value)} is free: "
            "Ollama will refuse to load it"
        )
    # Unified memory holds the whole model; a discrete GPU leaves only the CPU share in RAM.
    resident = size if gpu in (GpuKind.METAL, GpuKind.NONE) else on_cpu
    room = ram - min(OS_HEADROOM, ram // 4)
    system = "macOS" if machine.os == "darwin" else "the system"
    on_this = f" of this Mac's {gib(ram)}" if gpu is GpuKind.METAL else ""
    if gpu is GpuKind.NONE:
        where = f"no GPU: runs on the CPU in {gib(size)} of {gib(ram)} RAM"
    elif placement.gpu_layers == 0:
        where = f"needs {gib(size)}, the GPU may use {gib(free)}{on_this}: not one layer fits, it runs on the CPU"
    elif vram == size:
        where = f"needs {gib(size)} of the {gib(free)} the GPU may use"
    else:
        where = (
            f"needs {gib(size)}, the GPU may use {gib(free)}{on_this}: "
            f"{total_layers - placement.gpu_layers} of {total_layers} layers stay on the CPU"
        )
    if resident > room:
        what = "" if resident == size else f"its {gib(resident)} in RAM is "
        return Verdict.SWAPS, f"{where}; {what}over the ~{gib(room)} left beside {system}, so it will swap"
    if vram == size and gpu is not GpuKind.NONE:
        return Verdict.FITS, where
    return Verdict.SPILLS, where
