"""Model facts and machines for the fit advisor's tests, built from the fake server's GGUF shapes."""

from __future__ import annotations

from typing import Any

from devtools import fake_gguf
from devtools.fake_gguf import FakeArch
from tui.core.fit.inputs import GIB, MIB, Fact, GpuKind, Machine, ModelFacts, OllamaVersion
from tui.core.fit.what_if import WhatIf
from tui.core.ollama.models import ModelTensors, TensorInfo

# The Mac mini M4 16 GB that ran the sweep of eleven DeepSeek-R1 variants (devtools.fake_ollama's
# deepseek_r1_sweep_models): Metal's working-set limit as Ollama logged it there.
M4_GPU = round(10922.7 * MIB)
MAC_MINI_M4_16GB = WhatIf(ram=16 * GIB, gpu_memory=M4_GPU)
# A 24 GB Mac whose GPU may use 12 GiB: the sweep's models fit, spill or swap there.
MAC_24GB = WhatIf(ram=24 * GIB, gpu_memory=12 * GIB)


def facts(arch: FakeArch, file_type: str, name: str = "m:test", *, with_tensors: bool = True) -> ModelFacts:
    """What the client makes of the fake's /api/show verbose answer for this shape."""
    info = fake_gguf.model_info(arch, 1, verbose=True)
    keys = {k: v for k, v in info.items() if not isinstance(v, list)}
    tensors = (
        tuple(TensorInfo(t["name"], t["type"], tuple(t["shape"])) for t in fake_gguf.tensors(arch, file_type))
        if with_tensors
        else ()
    )
    shown = ModelTensors(name, arch.architecture, keys, len(info["tokenizer.ggml.tokens"]), tensors)
    return ModelFacts.from_tensors(shown, fake_gguf.file_size(arch, file_type))


def mac(version: str = "0.12.6", gpu_memory: int = M4_GPU, ram: int = 16 * GIB, **kwargs: Any) -> Machine:
    """A Metal Mac as `ollamon fit` reads it, by default the Mac mini M4 16 GB."""
    return Machine(
        Fact(OllamaVersion.parse(version), "test"),
        Fact(GpuKind.METAL, "test"),
        Fact(gpu_memory, "test"),
        Fact(ram, "test"),
        "darwin",
        **kwargs,
    )
