"""KV cache per block and the compute graph's size, by Ollama's GraphSize formulas (fs/ggml).

Integer arithmetic on purpose: Ollama computes these in uint64, so divisions truncate.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.fit.inputs import ModelFacts

# Architectures with a formula here; any other gets Ollama's generic fallback.
KNOWN_GRAPHS = frozenset({"qwen2", "llama"})


@dataclass(frozen=True)
class GraphSize:
    kv: tuple[int, ...]  # bytes of KV cache per block
    partial: int  # compute graph when some layers stay on the CPU
    full: int  # compute graph when every layer is on the GPU
    generic: bool  # the architecture had no formula: the generic one was used


def graph_size(model: ModelFacts, ctx: int, batch: int, kv_bytes: float) -> GraphSize:
    """`ctx` is num_ctx × num_parallel; `batch` is min(num_ctx, num_batch)."""
    kv = tuple(
        int(ctx * (model.key_length + model.value_length) * kv_heads * kv_bytes) if heads and kv_heads else 0
        for heads, kv_heads in zip(model.head_count, model.head_count_kv, strict=True)
    )
    E, H, KV, hd = model.embedding_length, model.heads_max, model.heads_kv_max, model.head_dim
    V = model.vocab_size
    if model.architecture == "qwen2" and V is not None:
        full = max(4 * batch * (E + V), 4 * batch * (1 + 2 * E + ctx + ctx * H))
        partial = max(
            4 * batch * (E + V) + E * V * 105 // 128,
            4 * (batch * (1 + 2 * E + ctx * (1 + H)) + E * (1 + ctx)),
        )
        return GraphSize(kv, partial, full, generic=False)
    if model.architecture == "llama" and V is not None:
        full = max(4 * batch * (1 + 4 * E + ctx * (1 + H)), 4 * batch * (E + V))
        partial = 4 * batch * E + max(
            4 * batch * (1 + E + max(ctx, E)) + E * E * 9 // 16 + 4 * ctx * (batch * H + hd * KV),
            4 * batch * (E + V) + E * V * 105 // 128,
        )
        return GraphSize(kv, partial, full, generic=False)
    # Ollama's fallback: a share of the KV cache scaled by the grouped-query ratio.
    gqa = model.heads_max // max(model.heads_kv_min, 1)
    partial = gqa * sum(kv) // 6
    return GraphSize(kv, partial, partial, generic=True)
