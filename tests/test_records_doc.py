"""docs/records.md describes every field a record's JSON form has, so it cannot drift from the code."""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from pathlib import Path

from tui.core.ollama.errors import ErrorKind
from tui.core.records.schema import GpuInfo, Record, Sample, Status

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "records.md").read_text()


def _sections() -> dict[str, str]:
    """Each `##` section's text by its name: the first `code` in its heading, else the heading."""
    found = {}
    for part in re.split(r"^## ", DOC, flags=re.MULTILINE)[1:]:
        heading = part.splitlines()[0]
        named = re.match(r"`([^`]+)`", heading)
        found[named.group(1) if named else heading] = part
    return found


def test_every_field_is_described_where_it_belongs() -> None:
    """Plain fields in "Top level"; each object and the samples list in a section of its own."""
    sections = _sections()
    for name, value in Record().to_json_dict().items():
        if isinstance(value, dict) or name == "samples":
            assert name in sections, name
        else:
            assert f"`{name}`" in sections["Top level"], name
        sub = getattr(Record(), name)
        if is_dataclass(sub):
            for field in fields(sub):
                assert f"| `{field.name}` |" in sections[name], f"{name}.{field.name}"
    gpu = sections["host"].split("`host.gpu`", 1)[1]
    assert all(f"| `{field.name}` |" in gpu for field in fields(GpuInfo))


def test_sample_positions_and_enum_values_are_described() -> None:
    """docs/records.md describes each sample position and every status and error kind value."""
    samples = _sections()["samples"]
    for position, name in enumerate(Sample._fields):
        assert f"| {position} | `{name}` |" in samples
    top = _sections()["Top level"]
    assert all(f"`{status.value}`" in top for status in Status)
    assert all(f"`{kind.value}`" in top for kind in ErrorKind)


def test_readme_links_it() -> None:
    """The README links docs/records.md."""
    assert "(docs/records.md)" in (ROOT / "README.md").read_text()
