"""What Ollama tells about models: the local catalogue, one model's details, loaded models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CatalogModel:
    """A model the server offers, as /api/tags lists it; a cloud model names the host that runs it."""

    name: str
    size: int
    digest: str = ""
    family: str = ""
    parameter_size: str = ""
    quantization: str = ""
    remote_host: str | None = None  # e.g. https://ollama.com:443 (Ollama 0.12+ cloud models)
    remote_model: str | None = None  # the name there, e.g. gpt-oss:120b

    @property
    def cloud(self) -> bool:
        """Served by another host: no local runner, memory or power is its cost."""
        return self.remote_host is not None


@dataclass(frozen=True)
class ModelDetails:
    """/api/show of one model: what it can do and its context window."""

    name: str
    capabilities: tuple[str, ...] = ()
    context_length: int | None = None
    family: str = ""
    parameter_size: str = ""
    quantization: str = ""

    @property
    def can_think(self) -> bool:
        """Only models with this capability accept the `think` parameter."""
        return "thinking" in self.capabilities


@dataclass(frozen=True)
class LoadedModel:
    """A model in memory, as /api/ps reports it."""

    name: str
    size: int
    size_vram: int
    expires_at: datetime | None = None
    context_length: int | None = None


@dataclass(frozen=True)
class PullProgress:
    """One line of /api/pull: a status, and for a layer its digest and bytes done of total."""

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a model file: GGML type name ("Q4_K", "F16", ...) and shape in ne order."""

    name: str
    type: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModelTensors:
    """/api/show with `verbose`: what a memory estimate needs to know about a model file.

    `keys` holds model_info's scalars and numeric arrays (per-layer head counts); string arrays
    are left out and only the tokenizer's length is kept. `tensors` is empty when the server
    sent none (old servers, proxies).
    """

    name: str
    architecture: str
    keys: dict[str, int | float | str | bool | tuple[int | float, ...]]
    token_count: int | None
    tensors: tuple[TensorInfo, ...]
    num_ctx: int | None = None  # a PARAMETER num_ctx line of the model's Modelfile
