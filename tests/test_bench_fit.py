"""`ollamon bench` with the fit advisor: the prediction before each model and in its records;
`--skip-unfit` leaves out what is predicted to swap, as failed rows that say why."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.fake_ollama import FakeOllama, deepseek_r1_sweep_models
from tui.cli.bench import run_bench
from tui.cli.main import build_parser
from tui.core.ollama.errors import ErrorKind
from tui.core.records.schema import Record, Status
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import ResourceMonitor

Q4 = "deepseek-r1:7b-qwen-distill-q4_K_M"
FP16 = "deepseek-r1:7b-qwen-distill-fp16"
# The Mac mini M4 16 GB of the DeepSeek-R1 sweep, described on the command line as for `ollamon fit`.
M4_FLAGS = ["--ram", "16GB", "--gpu-memory", "10.67GiB"]


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    # Pinned: the sweep ran on Ollama 0.12.6, and the fit predictions follow the server's version.
    server = FakeOllama(deepseek_r1_sweep_models(), rate=5000.0, version="0.12.6").start()
    yield server
    server.stop()


def bench(fake: FakeOllama, db: Path, *flags: str) -> tuple[int, str, dict[str, Record], dict[str, object]]:
    args = build_parser().parse_args(
        ["bench", "--models", f"{Q4},{FP16}", "--prompt", "hello", "--no-think", *M4_FLAGS, *flags]
    )
    err = io.StringIO()
    code = run_bench(args, fake.url, db, ResourceMonitor(None), out=io.StringIO(), err=err)
    with RecordStore.open(db) as store:
        [sweep_id] = {r.sweep_id for r in store.records()}
        assert sweep_id is not None
        records = {r.model.name or "": r for r in store.sweep_records(sweep_id)}
        plan = store.get_sweep(sweep_id) or {}
    return code, err.getvalue(), records, plan


def test_skip_unfit_records_the_skipped_model_as_failed(fake: FakeOllama, tmp_path: Path) -> None:
    """--skip-unfit records the model predicted to swap as failed and skipped, and never loads it."""
    code, err, records, plan = bench(fake, tmp_path / "b.sqlite", "--skip-unfit")
    assert code == 0 and plan["skip_unfit"] is True
    assert f"{FP16} · predicted · 15 GB, 26%/74% CPU/GPU, 22/29 layers on the GPU: will swap, likely to fail" in err
    assert f"{FP16} · skipped · predicted to swap" in err
    skipped = records[FP16]
    assert skipped.status is Status.FAILED and skipped.error_kind is ErrorKind.OTHER
    assert skipped.error is not None and skipped.error.startswith("skipped: predicted to swap: needs 14.1 GiB")
    assert skipped.load.predicted is not None and skipped.load.predicted["verdict"] == "swaps"
    assert not any(
        r["body"] and r["body"].get("model") == FP16
        for r in fake.requests
        if r["method"] == "POST" and r["path"] != "/api/show"
    )
    ran = records[Q4]
    assert ran.status is Status.OK and ran.load.processor == "100% GPU"
    assert ran.load.predicted is not None and ran.load.predicted["processor"] == "100% GPU"


def test_without_skip_unfit_the_swapping_model_runs_with_its_prediction(fake: FakeOllama, tmp_path: Path) -> None:
    """Without --skip-unfit the swapping model runs, its record keeping both the predicted and real split."""
    code, err, records, plan = bench(fake, tmp_path / "b.sqlite")
    assert code == 0 and plan["skip_unfit"] is False and "skipped" not in err
    swapping = records[FP16]
    assert swapping.status is Status.OK
    # Both kept: where the advisor put it and where /api/ps says it went.
    assert swapping.load.processor == "26%/74% CPU/GPU"
    assert swapping.load.predicted is not None and swapping.load.predicted["processor"] == "26%/74% CPU/GPU"
    assert swapping.load.predicted["verdict"] == "swaps"
