"""Era C (Ollama ≥ 0.30): Ollama's preflight and llama-server's own fit, for one GPU.

The rules, read from ollama/ollama v0.33 and llama.cpp (facts, not code):
- Preflight (llm/llama_server.go PredictServerVRAM): the file size plus an f16 KV cache of
  2 × blocks × min KV heads × (embedding / max heads) × context × 2 bytes.
- Batch (server/sched.go automaticGenerationBatch): 512, 1024 above 4096 tokens, 2048 above
  32768; stepped down while the preflight is above 80 % of free memory, above its headroom
  (75 % for 1024, 60 % for 2048), or the batch's surcharge (768 MiB, 2 GiB) does not fit under
  the 80 %. CUDA without flash attention keeps 512 (256 above 4096 tokens on ≤ 8 GiB).
  Ollama passes it as -b and -ub.
- Eviction (server/sched.go): with other models loaded, they are unloaded first when the
  preflight plus the surcharge is above 80 % of free memory.
- Fit (llama.cpp common/fit.cpp common_params_fit_impl): target = free − margin (1024 MiB,
  LLAMA_ARG_FIT_TARGET); the context stays (Ollama passes -c); n_gpu_layers = k puts the output
  layer and the last k − 1 blocks on the device, and the fit keeps the largest k whose projected
  device memory (weights + KV cache + compute buffer) is within the target.
- Reported sizes (llm/llama_server.go MemorySize): size counts every buffer llama-server logs,
  size_vram the device's; with every layer on the device size is size_vram.

llama.cpp measures its compute buffers with a dry run; here they are estimated (below), which
is why era C is about ±1 layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.fit.inputs import GIB, MIB, GpuKind, ModelFacts
from tui.core.fit.placement import Placement

# llama.cpp's default free-memory target per device (common/fit.cpp, --fit-target).
FIT_MARGIN = 1024 * MIB
EVICT_SHARE = 80  # percent of free memory the preflight may take beside loaded models


def preflight_bytes(model: ModelFacts, ctx: int) -> int:
    """Ollama's PredictServerVRAM: the file and an f16 KV cache for `ctx` (num_ctx × parallel)."""
    kv_heads = model.heads_kv_min or 1
    head_dim = model.embedding_length // model.heads_max if model.heads_max else 0
    return model.file_size + 2 * model.block_count * kv_heads * head_dim * ctx * 2


def batch_surcharge(batch: int) -> int:
    """What Ollama adds to its preflight for a larger generation batch."""
    return 2 * GIB if batch >= 2048 else 768 * MIB if batch >= 1024 else 0


def _batch_fits(batch: int, predicted: int, available: int) -> bool:
    if predicted == 0 or available == 0:
        return True
    threshold = available * EVICT_SHARE // 100
    headroom = 60 if batch >= 2048 else 75 if batch >= 1024 else 100
    if predicted > threshold or predicted > available * headroom // 100:
        return False
    return batch_surcharge(batch) <= threshold - predicted


def generation_batch(ctx: int, predicted: int, available: int, gpu: GpuKind, flash: bool, gpu_memory: int) -> int:
    """The -b/-ub Ollama passes for a chat model with `ctx` tokens in all."""
    if gpu is GpuKind.CUDA and not flash:
        return 256 if ctx > 4096 and 0 < gpu_memory <= 8 * GIB else 512
    batch = 2048 if ctx > 32768 else 1024 if ctx > 4096 else 512
    while batch > 512 and not _batch_fits(batch, predicted, available):
        batch = 1024 if batch > 1024 else 512
    return batch


@dataclass(frozen=True)
class ComputeBuffers:
    """Estimated scratch memory of one forward pass: on the device, and on the host when layers stay there."""

    device: int
    host: int


def compute_buffers(model: ModelFacts, ctx: int, batch: int, flash: bool) -> ComputeBuffers:
    """An estimate: llama.cpp sizes these by reserving its worst-case graph, which is not reproduced here.

    The device holds the output layer, so its largest tensors are a batch of f32 logits and
    input rows, 4·b·(E + V); without flash attention a layer's f32 attention scores,
    4·b·ctx·H, may be larger. The host computes the blocks left there: input rows and the
    feed-forward activations, 4·b·(2E + 2F), or the attention scores without flash attention.
    """
    b = min(batch, ctx) if ctx else batch
    E, H, V = model.embedding_length, model.heads_max, model.vocab_size or 0
    F = model.feed_forward_length or 4 * E
    scores = 0 if flash else 4 * b * ctx * H
    return ComputeBuffers(max(4 * b * (E + V), scores), max(4 * b * (2 * E + 2 * F), scores))


def fit_layers(
    blocks: tuple[int, ...],
    output: int,
    input_weights: int,
    compute: ComputeBuffers,
    free: int,
    margin: int,
) -> Placement:
    """llama.cpp's fit: the most layers, counted from the output side, within free − margin.

    `blocks` are weights + KV cache per block, `output` the output layer's weights, and
    `input_weights` the token embeddings, which llama.cpp always keeps on the host.
    """
    target = free - margin
    total = len(blocks) + 1
    placed = 0
    device = 0
    for k in range(1, total + 1):
        on_device = output + sum(blocks[len(blocks) - (k - 1) :]) + compute.device
        if on_device > target:
            break
        placed, device = k, on_device
    everything = sum(blocks) + output + input_weights
    if placed == total:
        return Placement(placed, device, device)
    if placed == 0:
        return Placement(0, everything + max(compute.host, compute.device), 0)
    return Placement(placed, everything + compute.device + compute.host, device)
