"""`ollamon fit` and the client's verbose /api/show, on the fake server with the Mac mini M4 16 GB sweep's models."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devtools.fake_ollama import FakeModel, FakeOllama, deepseek_r1_sweep_models, default_models
from tests.helpers.fit import mac
from tests.helpers.records import machine, record
from tui.cli.fit import corrected_from_store, parse_size, past_loads
from tui.cli.main import main
from tui.core.fit.inputs import MIB
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.records.schema import EngineInfo, LoadInfo, Record
from tui.core.records.store import RecordStore

WHAT_IF = ["--ram", "16GB", "--gpu-memory", "10.67GiB", "--ollama-version", "0.12.6"]
# What `ollama ps` showed on the Mac mini M4 16 GB, and what it would show for the 14b FP16.
OBSERVED = {
    "deepseek-r1:1.5b-qwen-distill-q4_K_M": ("1.4 GB", "100% GPU", "fits on GPU"),
    "deepseek-r1:1.5b-qwen-distill-q8_0": ("2.1 GB", "100% GPU", "fits on GPU"),
    "deepseek-r1:1.5b-qwen-distill-fp16": ("3.6 GB", "100% GPU", "fits on GPU"),
    "deepseek-r1:7b-qwen-distill-q4_K_M": ("5.1 GB", "100% GPU", "fits on GPU"),
    "deepseek-r1:7b-qwen-distill-q8_0": ("8.3 GB", "100% GPU", "fits on GPU"),
    "deepseek-r1:7b-qwen-distill-fp16": ("15 GB", "26%/74% CPU/GPU", "will swap"),
    "deepseek-r1:8b-llama-distill-q8_0": ("9.1 GB", "100% GPU", "fits on GPU"),
    "deepseek-r1:8b-llama-distill-fp16": ("16 GB", "31%/69% CPU/GPU", "will swap"),
    "deepseek-r1:14b-qwen-distill-q4_K_M": ("9.9 GB", "100% GPU", "fits on GPU"),
    "deepseek-r1:14b-qwen-distill-q8_0": ("16 GB", "32%/68% CPU/GPU", "will swap"),
    "deepseek-r1:14b-qwen-distill-fp16": ("29 GB", "63%/37% CPU/GPU", "will swap"),
}


@pytest.fixture(autouse=True)
def no_user_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`fit` reads past loads from the store: never the user's own in these tests."""
    monkeypatch.setenv("OLLAMON_DB", str(tmp_path / "none.sqlite"))


def fit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["fit", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_table_shows_the_mac_mini_m4_splits(sweep_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    """On the Mac mini M4 16 GB the table shows each model's size, split and verdict as observed."""
    code, out, err = fit(capsys, "--host", sweep_ollama.url, *WHAT_IF)
    assert code == 0, err
    rows = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:]]
        for line in out.splitlines()
        if line.startswith("│ deepseek")
    }
    assert {name: (row[0], row[1], row[3].split(",")[0]) for name, row in rows.items()} == OBSERVED
    assert "Ollama 0.12.6 (--ollama-version), placement era A" in out
    assert "may use 10.7 GiB (--gpu-memory)" in out and "RAM    16 GiB (--ram)" in out
    assert "\x1b[" not in out  # plain text when not a terminal


def test_json_has_every_field_with_sources_sorted_by_size(
    sweep_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format json has every field with its source, models sorted by size."""
    code, out, _ = fit(capsys, "--host", sweep_ollama.url, *WHAT_IF, "--format", "json", "--num-ctx", "8192")
    assert code == 0
    fits = json.loads(out)
    assert [f["size_bytes"] for f in fits] == sorted(f["size_bytes"] for f in fits)
    first = fits[0]
    assert {
        "model",
        "verdict",
        "processor",
        "size_bytes",
        "size_vram_bytes",
        "gpu_layers",
        "total_layers",
        "reason",
        "inputs",
    } <= set(first)
    assert first["inputs"]["num_ctx"] == {"value": 8192, "source": "--num-ctx"}
    assert first["inputs"]["ram"] == {"value": 16 << 30, "source": "--ram"}
    swaps = {f["model"] for f in fits if f["verdict"] == "swaps"}
    assert "deepseek-r1:7b-qwen-distill-fp16" in swaps and "deepseek-r1:7b-qwen-distill-q8_0" not in swaps


def test_named_models_only(sweep_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    """Named models are the only rows."""
    code, out, _ = fit(
        capsys,
        "--host",
        sweep_ollama.url,
        *WHAT_IF,
        "--format",
        "json",
        "deepseek-r1:14b-qwen-distill-q8_0",
        "deepseek-r1:1.5b-qwen-distill-fp16",
    )
    assert code == 0
    models = [f["model"] for f in json.loads(out)]
    assert models == ["deepseek-r1:1.5b-qwen-distill-fp16", "deepseek-r1:14b-qwen-distill-q8_0"]


def test_a_model_not_installed_is_a_clear_error(sweep_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    """A model that is not installed is a clear error."""
    code, out, err = fit(capsys, "--host", sweep_ollama.url, *WHAT_IF, "qwen3:8b")
    assert (code, out) == (1, "")
    assert "model 'qwen3:8b' is not installed" in err and "ollamon pull" in err and "Traceback" not in err


def test_unreachable_ollama_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """`ollamon fit` with Ollama unreachable says so and names --host, exit 1, no traceback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = fit(capsys, "--host", f"127.0.0.1:{port}")
    assert code == 1 and "cannot reach Ollama" in err and "--host" in err and "Traceback" not in err


def test_a_remote_host_without_machine_facts_says_what_to_give(capsys: pytest.CaptureFixture[str]) -> None:
    """A remote host with no machine facts asks for --ram and --gpu-memory, exit 1."""
    code, _, err = fit(capsys, "--host", "gpu-box.invalid:11434", "--ollama-version", "0.12.6")
    assert code == 1 and "--ram and --gpu-memory" in err


def test_a_bad_size_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A size that is not a size is a usage error showing the expected form (16GB), exit 2."""
    code, _, err = fit(capsys, "--ram", "sixteen")
    assert code == 2 and "--ram" in err and "16GB" in err


def test_sizes_ram_counts_in_binary_units() -> None:
    """RAM sizes count GB as GiB, as the OS reports memory; other sizes are decimal unless given in GiB."""
    assert parse_size("16GB", ram=True) == 16 << 30
    assert parse_size("16GB") == 16_000_000_000
    assert parse_size("10.67GiB") == int(10.67 * (1 << 30))
    assert parse_size("512 MiB") == 512 << 20


def test_a_server_without_tensors_is_sized_from_the_file(
    sweep_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server that lists no tensors gets a fit sized from the file."""
    sweep_ollama.show_tensors = False
    code, out, _ = fit(
        capsys, "--host", sweep_ollama.url, *WHAT_IF, "--format", "json", "deepseek-r1:7b-qwen-distill-q4_K_M"
    )
    (only,) = json.loads(out)
    assert code == 0 and only["accuracy"] == "rough" and any("no tensor list" in n for n in only["notes"])


def test_on_this_machine_the_environment_and_loaded_models_count(
    fake_ollama: FakeOllama, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On this machine num_ctx comes from OLLAMA_CONTEXT_LENGTH and the version from /api/version, named so."""
    monkeypatch.setenv("OLLAMA_CONTEXT_LENGTH", "8192")
    code, out, _ = fit(capsys, "--host", fake_ollama.url, "--format", "json", "deepseek-r1:7b")
    (only,) = json.loads(out)
    assert code == 0
    assert only["inputs"]["num_ctx"] == {"value": 8192, "source": "OLLAMA_CONTEXT_LENGTH (this shell's environment)"}
    assert only["inputs"]["version"]["source"] == "/api/version"


def test_model_names_are_not_markup(capsys: pytest.CaptureFixture[str]) -> None:
    """A model name with markup in it is printed literally."""
    with FakeOllama([FakeModel("[bold]evil[/bold]:1b", arch=deepseek_r1_sweep_models()[0].arch)]) as server:
        code, out, _ = fit(capsys, "--host", server.url, *WHAT_IF)
    assert code == 0 and "[bold]evil[/bold]:1b" in out


async def test_the_client_reads_verbose_show(sweep_ollama: FakeOllama) -> None:
    """The client reads the verbose /api/show: shape, tensors and context."""
    engine = OllamaEngine(sweep_ollama.url)
    try:
        shown = await engine.show_tensors("deepseek-r1:8b-llama-distill-fp16")
        assert shown.architecture == "llama" and shown.token_count == 128256
        assert shown.keys["llama.attention.head_count_kv"] == 8
        assert len(shown.tensors) == 2 + 32 * 9 + 1 and shown.tensors[0].type == "F16"
        with pytest.raises(OllamaError) as missing:
            await engine.show_tensors("nope:1b")
        assert missing.value.kind is ErrorKind.NOT_FOUND
    finally:
        await engine.aclose()


async def test_the_modelfile_num_ctx_is_read(sweep_ollama: FakeOllama) -> None:
    """A Modelfile's num_ctx is read."""
    sweep_ollama.models["deepseek-r1:custom"] = FakeModel(
        "deepseek-r1:custom",
        arch=deepseek_r1_sweep_models()[0].arch,
        parameters='num_ctx                        16384\nstop "<|end|>"',
    )
    engine = OllamaEngine(sweep_ollama.url)
    try:
        assert (await engine.show_tensors("deepseek-r1:custom")).num_ctx == 16384
    finally:
        await engine.aclose()


def loaded(model: str, predicted: str, observed: str, version: str = "0.33.0", **load: Any) -> Record:
    """A turn on this machine that loaded `model`, with the prediction stored beside what /api/ps showed."""
    guess: dict[str, Any] = {"processor": predicted, "verdict": "fits" if predicted == "100% GPU" else "spills"}
    guess["era"] = "C"
    guess |= {"size_vram_bytes": load.pop("predicted_vram", 0), "inputs": {}}
    info = LoadInfo(cold=True, processor=observed, predicted=guess, **load)
    return record(model, host=socket.gethostname(), load=info, engine=EngineInfo(version=version))


def store_with(path: Path, *records: Record) -> Path:
    with RecordStore.open(path) as store:
        store.import_records(records)
    return path


def test_check_reports_predictions_beside_reality_per_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fit --check` gives loads, exact matches and GPU-share errors per Ollama version, and the worst case."""
    db = store_with(
        tmp_path / "r.sqlite",
        loaded("r1:7b", "100% GPU", "100% GPU", "0.12.6"),
        loaded("r1:7b", "100% GPU", "100% GPU"),
        loaded("r1:14b", "22%/78% CPU/GPU", "26%/74% CPU/GPU"),
    )
    before = db.read_bytes()
    code, out, err = fit(capsys, "--check", "--db", str(db))
    assert code == 0, err
    rows = [line.split("│")[1:-1] for line in out.splitlines() if line.startswith("│ 0.")]
    assert [[cell.strip() for cell in row[:5]] for row in rows] == [
        ["0.12.6", "1", "1", "0.0 pp", "0 pp"],
        ["0.33.0", "2", "1", "2.0 pp", "4 pp"],
    ]
    assert "worst at 0.33.0: r1:14b" in out and "predicted 22%/78% CPU/GPU (spills), Ollama 26%/74% CPU/GPU" in out
    assert db.read_bytes() == before  # read-only


def test_check_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`fit --check --format json` has the same figures, and the era C margin the loads imply."""
    db = store_with(
        tmp_path / "r.sqlite",
        loaded("r1:14b", "22%/78% CPU/GPU", "26%/74% CPU/GPU", predicted_vram=9000 * MIB, ps_vram_bytes=8800 * MIB),
    )
    code, out, _ = fit(capsys, "--check", "--db", str(db), "--format", "json")
    (only,) = json.loads(out)
    assert code == 0 and (only["version"], only["loads"], only["exact"], only["max_error_pp"]) == ("0.33.0", 1, 0, 4)
    assert only["margin_bytes"] == 1024 * MIB + 200 * MIB
    assert only["worst"][0]["observed"] == {"processor": "26%/74% CPU/GPU", "verdict": "spills"}


def test_check_without_predictions_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A store with no loads predicted on this host gives a clear message, exit 0; no store at all, exit 1."""
    db = store_with(tmp_path / "r.sqlite", record("r1:7b", host=socket.gethostname()))
    code, out, err = fit(capsys, "--check", "--db", str(db))
    assert (code, out) == (0, "") and "no loads with a prediction" in err
    code, _, err = fit(capsys, "--check", "--db", str(tmp_path / "missing.sqlite"))
    assert code == 1 and "no such file" in err and "Traceback" not in err


def test_past_loads_correct_the_margin_for_this_machine(tmp_path: Path) -> None:
    """Era C loads at the same version on this host set the margin, and say how many; other versions do not."""
    db = store_with(
        tmp_path / "r.sqlite",
        loaded("r1:14b", "22%/78% CPU/GPU", "26%/74% CPU/GPU", predicted_vram=9000 * MIB, ps_vram_bytes=8800 * MIB),
    )
    machine = corrected_from_store(mac("0.33.0"), db)
    assert machine.fit_margin is not None and machine.fit_margin.value == 1224 * MIB
    assert machine.fit_margin.source == "margin from 1 past load on this host"
    assert corrected_from_store(mac("0.33.1"), db).fit_margin is None
    assert corrected_from_store(mac("0.12.6"), db) == mac("0.12.6")
    assert corrected_from_store(mac("0.33.0"), tmp_path / "missing.sqlite") == mac("0.33.0")
    assert replace(machine, fit_margin=None) == mac("0.33.0")


def test_another_machines_imported_loads_do_not_correct_this_one(tmp_path: Path) -> None:
    """Loads imported from another machine, even one of this host name, set no margin here and are not checked here."""
    db = store_with(tmp_path / "r.sqlite")
    twin = machine(socket.gethostname())
    elsewhere = loaded(
        "r1:14b", "22%/78% CPU/GPU", "26%/74% CPU/GPU", predicted_vram=9000 * MIB, ps_vram_bytes=8800 * MIB
    )
    elsewhere.host = twin
    with RecordStore.open(db) as store:
        store.merge_records([[elsewhere]])
    assert corrected_from_store(mac("0.33.0"), db) == mac("0.33.0")
    assert past_loads(db) == []


def test_a_version_that_is_no_number_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--ollama-version must look like 0.33.0, exit 2 with the expected form."""
    code, _, err = fit(capsys, "--ram", "16GB", "--ollama-version", "latest")
    assert code == 2 and "0.33.0" in err and "Traceback" not in err


def test_a_machine_without_a_gpu_says_cpu_only_as_the_dropdown_does(
    sweep_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no GPU every model runs on the CPU: the table says "runs on CPU only", as the dropdown's ◐ CPU only."""
    code, out, err = fit(capsys, "--host", sweep_ollama.url, "--ram", "64GB", "--gpu", "none")
    assert code == 0, err
    assert "runs on CPU only" in out and "spills to CPU" not in out


def test_a_model_without_architecture_keys_says_num_ctx_changes_nothing(
    fake_ollama: FakeOllama, capsys: pytest.CaptureFixture[str]
) -> None:
    """gemma3:1b shows no architecture keys: sized as its file at any num_ctx, CPU or GPU, and the note says so."""
    sizes = set()
    for flags in (("--gpu", "none"), ("--gpu-memory", "10GiB")):
        for num_ctx in ("4096", "32768"):
            code, out, err = fit(
                capsys, "--host", fake_ollama.url, "--ram", "16GB", *flags, "--num-ctx", num_ctx, "--format", "json",
                "gemma3:1b",
            )  # fmt: skip
            (only,) = json.loads(out)
            assert code == 0, err
            assert any("no KV cache (num_ctx changes nothing)" in note for note in only["notes"])
            sizes.add(only["size_bytes"])
    assert sizes == {next(m for m in default_models() if m.name == "gemma3:1b").size}
