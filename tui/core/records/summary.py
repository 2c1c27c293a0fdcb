"""The comparison table's statistics: one SummaryRow per model and host from its finished turns."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from tui.core.records.rows import SummaryRow
from tui.core.records.schema import Status

_FAILED = {Status.FAILED.value, Status.TIMEOUT.value}


def summarise(
    model: str | None, host_id: str | None, remote_host: str | None, rows: list[tuple[Any, ...]]
) -> SummaryRow:
    """One group's SummaryRow from its rows, oldest first (columns as selected in summary())."""
    (
        _,
        hostname,
        status,
        warmup,
        cold,
        load_ms,
        total,
        chars_s,
        eval_tok_s,
        net_w,
        j_per_token,
        mem_peak,
        swap_peak,
        quant,
        file_size,
        ps_size,
        processor,
        _,
        _,
    ) = zip(*rows, strict=True)
    counted = [i for i, w in enumerate(warmup) if not w]
    ok = [i for i in counted if status[i] == Status.OK.value]

    def median(column: tuple[Any, ...], among: list[int]) -> float | None:
        values = [column[i] for i in among if column[i] is not None]
        return statistics.median(values) if values else None

    def peak(column: tuple[Any, ...]) -> int | None:
        return max((column[i] for i in counted if column[i] is not None), default=None)

    def latest(column: tuple[Any, ...]) -> Any:
        return next((v for v in reversed(column) if v is not None), None)

    outcomes = Counter(status[i] for i in counted)
    return SummaryRow(
        model=model,
        host=latest(hostname),
        quant=latest(quant),
        file_size_bytes=latest(file_size),
        loaded_size_bytes=latest(ps_size),
        processor=latest(processor),
        load_ms=median(load_ms, [i for i in ok if cold[i]]),
        total_wall_ms=median(total, ok),
        chars_s=median(chars_s, ok),
        eval_tok_s=median(eval_tok_s, ok),
        mem_peak=peak(mem_peak),
        swap_peak=peak(swap_peak),
        net_w=median(net_w, ok),
        j_per_token=median(j_per_token, ok),
        ok=outcomes[Status.OK.value],
        failed=sum(outcomes[s] for s in _FAILED),
        cancelled=outcomes[Status.CANCELLED.value],
        interrupted=outcomes[Status.INTERRUPTED.value],
        remote_host=remote_host,
        host_id=host_id,
    )
