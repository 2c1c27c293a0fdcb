"""bench's closing table in its csv form: the same columns whatever the rows."""

from __future__ import annotations

import csv
import io

from tests.helpers.records import record
from tui.core.records.schema import Rates, Status, TimingMs
from tui.core.sweep.table import render, sweep_rows


def test_the_csv_keeps_every_figure_when_the_first_model_never_succeeded() -> None:
    """A first row with no ok run does not decide the header: the next model's medians are all there."""
    failed = [record("gemma3:1b", Status.FAILED, sweep_id="s") for _ in range(2)]
    ok = [
        record(
            "qwen3:8b",
            sweep_id="s",
            timing_ms=TimingMs(ttft=100.0 + n, total_wall=2000.0),
            rates=Rates(eval_tok_s=30.0 + n),
        )
        for n in range(3)
    ]
    rows = list(csv.DictReader(io.StringIO(render(sweep_rows([*failed, *ok]), "csv", sweep_id="s"))))
    assert [row["model"] for row in rows] == ["gemma3:1b", "qwen3:8b"]
    assert rows[0]["eval_tok_s.median"] == "" and rows[0]["failed"] == "2"
    assert (rows[1]["eval_tok_s.median"], rows[1]["ttft_ms.median"], rows[1]["ttft_ms.n"]) == ("31.0", "101.0", "3")
