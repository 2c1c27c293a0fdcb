"""Export lines read back as the records they were, and a wrong field is named by its path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.records import chat_turn, nvbox
from tui.core.records.schema import Record
from tui.core.records.transfer import LINE_FORMAT, export_line, record_from_json


def full() -> Record:
    """A turn with every section, content and samples filled, on another machine."""
    return chat_turn(1, host=nvbox())


def test_a_line_describes_itself_and_reads_back_whole() -> None:
    """An export line carries the format, the version and the record, which reads back equal."""
    line = json.loads(export_line(full()))
    assert (line["format"], line["version"]) == (LINE_FORMAT, 1)
    assert record_from_json(line["record"]) == full()


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("host", "gpu", "vram_bytes"), "24GB", 'record.host.gpu.vram_bytes: "24GB" is not a whole number or null'),
        (("model", "capabilities"), ["completion", 3], "record.model.capabilities[1]: 3 is not a string"),
        (("samples",), [[0.0, 1, 2, 3, None], [1.0, "x"]], 'record.samples[1]: [1.0, "x"] is not a list of numbers'),
        (("request", "think"), 2, "record.request.think: 2 is not true or false or a string or null"),
        (("rates", "eval_tok_s"), True, "record.rates.eval_tok_s: true is not a number or null"),
        (("power",), [], "record.power: [] is not an object"),
        (("status",), None, "record.status: null is not a string"),
    ],
)
def test_a_wrong_field_is_named(path: tuple[str, ...], value: Any, problem: str) -> None:
    """A field of the wrong type, however deep, is refused with its path and what it should be."""
    doc = full().to_json_dict()
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    with pytest.raises(ValueError) as refused:
        record_from_json(doc)
    assert str(refused.value).startswith(problem)


def test_fields_of_a_newer_ollamon_are_ignored_and_missing_ones_default() -> None:
    """Unknown keys are skipped and absent sections take their defaults, as a reader of the public form should."""
    doc = {"record_id": "r1", "started_at": "2025-01-01T00:00:00.000Z", "host": {"host_id": "a" * 32}, "gpu_temp": 70}
    record = record_from_json(doc)
    assert (record.record_id, record.host.host_id, record.model.name) == ("r1", "a" * 32, None)
