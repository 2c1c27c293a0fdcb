"""Ollama's two placement rules for one GPU, as the sizes `/api/ps` then reports.

`estimate_layers` is era A (≤ 0.12.10, llm/memory.go): blocks from the top down while they fit
beside a reserve, a one-block buffer and the graph, all counted in the reported sizes.
`greedy_layout` is era B (0.12.11 on, llm/server.go createLayout): the buffer, reserve and graph
come off the free memory first, the reported sizes count the layers and the graph only, and
the output layer is given up when not everything fits.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    gpu_layers: int  # of blocks + output layer
    size: int
    size_vram: int


def estimate_layers(
    layers: tuple[int, ...],
    output: int,
    partial: int,
    full: int,
    free: int,
    reserve: int,
    overhead: int,
    *,
    cpu: bool = False,
) -> Placement:
    """Era A. `layers` are weights + KV per block; `cpu` estimates for Ollama's CPU "device"."""
    graph_max = max(partial, full)
    buffer = layers[0] if layers else 0
    if free < overhead + graph_max + reserve + 2 * buffer:
        return Placement(0, sum(layers) + output, 0)
    allocated = reserve + buffer
    placed, overflow, room = 0, 0, True
    for size in reversed(layers):
        if room and free > overhead + allocated + graph_max + size:
            allocated += size
            placed += 1
        else:
            room = False
            overflow += size
    fully = placed >= len(layers)
    if output:
        if room and free > overhead + allocated + graph_max + output:
            allocated += output
            placed += 1
        else:
            fully = False
            overflow += output
    if placed == 0:
        return Placement(0, allocated + overflow, 0)
    allocated += full if fully else partial
    if cpu:
        return Placement(0, allocated + overflow, 0)
    return Placement(placed, allocated + overflow, allocated)


def _float32(value: int) -> int:
    """Ollama scales free memory through a float32 (capacity factor 1): keep its rounding."""
    return int(struct.unpack("f", struct.pack("f", float(value)))[0])


def _fit_from_top(layers: list[int], space: int) -> int:
    placed = 0
    for size in reversed(layers):
        if size > space:
            break
        space -= size
        placed += 1
    return placed


def greedy_layout(
    layers: tuple[int, ...],
    output: int,
    partial: int,
    full: int,
    free: int,
    reserve: int,
    overhead: int,
    *,
    buffer: bool = True,
    input_weights: int = 0,
) -> Placement:
    """Era B. `input_weights` (token_embd) counts only for engines that report it (Ollama's own)."""
    all_layers = [*layers, output]
    if buffer and layers:
        free = max(0, free - layers[0])
    graph_max = max(partial, full)
    taken = reserve + overhead + graph_max
    space = _float32(free - taken if free > taken else 0)
    placed = _fit_from_top(all_layers, space)
    if placed < len(all_layers):
        placed = _fit_from_top(all_layers[:-1], space)  # rather more blocks than the output layer
        on_gpu = sum(all_layers[len(all_layers) - 1 - placed : -1])
    else:
        on_gpu = sum(all_layers)
    everything = sum(all_layers) + input_weights
    if placed == 0:
        return Placement(0, everything, 0)
    graph = full if placed == len(all_layers) else partial
    if placed == len(all_layers):
        # With every layer on the GPU the CPU leftovers count as GPU too (a full offload).
        return Placement(placed, everything + graph, everything + graph)
    return Placement(placed, everything + graph, on_gpu + graph)
