"""Model facts and machines for the fit advisor's tests, built from the fake server's GGUF shapes."""

from __future__ import annotations

from typing import Any

from devtools import fake_gguf
from devtools.fake_gguf import FakeArch
from tui.core.fit import Fact, GpuKind, Machine, ModelFacts
from tui.core.fit.inputs import GIB, MIB, OllamaVersion
from tui.core.ollama.models import ModelTensors, TensorInfo

# The reviewer's 16 GB Mac mini M4: Metal's working-set limit as Ollama logged it.
M4_GPU = round(10922.7 * MIB)


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
    return Machine(
        Fact(OllamaVersion.parse(version), "test"),
        Fact(GpuKind.METAL, "test"),
        Fact(gpu_memory, "test"),
        Fact(ram, "test"),
        "darwin",
        **kwargs,
    )
