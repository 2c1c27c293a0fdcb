"""The fit advisor against fit-estimate.md: the eleven DeepSeek-R1 variants of the Mac mini M4 16 GB sweep."""

from __future__ import annotations

import pytest

from devtools import fake_gguf
from devtools.fake_gguf import FakeArch
from tests.helpers.fit import facts, mac
from tui.core.fit.estimate import Era, predict, ps_size
from tui.core.fit.ggml import LayerWeights, tensor_bytes
from tui.core.fit.inputs import GIB, Fact, GpuKind, KvCacheType, Machine, OllamaVersion, Request
from tui.core.fit.verdict import Accuracy, Verdict
from tui.core.ollama.models import LoadedModel

Q4, Q8, F16 = "Q4_K_M", "Q8_0", "F16"
R1_5, R7, R8, R14 = fake_gguf.QWEN2_1_5B, fake_gguf.QWEN2_7B, fake_gguf.LLAMA_8B, fake_gguf.QWEN2_14B
ALL_GPU = "100% GPU"

# model, era A with M = 0 (0.12.4-0.12.6), era A with M = 512 MiB, era B: (layers, SIZE, PROCESSOR);
# None where fit-estimate.md gives no figure. A full fit is every block plus the output layer.
CASES = [
    ("1.5b Q4_K_M", R1_5, Q4, (29, "1.4 GB", ALL_GPU), (29, "2.0 GB", ALL_GPU), (29, "1.4 GB", ALL_GPU)),
    ("1.5b Q8_0", R1_5, Q8, (29, "2.1 GB", ALL_GPU), (29, "2.7 GB", ALL_GPU), (29, "2.1 GB", ALL_GPU)),
    ("1.5b FP16", R1_5, F16, (29, "3.6 GB", ALL_GPU), (29, "4.2 GB", ALL_GPU), (29, "3.5 GB", ALL_GPU)),
    ("7b Q4_K_M", R7, Q4, (29, "5.1 GB", ALL_GPU), (29, "5.6 GB", ALL_GPU), (29, "4.9 GB", ALL_GPU)),
    ("7b Q8_0", R7, Q8, (29, "8.3 GB", ALL_GPU), (29, "8.9 GB", ALL_GPU), (29, "8.1 GB", ALL_GPU)),
    (
        "7b FP16",
        R7,
        F16,
        (22, "15 GB", "26%/74% CPU/GPU"),
        (21, None, "28%/72% CPU/GPU"),
        (21, "14 GB", "30%/70% CPU/GPU"),
    ),
    ("8b Q8_0", R8, Q8, (33, "9.1 GB", ALL_GPU), (33, "9.6 GB", ALL_GPU), (33, "8.8 GB", ALL_GPU)),
    (
        "8b FP16",
        R8,
        F16,
        (23, "16 GB", "31%/69% CPU/GPU"),
        (22, None, "33%/67% CPU/GPU"),
        (22, "15 GB", "35%/65% CPU/GPU"),
    ),
    ("14b Q4_K_M", R14, Q4, (49, "9.9 GB", ALL_GPU), (49, "10 GB", ALL_GPU), (49, "9.7 GB", ALL_GPU)),
    (
        "14b Q8_0",
        R14,
        Q8,
        (34, "16 GB", "32%/68% CPU/GPU"),
        (33, None, "32%/68% CPU/GPU"),
        (33, "16 GB", "34%/66% CPU/GPU"),
    ),
    ("14b FP16", R14, F16, (18, "29 GB", "63%/37% CPU/GPU"), None, None),
]
# What the Mac mini M4 16 GB sweep saw happen: the three partial offloads swapped and never answered.
FAILED = {"7b FP16", "8b FP16", "14b Q8_0"}
ERAS = {"A, M = 0": ("0.12.6", 3), "A, M = 512 MiB": ("0.12.10", 4), "B": ("0.13.0", 5)}


TABLE = [
    pytest.param(case, version, case[column], id=f"{case[0]}, era {era}")
    for case in CASES
    for era, (version, column) in ERAS.items()
    if case[column] is not None
]


@pytest.mark.parametrize(("case", "version", "expected"), TABLE)
def test_the_deepseek_r1_sweep_on_a_16_gb_m4(case: tuple, version: str, expected: tuple) -> None:
    """Each sweep model's layers, size and CPU/GPU split match what Ollama did on the 16 GB M4."""
    layers, size, processor = expected
    fit = predict(facts(case[1], case[2], case[0]), Request(), mac(version))
    assert fit.gpu_layers == layers
    assert fit.processor == processor
    if size is not None:
        assert ps_size(fit.size) == size
    assert fit.accuracy is Accuracy.EXACT


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_the_failures_come_out_as_will_swap(case: tuple) -> None:
    """The models that failed on the 16 GB M4 (and 14b FP16) are 'will swap'; the rest fit."""
    fit = predict(facts(case[1], case[2], case[0]), Request(), mac())
    if case[0] in FAILED or case[0] == "14b FP16":
        assert fit.verdict is Verdict.SWAPS
        assert "will swap" in fit.reason and "16 GiB" in fit.reason
    else:
        assert fit.verdict is Verdict.FITS


def test_the_reason_says_what_it_needs_and_what_the_gpu_may_use() -> None:
    """The reason names the memory needed, the GPU's share of the Mac and the layers offloaded."""
    fit = predict(facts(R7, F16), Request(), mac())
    assert fit.reason.startswith("needs 14.1 GiB, the GPU may use 10.7 GiB of this Mac's 16 GiB: 7 of 29 layers")
    assert fit.total_layers == 29 and fit.era is Era.A


def test_the_q4_file_sizes_match_ollamas_blobs() -> None:
    """The fake GGUFs' Q4 file sizes match Ollama's real blobs."""
    assert fake_gguf.file_size(R7, Q4) == 4_683_075_271
    assert abs(fake_gguf.file_size(R14, Q4) - 8_988_112_040) < 20_000


def test_tied_embeddings_count_token_embd_as_the_output_layer() -> None:
    """With tied embeddings token_embd counts as the output layer, and a note says so."""
    tied = facts(fake_gguf.LLAMA_3B_TIED, Q4)
    weights = LayerWeights.from_tensors(tied.tensors, tied.block_count)
    by_name = {t.name: tensor_bytes(t) for t in tied.tensors}
    assert weights.tied
    assert weights.output == by_name["token_embd.weight"] + by_name["output_norm.weight"]
    fit = predict(tied, Request(), mac())
    assert fit.verdict is Verdict.FITS and fit.gpu_layers == 29
    assert any("tied" in note for note in fit.notes)


def test_a_gpu_share_larger_than_ram_on_a_mac_runs_on_the_cpu() -> None:
    """A Metal share above the Mac's RAM puts the model all on the CPU, swapping, with a note."""
    # A raised iogpu.wired_limit_mb lets Metal offer more than the Mac has.
    fit = predict(facts(R14, F16), Request(), mac(gpu_memory=40 * GIB, ram=16 * GIB))
    assert (fit.gpu_layers, fit.size_vram, fit.processor) == (0, 0, "100% CPU")
    assert fit.verdict is Verdict.SWAPS
    assert any("exceed this Mac's 16 GiB" in note for note in fit.notes)


def _linux_cpu(available: int, version: str = "0.13.0") -> Machine:
    return Machine(
        Fact(OllamaVersion.parse(version), "test"),
        Fact(GpuKind.NONE, "test"),
        Fact(0, "test"),
        Fact(64 * GIB, "test"),
        "linux",
        ram_available=Fact(available, "test"),
    )


def test_no_gpu_runs_everything_on_the_cpu() -> None:
    """Without a GPU the whole model, weights plus KV cache, is on the CPU and spills."""
    model = facts(R7, Q4)
    fit = predict(model, Request(), _linux_cpu(60 * GIB))
    weights = LayerWeights.from_tensors(model.tensors, model.block_count)
    kv = 4096 * (128 + 128) * 4 * 2  # per block: ctx x (key + value) x KV heads x f16
    assert fit.size == sum(weights.blocks) + 28 * kv + weights.output  # era B counts no graph on the CPU
    assert (fit.processor, fit.gpu_layers, fit.verdict) == ("100% CPU", 0, Verdict.SPILLS)
    assert fit.reason.startswith("no GPU")


def test_linux_refuses_what_free_memory_cannot_hold() -> None:
    """On Linux a model larger than free memory is predicted not to load."""
    fit = predict(facts(R7, Q8), Request(), _linux_cpu(4 * GIB))
    assert fit.verdict is Verdict.WONT_LOAD and "refuse" in fit.reason


def test_num_ctx_grows_the_kv_cache_and_the_chat_setting_wins() -> None:
    """A larger num_ctx from the chat grows the KV cache; otherwise the version's default is used."""
    model = facts(R7, Q4)
    small = predict(model, Request(), mac("0.13.0"))
    big = predict(model, Request().with_num_ctx(32768, "the chat's num_ctx"), mac("0.13.0"))
    kv_growth = 28 * (32768 - 4096) * 256 * 4 * 2
    assert big.size - small.size >= kv_growth
    assert big.inputs["num_ctx"] == Fact(32768, "the chat's num_ctx")
    assert small.inputs["num_ctx"].source == "Ollama 0.13.0 default"


def test_num_ctx_precedence_and_the_models_own_limit() -> None:
    """The Modelfile's num_ctx beats the environment, and any num_ctx is cut to the model's limit."""
    from dataclasses import replace

    model = replace(facts(R7, Q4), modelfile_num_ctx=8192)
    env = Request.from_environment({"OLLAMA_CONTEXT_LENGTH": "16384"})
    assert predict(model, env, mac()).inputs["num_ctx"] == Fact(8192, "the model's Modelfile")
    no_modelfile = replace(model, modelfile_num_ctx=None)
    assert predict(no_modelfile, env, mac()).inputs["num_ctx"].value == 16384
    huge = predict(model, Request().with_num_ctx(1 << 20, "test"), mac())
    assert huge.inputs["num_ctx"].value == 131072  # cut to the model's context length


def test_a_second_loaded_model_is_unloaded_when_both_do_not_fit() -> None:
    """A loaded model is unloaded first when both do not fit, and kept beside one that fits."""
    other = LoadedModel("qwen3:8b", size=6_000_000_000, size_vram=6_000_000_000)
    alone = predict(facts(R7, Q8, "r1:7b"), Request(), mac())
    crowded = predict(facts(R7, Q8, "r1:7b"), Request(), mac(loaded=(other,)))
    assert crowded.evicts == ("qwen3:8b",) and "unloads qwen3:8b first" in crowded.reason
    assert (crowded.size, crowded.processor) == (alone.size, alone.processor)
    beside = predict(facts(R1_5, Q4, "r1:1.5b"), Request(), mac(loaded=(other,)))
    assert beside.evicts == () and beside.verdict is Verdict.FITS
    assert beside.inputs["loaded"].value == 6_000_000_000
    assert beside.reason == "needs 1.3 GiB of the 5.1 GiB the GPU may use (beside qwen3:8b)"  # 10.7 - 5.6 GiB


def test_a_model_already_loaded_does_not_count_against_itself() -> None:
    """A model that is already loaded does not count against its own fit."""
    itself = LoadedModel("r1:7b", size=8_300_000_000, size_vram=8_300_000_000)
    fit = predict(facts(R7, Q8, "r1:7b"), Request(), mac(loaded=(itself,)))
    assert fit.evicts == () and "loaded" not in fit.inputs and fit.verdict is Verdict.FITS


def test_an_unknown_architecture_uses_the_generic_graph_and_says_rough() -> None:
    """An unknown architecture gets the generic graph estimate, marked rough with a note."""
    fit = predict(facts(FakeArch("newarch", 28, 3584, 28, 4, 152064, 18944), Q4), Request(), mac())
    assert fit.accuracy is Accuracy.ROUGH
    assert any("no graph formula for newarch" in note for note in fit.notes)
    assert fit.verdict is Verdict.FITS and fit.gpu_layers == 29


def test_without_tensors_the_file_size_stands_in() -> None:
    """Without a tensor list the file size stands in, marked rough with a note."""
    model = facts(R7, F16, with_tensors=False)
    fit = predict(model, Request(), mac())
    assert fit.accuracy is Accuracy.ROUGH
    assert any("no tensor list" in note for note in fit.notes)
    assert fit.verdict is Verdict.SWAPS and 0 < fit.gpu_layers < 29


def test_era_c_is_an_estimate_and_says_so() -> None:
    """Newer Ollama versions (era C) get an estimate with a ±1 layer note."""
    fit = predict(facts(R7, Q4), Request(), mac("0.31.0"))
    assert fit.era is Era.C and fit.accuracy is Accuracy.ESTIMATE
    assert any("±1 layer" in note for note in fit.notes)


def test_a_quantised_kv_cache_needs_flash_attention() -> None:
    """A q8_0 KV cache applies only with flash attention on, and then the model is smaller."""
    model = facts(R7, F16)
    plain = predict(model, Request.from_environment({"OLLAMA_KV_CACHE_TYPE": "q8_0"}), mac())
    assert plain.inputs["kv_cache_type"].value is KvCacheType.F16
    assert "needs flash attention" in plain.inputs["kv_cache_type"].source
    flash = Request.from_environment({"OLLAMA_KV_CACHE_TYPE": "q8_0", "OLLAMA_FLASH_ATTENTION": "1"})
    halved = predict(model, flash, mac())
    assert halved.inputs["kv_cache_type"].value is KvCacheType.Q8_0
    assert halved.size < plain.size


def test_gpu_overhead_and_parallel_come_from_the_environment() -> None:
    """OLLAMA_GPU_OVERHEAD and OLLAMA_NUM_PARALLEL are used, so a model that fit now spills."""
    request = Request.from_environment({"OLLAMA_GPU_OVERHEAD": str(3 * GIB), "OLLAMA_NUM_PARALLEL": "2"})
    fit = predict(facts(R7, Q8), request, mac())
    assert fit.inputs["num_parallel"].value == 2 and fit.inputs["gpu_overhead"].value == 3 * GIB
    assert fit.verdict is Verdict.SPILLS  # 8.7 GB no longer fits in 10.7 - 3 GiB


def test_old_versions_try_four_parallel_slots_when_the_model_fits() -> None:
    """Old Ollama versions try four parallel slots when the model fits, else one."""
    assert predict(facts(R1_5, Q4), Request(), mac("0.9.6")).inputs["num_parallel"].value == 4
    assert predict(facts(R7, F16), Request(), mac("0.9.6")).inputs["num_parallel"].value == 1


def test_ps_size_prints_like_ollama_ps() -> None:
    """Predicted sizes print as `ollama ps` prints them."""
    sizes = (15_700_000_000, 9_950_000_000, 5_000_000_000, 999)
    assert [ps_size(n) for n in sizes] == ["15 GB", "9.9 GB", "5 GB", "999 B"]
