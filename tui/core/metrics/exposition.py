"""The per-model figures' exposition, made by prometheus_client one model at a time and kept.

The totals are most of an answer (about 90 series a model, 9,000 for 100 models) and change
only for the model whose turn ended, so each model's sample lines are made again only then, and
a scrape joins the kept lines under each family's HELP and TYPE lines.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from tui.core.metrics.collector import TurnsCollector
from tui.core.metrics.turns import ModelTotals, TurnTotals


def _per_family(model: str, totals: ModelTotals) -> tuple[list[bytes], list[bytes]]:
    """One model's exposition split by family: (the HELP and TYPE lines, the sample lines) of each."""
    registry = CollectorRegistry()
    registry.register(TurnsCollector(model, totals))
    headers: list[bytes] = []
    samples: list[bytes] = []
    for line in generate_latest(registry).splitlines(keepends=True):
        if line.startswith(b"# HELP "):
            headers.append(line)
            samples.append(b"")
        elif line.startswith(b"#"):
            headers[-1] += line
        else:
            samples[-1] += line
    return headers, samples


class TurnsExposition:
    """The text of every model's counters and histograms, each model's part kept until it changes."""

    def __init__(self, totals: TurnTotals) -> None:
        self._totals = totals
        self._headers, _ = _per_family("", ModelTotals())
        self._models: dict[str, list[bytes]] = {}

    def text(self) -> bytes:
        """The exposition now: the models with new turns since the last call are made again."""
        changed, self._totals.changed = self._totals.changed, set()
        for model in changed:
            self._models[model] = _per_family(model, self._totals.models[model])[1]
        ordered = [self._models[model] for model in sorted(self._models)]
        return b"".join(header + b"".join(lines[i] for lines in ordered) for i, header in enumerate(self._headers))
