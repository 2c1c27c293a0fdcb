"""Records, summaries and chats as text: a terminal table, JSON, JSON Lines, CSV or Markdown.

Content (prompt, thinking, answer) appears only with ``with_content=True``, and only in the
json, jsonl and csv forms; the table and Markdown forms are overviews of the figures. A chat
exported with ``chat_to_markdown`` is the content itself, so it always includes it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tui.core.ollama.sanitize import strip_controls
from tui.core.records.formats import FORMATS
from tui.core.records.machines import hardware, places
from tui.core.records.rows import ChatRow, RecordRow, SummaryRow, record_row
from tui.core.records.schema import GpuInfo, HostInfo, Record, Status
from tui.core.units import human_bytes, memory_bytes, milliseconds

_CONTENT_KEYS = ("prompt", "thinking", "answer")


# --- cell formatting ------------------------------------------------------------


def _na(fmt: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda v: "n/a" if v is None else fmt(v)


# Decimal units, as Ollama's own CLI and the app's panels show sizes.
_bytes = human_bytes
_secs = milliseconds
_one = _na(lambda x: f"{x:.1f}")
_three = _na(lambda x: f"{x:.3f}")
_text = _na(str)

_ROW_COLUMNS: list[tuple[str, Callable[[RecordRow], str]]] = [
    ("Started", lambda r: r.started_at),
    ("Model", lambda r: _text(r.model)),
    ("Status", lambda r: r.status.value),
    ("Load", lambda r: _secs(r.load_ms)),
    ("Total", lambda r: _secs(r.total_wall_ms)),
    ("chars/s", lambda r: _one(r.chars_s)),
    ("tok/s", lambda r: _one(r.eval_tok_s)),
    ("Mem peak", lambda r: memory_bytes(r.mem_peak)),
    ("Swap peak", lambda r: memory_bytes(r.swap_peak)),
    ("Net W", lambda r: _one(r.net_w)),
    ("J/token", lambda r: _three(r.j_per_token)),
]


@dataclass(frozen=True)
class _SummaryLine:
    """A comparison row with the names its host is shown by (machines.py)."""

    row: SummaryRow
    place: str | None
    hardware: str


_SUMMARY_COLUMNS: list[tuple[str, Callable[[_SummaryLine], str]]] = [
    ("Model", lambda s: _text(s.row.model)),
    ("Host", lambda s: _text(s.place)),
    ("Machine", lambda s: s.hardware),
    ("Quant", lambda s: _text(s.row.quant)),
    ("File", lambda s: _bytes(s.row.file_size_bytes)),
    ("Loaded", lambda s: _bytes(s.row.loaded_size_bytes)),
    ("Processor", lambda s: _text(s.row.processor)),
    ("Load (cold, median)", lambda s: _secs(s.row.load_ms)),
    ("Total (median)", lambda s: _secs(s.row.total_wall_ms)),
    ("chars/s", lambda s: _one(s.row.chars_s)),
    ("tok/s", lambda s: _one(s.row.eval_tok_s)),
    ("Mem peak", lambda s: memory_bytes(s.row.mem_peak)),
    ("Swap peak", lambda s: memory_bytes(s.row.swap_peak)),
    ("Net W", lambda s: _one(s.row.net_w)),
    ("J/token", lambda s: _three(s.row.j_per_token)),
    ("ok", lambda s: str(s.row.ok)),
    ("failed", lambda s: str(s.row.failed)),
]

# Left out first when a terminal is too narrow for the whole table, as the history screen's
# tables leave them out (tui/ui/history/turns_table.py and summary_table.py).
_ROW_LEAST_NEEDED = ("Swap peak", "Load", "chars/s", "Net W", "J/token", "Mem peak", "Total", "tok/s", "Status")
_SUMMARY_LEAST_NEEDED = (
    "File",
    "Swap peak",
    "Quant",
    "Loaded",
    "Machine",
    "Host",
    "Processor",
    "Load (cold, median)",
    "failed",
    "ok",
    "Net W",
    "J/token",
    "Mem peak",
    "chars/s",
)


def _grid(
    columns: Sequence[tuple[str, Callable[[Any], str]]],
    items: Iterable[Any],
    fmt: str,
    *,
    width: int | None = None,
    least_needed: Sequence[str] = (),
) -> str:
    cells = [[strip_controls(get(item)) for _, get in columns] for item in items]
    return text_table([name for name, _ in columns], cells, fmt, width=width, least_needed=least_needed)


def text_table(
    headers: Sequence[str],
    cells: Sequence[Sequence[str]],
    fmt: str,
    *,
    width: int | None = None,
    least_needed: Sequence[str] = (),
    reveal: str = "--format md shows all",
) -> str:
    """Cells as a Markdown table (`md`) or a plain terminal table (anything else).

    With a `width` (a terminal's) the table leaves out columns named in `least_needed`, first
    named first, until no cell wraps, and says below which it left out; without one it is as
    wide as the cells need, every column whole.
    """
    if fmt == "md":
        return _markdown_table(headers, cells)
    kept = list(range(len(headers)))
    if width is not None:
        kept = fitting_columns(headers, cells, width, least_needed)
    table = Table(*(headers[i] for i in kept))
    for row in cells:
        table.add_row(*(Text(row[i]) for i in kept))  # Text: a "[bold]" in a model name stays literal
    out = io.StringIO()
    Console(
        file=out,
        width=width or max(80, _needed(headers, cells, kept)),
        color_system=None,
        force_terminal=False,
    ).print(table)
    left_out = [h for i, h in enumerate(headers) if i not in kept]
    if left_out and width is not None:
        out.write(left_out_note(left_out, width, reveal))
    return out.getvalue()


def _needed(headers: Sequence[str], cells: Sequence[Sequence[str]], kept: Sequence[int]) -> int:
    """The width a rich table of these columns needs to show every cell on one line."""
    # Each column: its widest cell, a space either side and a rule; then the closing rule.
    return sum(max([cell_len(headers[i]), *(cell_len(row[i]) for row in cells)]) + 3 for i in kept) + 1


def fitting_columns(
    headers: Sequence[str], cells: Sequence[Sequence[str]], width: int, least_needed: Sequence[str]
) -> list[int]:
    """The indices of the columns that fit `width` without wrapping a cell, leaving out the least needed first."""
    kept = list(range(len(headers)))
    for name in least_needed:
        if _needed(headers, cells, kept) <= width:
            break
        kept = [i for i in kept if headers[i] != name]
    return kept


def left_out_note(names: Sequence[str], width: int, reveal: str) -> str:
    """The lines under a table that name the columns it left out, wrapped between words to `width`."""
    text = f"(left out for the width: {', '.join(names)}; {reveal})"
    return textwrap.fill(text, width=max(width, 20), break_long_words=False, break_on_hyphens=False) + "\n"


def _markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    def cell(value: str) -> str:
        return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- flat forms -----------------------------------------------------------------


def record_json(record: Record, with_content: bool = False) -> dict[str, Any]:
    """The public JSON form of a record; content keys are left out unless asked for."""
    doc = record.to_json_dict()
    if not with_content:
        for key in _CONTENT_KEYS:
            doc.pop(key)
    return doc


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        name = prefix + key
        # request.options has free-form keys: one JSON column keeps the header stable.
        if isinstance(value, dict) and name != "request.options":
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, (dict, list)):
            flat[name] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = value
    return flat


def csv_columns(with_content: bool = False) -> list[str]:
    """The CSV header: every dotted field of the record except the samples timeline."""
    template = Record(host=HostInfo(gpu=GpuInfo()))
    return [c for c in _flatten(record_json(template, with_content)) if c != "samples"]


def csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="", extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _json_forms(docs: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(docs, ensure_ascii=False, indent=2) + "\n"
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


# --- public API -------------------------------------------------------------------


def export_records(records: Iterable[Record], fmt: str, *, with_content: bool = False) -> str:
    """Records in one of FORMATS; csv leaves out the samples timeline (json and jsonl keep it)."""
    _check(fmt)
    records = list(records)
    if fmt in ("table", "md"):
        return export_rows((record_row(r) for r in records), fmt)
    docs = [record_json(r, with_content) for r in records]
    if fmt == "csv":
        flat = (_flatten({k: v for k, v in d.items() if k != "samples"}) for d in docs)
        return csv_text(flat, csv_columns(with_content))
    return _json_forms(docs, fmt)


def export_rows(rows: Iterable[RecordRow], fmt: str, *, width: int | None = None) -> str:
    """History-table rows (from RecordStore.query) as a terminal table or Markdown table.

    With a `width` (a terminal's) the table shows the columns that fit it and names the others.
    """
    if fmt not in ("table", "md"):
        raise ValueError(f"rows export as table or md, not {fmt!r}")
    return _grid(_ROW_COLUMNS, rows, fmt, width=width, least_needed=_ROW_LEAST_NEEDED)


def export_summary(
    rows: Iterable[SummaryRow],
    fmt: str,
    *,
    width: int | None = None,
    machines: Mapping[str, HostInfo] | None = None,
) -> str:
    """The comparison table in one of FORMATS; json, jsonl and csv carry raw numbers.

    With `machines` (RecordStore.hosts(): by host) each row also names its host's hardware: the
    table a Machine column beside the Host, json and jsonl a `machine` object, csv `machine.*`
    columns. With a `width` (a terminal's) the table shows the columns that fit it and names the others.
    """
    _check(fmt)
    rows = list(rows)
    if fmt in ("table", "md"):
        facts = machines or {}
        lines = [
            _SummaryLine(row, place, hardware(facts.get(row.host_id or "")))
            for row, place in zip(rows, places(rows), strict=True)
        ]
        # The same model on two hosts makes two rows that only the host tells apart.
        by_host = machines is not None or len({line.place for line in lines}) > 1
        least = [name for name in _SUMMARY_LEAST_NEEDED if not (name == "Host" and by_host)]
        shown = [c for c in _SUMMARY_COLUMNS if machines is not None or c[0] != "Machine"]
        return _grid(shown, lines, fmt, width=width, least_needed=least)
    docs = [asdict(r) for r in rows]
    if machines is not None:
        for doc in docs:
            host = machines.get(doc["host_id"] or "")
            doc["machine"] = asdict(host) if host is not None else None
    if fmt == "csv":
        if machines is None:
            return csv_text(docs, list(SummaryRow.__dataclass_fields__))
        columns = [*SummaryRow.__dataclass_fields__, *_flatten({"machine": asdict(HostInfo(gpu=GpuInfo()))})]
        return csv_text((_flatten(d) for d in docs), columns)
    return _json_forms(docs, fmt)


def turn_figures(record: Record) -> str:
    """One line of a turn's figures, for beneath its answer."""
    parts = [record.status.value]
    if record.status is not Status.OK and record.error:
        parts.append(f"error: {record.error}")
    t, load = record.timing_ms, record.load
    parts += [
        f"total {_secs(t.total_wall)}",
        f"TTFT {_secs(t.ttft)}",
        f"{_one(record.rates.chars_s)} chars/s",
        f"{_one(record.rates.eval_tok_s)} tok/s" + (" (estimated)" if record.counts.estimated else ""),
    ]
    if load.load_ms is not None:
        parts.append(f"load {_secs(load.load_ms)}" + (" (cold)" if load.cold else ""))
    if load.processor:
        parts.append(load.processor)
    parts += [
        f"mem peak {memory_bytes(record.resources.mem_used_peak_bytes)}",
        f"swap peak {memory_bytes(record.resources.swap_used_peak_bytes)}",
    ]
    power = record.power
    if power.source is None:
        parts.append("power n/a")  # the reason is in the record, and `ollamon doctor` explains it
    else:
        parts.append(f"{_one(power.mean_w)} W, {_three(power.gross_j_per_token)} J/token gross")
        if power.net_mean_w is not None:
            parts.append(f"net {_one(power.net_mean_w)} W, {_three(power.j_per_token)} J/token")
    return strip_controls(" · ".join(parts)).replace("\n", " ")


_HEADING = re.compile(r"^(#{1,6})(?=\s|$)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def nest_headings(text: str, under: int) -> str:
    """Push the headings of a model's Markdown below a heading of level `under` (code blocks kept)."""
    lines, fenced = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := _HEADING.match(line)):
            level = min(len(match.group(1)) + under, 6)
            line = "#" * level + line[match.end() :]
        lines.append(line)
    return "\n".join(lines)


def chat_to_markdown(session: ChatRow, turns: Sequence[Record]) -> str:
    """A chat as Markdown: each prompt, the thinking folded away, the answer, then its figures."""
    title = strip_controls(session.title or "Chat")
    facts = " · ".join(strip_controls(str(v)) for v in (session.model, session.host, session.created_at) if v)
    out = [f"# {title}", "", f"*{facts}*", ""]
    for n, turn in enumerate(turns, 1):
        out += [f"## Turn {n}", "", "**Prompt**", "", strip_controls(turn.prompt or "*(not kept)*"), ""]
        if turn.thinking:
            # A literal closing tag inside the thinking would end the fold early.
            thinking = strip_controls(turn.thinking).replace("</details>", "&lt;/details&gt;")
            out += ["<details><summary>Thinking</summary>", "", thinking, "", "</details>", ""]
        answer = turn.answer if turn.answer is not None else "*(no answer)*"
        label = strip_controls(turn.model.name or "Answer")
        # An answer's own "# Title" would otherwise outrank "## Turn n" in the outline.
        out += [f"**{label}**", "", nest_headings(strip_controls(answer), 2), "", f"> {turn_figures(turn)}", ""]
    return "\n".join(out)
