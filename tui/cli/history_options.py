"""The options of `ollamon history`, light to import (the CLI builds its parser before any work)."""

from __future__ import annotations

import argparse

from tui.core.records.formats import FORMATS
from tui.core.records.status import Status


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """The filters `history` and `export` share."""
    parser.add_argument("--model", metavar="NAME", help="only this model, e.g. qwen3:8b")
    parser.add_argument("--status", choices=[s.value for s in Status], help="only turns with this outcome")
    parser.add_argument("--sweep", metavar="SWEEP_ID", help="only the runs of this `ollamon bench` sweep")


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `ollamon history`."""
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="table (default), json, jsonl, csv or md (a Markdown table)"
    )
    add_filter_arguments(parser)
    parser.add_argument(
        "--summary", action="store_true", help="one row per model and host: medians, peaks and outcome counts"
    )
    parser.add_argument(
        "--by",
        choices=["model", "host"],
        default="model",
        help="with --summary: host puts each host's hardware (chip, GPU, memory) beside its name, so the same "
        "model on different machines compares side by side",
    )
    parser.add_argument(
        "--with-content", action="store_true", help="include prompt, thinking and answer (json, jsonl and csv only)"
    )
    parser.add_argument("--limit", type=_positive_int, metavar="N", help="at most N turns, newest first")
