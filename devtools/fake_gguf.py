"""GGUF shapes for the fake server: the tensor list and keys `/api/show` with `verbose` returns.

A model is described by its architecture (from its config.json) and its file type; the tensors
follow llama.cpp's naming and its quantisation mixes. This table of type sizes is kept apart from
the estimator's on purpose, so a wrong size in one is caught by the other in tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

# GGML type -> (bytes per block, elements per block).
TYPE_SIZES = {"F32": (4, 1), "F16": (2, 1), "Q8_0": (34, 32), "Q4_K": (144, 256), "Q6_K": (210, 256)}
# What a GGUF file carries besides tensor data (tokenizer, merges, template): about 6 MB for these.
METADATA_BYTES = 5_955_271


@dataclass(frozen=True)
class FakeArch:
    """A transformer's shape, enough to list its tensors."""

    architecture: str  # "qwen2", "llama", "qwen3", or any name the estimator does not know
    block_count: int
    embedding: int
    heads: int
    heads_kv: int
    vocab: int
    feed_forward: int
    context_length: int = 131072
    tied_embeddings: bool = False

    @property
    def head_dim(self) -> int:
        return self.embedding // self.heads


def _more_bits(layer: int, layers: int) -> bool:
    """llama.cpp's Q4_K_M rule for which attn_v / ffn_down layers get Q6_K."""
    return layer < layers // 8 or layer >= 7 * layers // 8 or (layer - layers // 8) % 3 == 2


def _weight_type(file_type: str, tensor: str, layer: int, layers: int) -> str:
    if file_type in ("F16", "Q8_0"):
        return file_type
    if file_type != "Q4_K_M":
        raise ValueError(f"no tensor mix for file type {file_type}")
    if tensor == "output":
        return "Q6_K"
    if tensor in ("attn_v", "ffn_down") and _more_bits(layer, layers):
        return "Q6_K"
    return "Q4_K"


def tensors(arch: FakeArch, file_type: str) -> list[dict[str, Any]]:
    """The tensor list in file order, as /api/show sends it: name, type, shape (ne order)."""
    E, L, kv_dim = arch.embedding, arch.block_count, arch.head_dim * arch.heads_kv

    def weight(name: str, shape: list[int], layer: int = 0) -> dict[str, Any]:
        kind = name.rsplit(".", 2)[-2]
        return {"name": name, "type": _weight_type(file_type, kind, layer, L), "shape": shape}

    def vector(name: str, length: int) -> dict[str, Any]:
        return {"name": name, "type": "F32", "shape": [length]}

    items = [weight("token_embd.weight", [E, arch.vocab])]
    for i in range(L):
        p = f"blk.{i}."
        items += [
            vector(p + "attn_norm.weight", E),
            weight(p + "attn_q.weight", [E, E], i),
            weight(p + "attn_k.weight", [E, kv_dim], i),
            weight(p + "attn_v.weight", [E, kv_dim], i),
            weight(p + "attn_output.weight", [E, E], i),
        ]
        if arch.architecture == "qwen2":
            items += [
                vector(p + "attn_q.bias", E),
                vector(p + "attn_k.bias", kv_dim),
                vector(p + "attn_v.bias", kv_dim),
            ]
        if arch.architecture == "qwen3":
            items += [vector(p + "attn_q_norm.weight", arch.head_dim), vector(p + "attn_k_norm.weight", arch.head_dim)]
        items += [
            vector(p + "ffn_norm.weight", E),
            weight(p + "ffn_gate.weight", [E, arch.feed_forward], i),
            weight(p + "ffn_up.weight", [E, arch.feed_forward], i),
            weight(p + "ffn_down.weight", [arch.feed_forward, E], i),
        ]
    items.append(vector("output_norm.weight", E))
    if not arch.tied_embeddings:
        items.append(weight("output.weight", [E, arch.vocab]))
    return items


def file_size(arch: FakeArch, file_type: str) -> int:
    """Bytes on disk: the tensor data plus the metadata."""
    total = 0
    for tensor in tensors(arch, file_type):
        block_bytes, block = TYPE_SIZES[tensor["type"]]
        total += math.prod(tensor["shape"]) * block_bytes // block
    return total + METADATA_BYTES


@cache
def _token_list(vocab: int) -> tuple[str, ...]:
    return tuple(f"t{i}" for i in range(vocab))


def model_info(arch: FakeArch, parameter_count: int, *, verbose: bool) -> dict[str, Any]:
    """The `model_info` keys; without verbose, arrays longer than 5 come back empty, as in Ollama."""
    a = arch.architecture
    tokens: list[str] | tuple[str, ...] = _token_list(arch.vocab) if verbose else []
    return {
        "general.architecture": a,
        "general.parameter_count": parameter_count,
        f"{a}.block_count": arch.block_count,
        f"{a}.context_length": arch.context_length,
        f"{a}.embedding_length": arch.embedding,
        f"{a}.feed_forward_length": arch.feed_forward,
        f"{a}.attention.head_count": arch.heads,
        f"{a}.attention.head_count_kv": arch.heads_kv,
        f"{a}.attention.layer_norm_rms_epsilon": 1e-6,
        f"{a}.rope.freq_base": 10000,
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.tokens": list(tokens),
    }


# The DeepSeek-R1 distills' bases (fit-estimate.md; feed-forward sizes from their configs).
QWEN2_1_5B = FakeArch("qwen2", 28, 1536, 12, 2, 151936, 8960)
QWEN2_7B = FakeArch("qwen2", 28, 3584, 28, 4, 152064, 18944)
LLAMA_8B = FakeArch("llama", 32, 4096, 32, 8, 128256, 14336)
QWEN3_8B = FakeArch("qwen3", 36, 4096, 32, 8, 151936, 12288, context_length=40960)
QWEN2_14B = FakeArch("qwen2", 48, 5120, 40, 8, 152064, 13824)
LLAMA_3B_TIED = FakeArch("llama", 28, 3072, 24, 8, 128256, 8192, tied_embeddings=True)
