"""Exports: every format parses back, content only on request, Markdown tables and chats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.core.test_sanitize import UNSAFE_CASES
from tests.helpers.records import chat_turn
from tui.core.records.export import (
    FORMATS,
    chat_to_markdown,
    csv_columns,
    export_records,
    export_rows,
    export_summary,
    nest_headings,
    turn_figures,
)
from tui.core.records.rows import ChatRow, SummaryRow
from tui.core.records.schema import (
    Counts,
    ModelInfo,
    Power,
    Record,
    Status,
)
from tui.core.records.store import RecordStore

RECORDS = [
    chat_turn(0),
    chat_turn(1, status=Status.FAILED, error="model 'x' not found", power=Power.unavailable("not root")),
]


class TestRecordFormats:
    def test_json_parses_back_to_records(self) -> None:
        """json is a list of the public JSON form; with content it round-trips exactly."""
        docs = json.loads(export_records(RECORDS, "json", with_content=True))
        assert [Record.from_json_dict(d) for d in docs] == RECORDS

    def test_jsonl_one_record_a_line(self) -> None:
        """jsonl: one JSON object a line, samples included."""
        lines = export_records(RECORDS, "jsonl").splitlines()
        assert len(lines) == 2
        assert [json.loads(line)["record_id"] for line in lines] == ["r0", "r1"]
        assert json.loads(lines[0])["samples"] == [[0.0, 1, 2, 3, None]]

    @pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
    def test_content_is_off_by_default(self, fmt: str) -> None:
        """Without with_content no prompt, thinking or answer leaves the machine."""
        text = export_records(RECORDS, fmt)
        assert "招呼" not in text and "Okay" not in text and "你好" not in text
        assert "招呼" in export_records(RECORDS, fmt, with_content=True)

    def test_csv_flattens_with_dotted_columns(self) -> None:
        """csv.DictReader reads it back; nested fields are dotted; samples are left out."""
        rows = list(csv.DictReader(io.StringIO(export_records(RECORDS, "csv", with_content=True))))
        assert len(rows) == 2
        first = rows[0]
        assert first["record_id"] == "r0" and first["status"] == "ok"
        assert float(first["rates.eval_tok_s"]) == 62.17
        assert first["timing_ms.thinking"] == "1600.0" and first["load.cold"] == "true"
        assert json.loads(first["request.options"]) == {"num_ctx": 8192}
        assert json.loads(first["model.capabilities"]) == ["completion", "thinking"]
        assert first["host.gpu.name"] == "" and rows[1]["host.gpu.name"] == "M2 Ultra GPU"
        assert first["prompt"] == RECORDS[0].prompt and first["answer"] == RECORDS[0].answer
        assert rows[1]["power.why"] == "not root" and rows[1]["power.source"] == ""
        assert "samples" not in first

    def test_csv_header_is_stable(self) -> None:
        """The header comes from the schema, not from whichever records happen to be exported."""
        header = export_records([], "csv").splitlines()[0].split(",")
        assert header == csv_columns()
        assert "prompt" not in header and "prompt" in csv_columns(with_content=True)
        assert {"host.gpu.vram_bytes", "counts.estimated", "power.j_per_token"} <= set(header)

    def test_markdown_table(self) -> None:
        """md has a header row, a separator, one row per record, formatted figures."""
        lines = export_records(RECORDS, "md").splitlines()
        assert lines[0].startswith("| Started | Model | Status |")
        assert set(lines[1].replace("|", "")) == {"-"}
        assert lines[1].count("|") == lines[0].count("|")
        assert len(lines) == 4
        assert "| 2.10 s | 7.40 s | 3.4 | 62.2 | 40.0 GiB | 1.0 GiB | 25.0 | 0.400 |" in lines[2]
        assert "| failed |" in lines[3]

    def test_terminal_table(self) -> None:
        """table renders plain text (no colour codes) with the figures."""
        text = export_records(RECORDS, "table")
        assert "qwen3:8b" in text and "62.2" in text and "\x1b" not in text

    def test_rows_from_query(self, tmp_path: Path) -> None:
        """History rows straight from the store render like the records they came from."""
        with RecordStore.open(tmp_path / "r.sqlite") as store:
            store.import_records(RECORDS)
            rows = store.query(newest_first=False)
        assert export_rows(rows, "md") == export_records(RECORDS, "md")
        with pytest.raises(ValueError):
            export_rows(rows, "json")

    def test_unknown_format(self) -> None:
        """A typo names the formats there are."""
        with pytest.raises(ValueError, match="table, json, jsonl, csv, md"):
            export_records(RECORDS, "xml")


SUMMARY = [
    SummaryRow(
        "qwen3:8b",
        "box",
        "Q4_K_M",
        5 * 2**30,
        6 * 2**30,
        "100% GPU",
        2100.0,
        7400.0,
        20.5,
        62.17,
        40 * 2**30,
        0,
        25.0,
        0.4,
        3,
        1,
        0,
        0,
    ),
    SummaryRow("llama|3", None, None, None, None, None, None, None, None, None, None, None, None, None, 0, 2, 0, 0),
]


class TestSummaryFormats:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_every_format_renders(self, fmt: str) -> None:
        """All five formats produce text naming both models."""
        text = export_summary(SUMMARY, fmt)
        assert "qwen3:8b" in text and "llama" in text

    def test_json_and_csv_carry_raw_numbers(self) -> None:
        """Machine formats keep exact values; csv reads back with DictReader."""
        assert json.loads(export_summary(SUMMARY, "json"))[0]["eval_tok_s"] == 62.17
        assert json.loads(export_summary(SUMMARY, "jsonl").splitlines()[1])["failed"] == 2
        rows = list(csv.DictReader(io.StringIO(export_summary(SUMMARY, "csv"))))
        assert rows[0]["file_size_bytes"] == str(5 * 2**30) and rows[1]["load_ms"] == ""

    def test_markdown_escapes_pipes_and_shows_na(self) -> None:
        """A pipe in a name cannot break the table; missing figures read n/a."""
        lines = export_summary(SUMMARY, "md").splitlines()
        assert lines[0].startswith("| Model | Host | Quant | File | Loaded | Processor |")
        assert lines[1].startswith("|---|")
        assert lines[3].startswith("| llama\\|3 | n/a |")
        assert lines[2].count(" | ") == lines[3].count(" | ")


class TestChatMarkdown:
    def test_each_turn_prompt_thinking_answer_figures(self) -> None:
        """Prompt, thinking folded in <details>, answer, then the figures beneath."""
        session = ChatRow("s", "2025-10-08T14:00:00.000Z", title="Greetings", model="qwen3:8b", host="box")
        md = chat_to_markdown(session, RECORDS)
        assert md.startswith("# Greetings\n")
        first = md[md.index("## Turn 1") : md.index("## Turn 2")]
        order = [
            first.index(s)
            for s in (
                "用中文打个招呼",
                "<details><summary>Thinking</summary>",
                "Okay, the user",
                "</details>",
                "你好，世界！",
                "> ok · total 7.40 s",
            )
        ]
        assert order == sorted(order)
        assert first.count("</details>") == 1  # the one inside the thinking was neutralised
        second = md[md.index("## Turn 2") :]
        assert "failed · error: model 'x' not found" in second and "power n/a" in second and "not root" not in second

    def test_multiline_error_stays_in_the_figures_line(self) -> None:
        """A multi-line error cannot break out of the figures blockquote."""
        line = turn_figures(chat_turn(0, status=Status.FAILED, error="line one\nline two"))
        assert "\n" not in line and "line one line two" in line

    def test_turn_without_content_or_thinking(self) -> None:
        """Content not kept shows a placeholder; no thinking means no fold."""
        md = chat_to_markdown(ChatRow("s", "t"), [chat_turn(0, prompt=None, thinking=None, answer=None)])
        assert "*(not kept)*" in md and "<details>" not in md and "*(no answer)*" in md

    def test_figures_line(self) -> None:
        """The figures line names the rates, load, split and energy."""
        line = turn_figures(chat_turn(0, counts=Counts(estimated=True)))
        assert "62.2 tok/s (estimated)" in line and "load 2.10 s (cold)" in line
        assert "26%/74% CPU/GPU" in line and "net 25.0 W, 0.400 J/token" in line


# C0 and C1 controls other than tab and newline; ESC starts every escape sequence.
_CONTROLS = {chr(c) for c in [*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


@pytest.mark.parametrize(("raw", "clean"), UNSAFE_CASES)
def test_exports_clean_text_as_the_stream_does(raw: str, clean: str) -> None:
    """The same cases as the stream's sanitiser: a chat export holds exactly its cleaned text."""
    record = chat_turn(0, model=ModelInfo(name=raw), answer=raw, prompt=raw)
    chat = chat_to_markdown(ChatRow("s1", "2025-01-01T00:00:00.000Z", title=raw), [record])
    assert f"\n{clean.rstrip()}\n" in chat.replace("\r", "")
    for text in (chat, export_records([record], "table"), export_records([record], "md"), turn_figures(record)):
        assert not _CONTROLS & set(text)


def test_table_keeps_markup_literal() -> None:
    """A model name with escape codes and Rich markup prints as plain text in the table."""
    record = chat_turn(0, model=ModelInfo(name="evil\x1b]0;title\x07[bold]x"))
    table = export_records([record], "table")
    assert "\x1b" not in table and "[bold]x" in table


def test_answer_headings_nest_under_the_turn_heading() -> None:
    """An answer's headings move one level under the turn's; code comments and level 6 stay."""
    answer = "# Plan\n\ntext\n\n```python\n# a comment, not a heading\n```\n\n## Step\n###### deep"
    assert nest_headings(answer, 2).split("\n") == [
        "### Plan",
        "",
        "text",
        "",
        "```python",
        "# a comment, not a heading",
        "```",
        "",
        "#### Step",
        "###### deep",
    ]
