"""What a placement estimate starts from, each figure with where it came from.

Three groups: the model file (`ModelFacts`), the request's runner options (`Request`), and the
machine Ollama runs on with its Ollama version (`Machine`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from tui.core.ollama.models import LoadedModel, ModelTensors, TensorInfo

T = TypeVar("T")

GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A value and, in words, where it came from ("--ram", "Metal", "Ollama 0.12.6 default")."""

    value: T
    source: str


# Architectures Ollama runs on its own engine, which measures its layout while loading instead
# of estimating it (fs/ggml OllamaEngineRequired, 0.12.x).
OLLAMA_ENGINE_ARCHITECTURES = frozenset(
    {
        "gemma3",
        "gemma3n",
        "gptoss",
        "gpt-oss",
        "llama4",
        "mistral3",
        "mllama",
        "qwen25vl",
        "qwen3",
        "qwen3moe",
        "qwen3vl",
        "qwen3vlmoe",
    }
)


@dataclass(frozen=True)
class ModelFacts:
    """A model file's shape: hyperparameters from its GGUF keys, and its tensors."""

    name: str
    architecture: str
    block_count: int
    embedding_length: int
    head_count: tuple[int, ...]  # per block
    head_count_kv: tuple[int, ...]  # per block
    key_length: int
    value_length: int
    vocab_size: int | None  # tokenizer tokens; None when the server did not send them
    context_length: int | None
    tensors: tuple[TensorInfo, ...]
    file_size: int
    modelfile_num_ctx: int | None = None
    feed_forward_length: int = 0  # 0: not known

    @property
    def heads_max(self) -> int:
        return max(self.head_count, default=0)

    @property
    def heads_kv_max(self) -> int:
        return max(self.head_count_kv, default=0)

    @property
    def heads_kv_min(self) -> int:
        return min((n for n in self.head_count_kv if n > 0), default=0)

    @property
    def head_dim(self) -> int:
        """Embedding width per head (Ollama's EmbeddingHeadCountMax)."""
        heads = min((n for n in self.head_count if n > 0), default=0)
        return self.embedding_length // heads if heads else 0

    @classmethod
    def from_tensors(cls, shown: ModelTensors, file_size: int) -> ModelFacts:
        """Read the architecture keys (`<arch>.block_count`, ...) the way Ollama's GGUF reader does."""
        arch = shown.architecture
        keys = shown.keys

        def number(key: str, default: int = 0) -> int:
            value = keys.get(f"{arch}.{key}")
            return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default

        blocks = number("block_count")
        embedding = number("embedding_length")

        def per_block(key: str) -> tuple[int, ...]:
            value = keys.get(f"{arch}.{key}")
            if isinstance(value, tuple):
                return tuple(int(v) for v in value[:blocks]) + (0,) * max(0, blocks - len(value))
            return (number(key),) * blocks

        heads = per_block("attention.head_count")
        top_heads = max(heads, default=0)
        default_head = embedding // top_heads if top_heads else 0
        context = number("context_length")
        return cls(
            name=shown.name,
            architecture=arch,
            block_count=blocks,
            embedding_length=embedding,
            head_count=heads,
            head_count_kv=per_block("attention.head_count_kv"),
            key_length=number("attention.key_length", default_head),
            value_length=number("attention.value_length", default_head),
            vocab_size=shown.token_count,
            context_length=context or None,
            tensors=shown.tensors,
            file_size=file_size,
            modelfile_num_ctx=shown.num_ctx,
            feed_forward_length=number("feed_forward_length"),
        )


class KvCacheType(str, enum.Enum):
    F16 = "f16"
    Q8_0 = "q8_0"
    Q4_0 = "q4_0"

    @property
    def bytes_per_element(self) -> float:
        return {"f16": 2.0, "q8_0": 1.0, "q4_0": 0.5}[self.value]


@dataclass(frozen=True)
class Request:
    """The runner options that change placement. None: the server's default decides.

    `num_ctx` is the chat's own setting and wins over the model's Modelfile, which wins over
    `default_num_ctx` (OLLAMA_CONTEXT_LENGTH) and the version's default.
    """

    num_ctx: Fact[int] | None = None
    default_num_ctx: Fact[int] | None = None
    num_parallel: Fact[int] | None = None
    kv_cache_type: Fact[KvCacheType] = Fact(KvCacheType.F16, "default")
    flash_attention: Fact[bool] = Fact(False, "default")
    gpu_overhead: Fact[int] = Fact(0, "default")
    num_batch: int = 512

    @classmethod
    def from_environment(cls, env: Mapping[str, str], *, source: str = "environment") -> Request:
        """Ollama's own settings, read where the server runs (its environment, if it is this shell's)."""
        request = cls()
        if ctx := _env_uint(env, "OLLAMA_CONTEXT_LENGTH"):
            request = replace(request, default_num_ctx=Fact(ctx, f"OLLAMA_CONTEXT_LENGTH ({source})"))
        if (parallel := _env_uint(env, "OLLAMA_NUM_PARALLEL")) is not None and parallel > 0:
            request = replace(request, num_parallel=Fact(parallel, f"OLLAMA_NUM_PARALLEL ({source})"))
        if (overhead := _env_uint(env, "OLLAMA_GPU_OVERHEAD")) is not None:
            request = replace(request, gpu_overhead=Fact(overhead, f"OLLAMA_GPU_OVERHEAD ({source})"))
        if (flash := _env_bool(env, "OLLAMA_FLASH_ATTENTION")) is not None:
            request = replace(request, flash_attention=Fact(flash, f"OLLAMA_FLASH_ATTENTION ({source})"))
        kv = (env.get("OLLAMA_KV_CACHE_TYPE") or "").strip().lower()
        if kv in {t.value for t in KvCacheType}:
            request = replace(request, kv_cache_type=Fact(KvCacheType(kv), f"OLLAMA_KV_CACHE_TYPE ({source})"))
        return request

    def with_num_ctx(self, num_ctx: int | None, source: str) -> Request:
        """The chat's (or the command line's) num_ctx wins over every default."""
        return self if num_ctx is None else replace(self, num_ctx=Fact(num_ctx, source))


def _env_uint(env: Mapping[str, str], name: str) -> int | None:
    text = (env.get(name) or "").strip()
    return int(text) if text.isdigit() else None


def _env_bool(env: Mapping[str, str], name: str) -> bool | None:
    # Go's strconv.ParseBool, which Ollama uses.
    text = (env.get(name) or "").strip()
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    return None


class GpuKind(str, enum.Enum):
    """The GPU library Ollama would use."""

    METAL = "Metal"
    CUDA = "CUDA"
    ROCM = "ROCm"
    NONE = "none"

    @property
    def minimum_memory(self) -> int:
        """Ollama's per-GPU reserve (ml.DeviceInfo.MinimumMemory)."""
        return {"Metal": 512 * MIB, "CUDA": 457 * MIB, "ROCm": 457 * MIB, "none": 0}[self.value]


@dataclass(frozen=True, order=True)
class OllamaVersion:
    """A server version as three numbers; an unknown or development build sorts as the newest."""

    parts: tuple[int, int, int]
    text: str = field(compare=False)
    known: bool = field(default=True, compare=False)  # False: the text was no version number

    @classmethod
    def parse(cls, text: str) -> OllamaVersion:
        match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
        parts = (int(match[1]), int(match[2]), int(match[3])) if match else (0, 0, 0)
        if parts == (0, 0, 0):  # "0.0.0" is a source build: assume it is current
            parts = (999, 0, 0)
        return cls(parts, text.strip() or "unknown", known=match is not None)

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        return self.parts >= (major, minor, patch)


@dataclass(frozen=True)
class Machine:
    """Where Ollama runs: its version, its GPU and what that may hold, its RAM, what is loaded.

    `gpu_memory` is what the GPU would offer Ollama with no model loaded: on a Mac the Metal
    working-set limit, on NVIDIA the free VRAM plus what loaded models hold. `ram_available`
    (free RAM + free swap) decides Ollama's refusal on Linux and Windows; None: not known.
    `fit_margin` is the free memory llama.cpp's fit keeps (era C) when past loads on this host
    corrected it; None: llama.cpp's default.
    """

    version: Fact[OllamaVersion]
    gpu: Fact[GpuKind]
    gpu_memory: Fact[int]
    ram: Fact[int]
    os: str = "darwin"  # "darwin", "linux" or "windows": Ollama's memory refusal skips macOS
    ram_available: Fact[int] | None = None
    loaded: tuple[LoadedModel, ...] = ()
    fit_margin: Fact[int] | None = None

    def without(self, model: str) -> Machine:
        """The machine as a fresh load of `model` finds it: a running copy of it does not count."""
        return replace(self, loaded=tuple(m for m in self.loaded if m.name != model))
