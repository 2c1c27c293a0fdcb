"""GGUF tensor sizes and how Ollama groups tensors into layers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from tui.core.ollama.models import TensorInfo

# GGML type name as /api/show spells it -> (bytes per block, elements per block). Ollama names
# the IQ types "unknown", so their sizes cannot be known from the wire.
TYPE_SIZES: dict[str, tuple[int, int]] = {
    "F64": (8, 1),
    "F32": (4, 1),
    "F16": (2, 1),
    "BF16": (2, 1),
    "Q4_0": (18, 32),
    "Q4_1": (20, 32),
    "Q5_0": (22, 32),
    "Q5_1": (24, 32),
    "Q8_0": (34, 32),
    "Q8_1": (36, 32),
    "MXFP4": (17, 32),
    "Q2_K": (84, 256),
    "Q3_K": (110, 256),
    "Q4_K": (144, 256),
    "Q5_K": (176, 256),
    "Q6_K": (210, 256),
    "Q8_K": (292, 256),
}


def tensor_bytes(tensor: TensorInfo) -> int:
    """Exact bytes of one tensor; KeyError for a type whose size is not known."""
    block_bytes, block = TYPE_SIZES[tensor.type]
    return math.prod(tensor.shape) * block_bytes // block


def layer_name(tensor_name: str) -> str:
    """Ollama's grouping: `blk.N.*` (and `mm.N.*`) by block, everything else by its first part."""
    parts = tensor_name.split(".")
    for marker in ("blk", "mm"):
        if marker in parts:
            index = parts.index(marker)
            if len(parts) > index + 2:
                return ".".join(parts[: index + 2])
    return parts[0]


@dataclass(frozen=True)
class LayerWeights:
    """Bytes per repeating block, the output layer, and the input embeddings."""

    blocks: tuple[int, ...]
    output: int  # output_norm + output, or token_embd when the embeddings are tied
    token_embd: int
    tied: bool

    @classmethod
    def from_tensors(cls, tensors: Iterable[TensorInfo], block_count: int) -> LayerWeights:
        """Sum tensor sizes per layer; KeyError when a tensor's type has no known size."""
        by_layer: dict[str, int] = {}
        for tensor in tensors:
            name = layer_name(tensor.name)
            by_layer[name] = by_layer.get(name, 0) + tensor_bytes(tensor)
        blocks = tuple(by_layer.get(f"blk.{i}", 0) for i in range(block_count))
        tied = "output" not in by_layer
        head = by_layer.get("output", 0) if not tied else by_layer.get("token_embd", 0)
        return cls(blocks, by_layer.get("output_norm", 0) + head, by_layer.get("token_embd", 0), tied)

    @classmethod
    def from_file_size(cls, file_size: int, block_count: int) -> LayerWeights:
        """Without tensors: the file spread evenly over the blocks and the output layer (rough); with
        no blocks known, all of it is the one output unit."""
        share = file_size // (block_count + 1)
        return cls((share,) * block_count, share, 0, False)
