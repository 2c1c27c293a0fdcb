"""Era C (Ollama ≥ 0.30): Ollama's preflight and llama.cpp's fit, on the Mac mini M4 16 GB sweep's models."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devtools import fake_gguf
from tests.helpers.fit import facts, mac
from tui.core.fit import llama_server
from tui.core.fit.estimate import FIT_MARGIN, Era, predict, ps_size
from tui.core.fit.ggml import LayerWeights
from tui.core.fit.inputs import GIB, MIB, Fact, GpuKind, OllamaVersion, Request
from tui.core.fit.verdict import Accuracy, Verdict
from tui.core.ollama.models import LoadedModel

Q4, Q8, F16 = "Q4_K_M", "Q8_0", "F16"
R1_5, R7, R8, R14 = fake_gguf.QWEN2_1_5B, fake_gguf.QWEN2_7B, fake_gguf.LLAMA_8B, fake_gguf.QWEN2_14B
ALL_GPU = "100% GPU"

# At 0.33 on the 16 GB M4 (num_ctx 4096, batch 512, 1 GiB kept free): layers on the GPU, SIZE,
# PROCESSOR, verdict. Predictions, not observations: the sweep ran 0.12.6 (era A).
ERA_C = [
    ("1.5b Q4_K_M", R1_5, Q4, 29, "1.4 GB", ALL_GPU, Verdict.FITS),
    ("1.5b Q8_0", R1_5, Q8, 29, "2.1 GB", ALL_GPU, Verdict.FITS),
    ("1.5b FP16", R1_5, F16, 29, "3.5 GB", ALL_GPU, Verdict.FITS),
    ("7b Q4_K_M", R7, Q4, 29, "4.9 GB", ALL_GPU, Verdict.FITS),
    ("7b Q8_0", R7, Q8, 29, "8.1 GB", ALL_GPU, Verdict.FITS),
    ("7b FP16", R7, F16, 19, "15 GB", "37%/63% CPU/GPU", Verdict.SWAPS),
    ("8b Q8_0", R8, Q8, 33, "8.8 GB", ALL_GPU, Verdict.FITS),
    # 21 layers, 39%/61% at 10.67 GiB (`ollamon fit --gpu-memory 10.67GiB`): 3 MiB more, one more layer.
    ("8b FP16", R8, F16, 20, "16 GB", "41%/59% CPU/GPU", Verdict.SWAPS),
    ("14b Q4_K_M", R14, Q4, 49, "9.7 GB", ALL_GPU, Verdict.FITS),
    ("14b Q8_0", R14, Q8, 30, "16 GB", "40%/60% CPU/GPU", Verdict.SWAPS),
    ("14b FP16", R14, F16, 15, "30 GB", "68%/32% CPU/GPU", Verdict.SWAPS),
]


@pytest.mark.parametrize("case", ERA_C, ids=[case[0] for case in ERA_C])
def test_the_deepseek_r1_sweep_at_0_33(case: tuple) -> None:
    """Each sweep model's layers, size, split and verdict at Ollama 0.33 on the 16 GB M4, marked an estimate."""
    _, arch, file_type, layers, size, processor, verdict = case
    fit = predict(facts(arch, file_type, case[0]), Request(), mac("0.33.0"))
    assert (fit.gpu_layers, ps_size(fit.size), fit.processor, fit.verdict) == (layers, size, processor, verdict)
    assert fit.era is Era.C and fit.accuracy is Accuracy.ESTIMATE
    assert "±1 layer" in fit.reason and "compute buffer" in fit.reason


def test_a_full_fit_is_weights_kv_and_the_device_compute_buffer() -> None:
    """With every layer on the GPU the size is blocks + KV + output + compute buffer, without token_embd."""
    model = facts(R7, Q4)
    fit = predict(model, Request(), mac("0.33.0"))
    weights = LayerWeights.from_tensors(model.tensors, model.block_count)
    kv = 28 * 4096 * 256 * 4 * 2
    compute = 4 * 512 * (3584 + 152064)  # a batch of f32 logits and input rows
    assert fit.size == fit.size_vram == sum(weights.blocks) + kv + weights.output + compute
    assert fit.inputs["compute_buffer"].value == compute and fit.inputs["num_batch"].value == 512


def test_layers_leave_from_the_input_side_and_the_margin_is_kept() -> None:
    """A partial fit keeps the output layer and the last blocks on the GPU, within free memory minus 1 GiB."""
    model = facts(R7, F16)
    fit = predict(model, Request(), mac("0.33.0"))
    weights = LayerWeights.from_tensors(model.tensors, model.block_count)
    per_block = weights.blocks[-1] + 4096 * 256 * 4 * 2
    assert fit.size_vram <= mac().gpu_memory.value - FIT_MARGIN < fit.size_vram + per_block
    on_cpu = sum(weights.blocks[: 29 - fit.gpu_layers]) + weights.token_embd
    assert fit.size - fit.size_vram > on_cpu


def test_ollamas_preflight_is_file_size_and_an_f16_kv_cache() -> None:
    """PredictServerVRAM: the file plus 2 × blocks × KV heads × head size × context × 2 bytes."""
    model = facts(R7, Q4)
    assert llama_server.preflight_bytes(model, 4096) == model.file_size + 2 * 28 * 4 * 128 * 4096 * 2


@pytest.mark.parametrize(
    ("ctx", "available", "batch"),
    [(4096, 40 * GIB, 512), (8192, 40 * GIB, 1024), (65536, 40 * GIB, 2048), (65536, 8 * GIB, 1024)],
)
def test_the_generation_batch_grows_with_the_context_if_memory_allows(ctx: int, available: int, batch: int) -> None:
    """The batch is 512, 1024 above 4096 tokens and 2048 above 32768, stepped down when it would not fit."""
    predicted = 5 * GIB
    assert llama_server.generation_batch(ctx, predicted, available, GpuKind.METAL, True, 0) == batch


def test_cuda_without_flash_attention_keeps_small_batches() -> None:
    """CUDA without flash attention keeps 512, and 256 above 4096 tokens on a GPU of 8 GiB or less."""
    assert llama_server.generation_batch(65536, GIB, 40 * GIB, GpuKind.CUDA, False, 24 * GIB) == 512
    assert llama_server.generation_batch(65536, GIB, 6 * GIB, GpuKind.CUDA, False, 8 * GIB) == 256
    assert [llama_server.batch_surcharge(b) for b in (512, 1024, 2048)] == [0, 768 * MIB, 2 * GIB]


@pytest.mark.parametrize(("gpu_memory", "num_ctx"), [(10 * GIB, 4096), (24 * GIB, 32768), (48 * GIB, 131072)])
def test_the_default_context_follows_the_gpu_memory(gpu_memory: int, num_ctx: int) -> None:
    """Without num_ctx: 4096, 32768 from 23 GiB, 262144 from 47 GiB (cut to the model's 131072)."""
    fit = predict(facts(R7, Q4), Request(), mac("0.33.0", gpu_memory=gpu_memory, ram=64 * GIB))
    assert fit.inputs["num_ctx"].value == num_ctx


def test_loaded_models_are_unloaded_above_80_percent_of_free_memory() -> None:
    """A loaded model stays while Ollama's preflight takes under 80 % of the rest, and is unloaded above."""
    small = LoadedModel("small:1b", size=1_000_000_000, size_vram=1_000_000_000)
    beside = predict(facts(R7, Q4, "r1:7b"), Request(), mac("0.33.0", loaded=(small,)))
    assert beside.evicts == () and "beside small:1b" in beside.reason
    big = LoadedModel("big:8b", size=5_500_000_000, size_vram=5_500_000_000)
    crowded = predict(facts(R7, Q4, "r1:7b"), Request(), mac("0.33.0", loaded=(big,)))
    assert crowded.evicts == ("big:8b",) and crowded.verdict is Verdict.FITS


def test_a_margin_from_past_loads_moves_the_fit_and_is_said() -> None:
    """A larger free-memory target from past loads puts fewer layers on the GPU, and the reason says so."""
    model = facts(R7, F16)
    default = predict(model, Request(), mac("0.33.0"))
    margin = Fact(2 * GIB, "from 5 past loads on this host")
    corrected = predict(model, Request(), replace(mac("0.33.0"), fit_margin=margin))
    assert corrected.gpu_layers < default.gpu_layers
    assert corrected.inputs["fit_margin"] == margin and "from 5 past loads on this host" in corrected.reason


def test_an_unknown_version_or_context_length_is_said_not_raised() -> None:
    """A version that is no number is placed as the newest with a note; a missing context length is noted."""
    assert not OllamaVersion.parse("nightly").known and OllamaVersion.parse("0.33.0").known
    model = replace(facts(R7, Q4), context_length=None)
    fit = predict(model, Request(), mac("nightly"))
    assert fit.era is Era.C and fit.verdict is Verdict.FITS
    assert any("'nightly' is no version number" in note for note in fit.notes)
    assert any("no context length" in note for note in fit.notes)
