"""The options of `ollamon bench`, light to import (the CLI builds its parser before any work)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.chat.think import ThinkLevel
from tui.core.records.formats import SWEEP_FORMATS

if TYPE_CHECKING:
    from tui.core.sweep.plan import SweepPlan


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `ollamon bench`."""
    parser.add_argument("--models", help="a,b,…, all, or a glob such as 'deepseek-r1:*' (default: all)")
    prompt = parser.add_mutually_exclusive_group()
    prompt.add_argument("--prompt", help="the prompt every run sends")
    prompt.add_argument("--prompt-file", type=Path, metavar="FILE", help="read the prompt from FILE")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="timed runs per model (default 1)")
    parser.add_argument("--warmup", action="store_true", help="one untimed run per model first")
    parser.add_argument(
        "--cold", action="store_true", help="unload every model before each run and time an explicit load"
    )
    think = parser.add_mutually_exclusive_group()
    think.add_argument(
        "--think",
        dest="think",
        nargs="?",
        const=ThinkLevel.ON.value,
        default=None,
        choices=[level.value for level in ThinkLevel],
        metavar="LEVEL",
        help="ask capable models to think: on (alone: --think), off, low, medium, high, max (Ollama 0.22+)",
    )
    think.add_argument(
        "--no-think", dest="think", action="store_const", const=ThinkLevel.OFF.value, help="the same as --think off"
    )
    parser.add_argument("--options", metavar="JSON", help='Ollama options, e.g. \'{"num_ctx": 8192, "seed": 1}\'')
    parser.add_argument("--num-predict", type=int, metavar="N", help="cap generated tokens (thinking included)")
    parser.add_argument("--timeout", type=float, metavar="S", help="give up on a run after S seconds")
    parser.add_argument(
        "--cooldown", type=float, metavar="S", help="between models, wait up to S seconds for power to return near idle"
    )
    parser.add_argument("--idle-baseline", type=float, metavar="S", help="measure idle power for S seconds first")
    parser.add_argument(
        "--skip-unfit",
        action="store_true",
        help="skip models predicted to swap or not to load (each run a failed row with the reason)",
    )
    parser.add_argument(
        "--include-cloud",
        action="store_true",
        help="with all or a glob, run cloud models too (they run on another host; named ones always run)",
    )
    parser.add_argument("--resume", metavar="SWEEP_ID", help="run only what that sweep is missing")
    parser.add_argument("--format", choices=SWEEP_FORMATS, default="table", help="the closing table (default table)")


def plan_from(args: argparse.Namespace) -> SweepPlan:
    """The plan the options describe; ValueError with a message for bad input."""
    from tui.core.sweep.plan import SweepPlan  # only `bench` needs it, not every launch's parser

    if args.prompt_file is not None:
        try:
            prompt = args.prompt_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read {args.prompt_file}: {exc.strerror}") from exc
    elif args.prompt is not None:
        prompt = args.prompt
    else:
        raise ValueError("say what to ask: --prompt TEXT or --prompt-file FILE")
    if not prompt.strip():
        raise ValueError("the prompt is empty")
    if args.repeat < 1:
        raise ValueError("--repeat must be at least 1")
    options: dict[str, object] = {}
    if args.options:
        try:
            options = json.loads(args.options)
        except ValueError as exc:
            raise ValueError(f"--options is not JSON: {exc}") from exc
        if not isinstance(options, dict):
            raise ValueError("--options must be a JSON object")
    if args.num_predict is not None:
        options["num_predict"] = args.num_predict
    for name in ("timeout", "cooldown", "idle_baseline"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    return SweepPlan(
        models=[args.models or "all"],
        prompt=prompt,
        repeat=args.repeat,
        warmup=args.warmup,
        cold=args.cold,
        think=ThinkLevel(args.think) if args.think is not None else None,
        options=options,
        timeout=args.timeout,
        cooldown=args.cooldown,
        idle_baseline=args.idle_baseline,
        skip_unfit=args.skip_unfit,
        include_cloud=args.include_cloud,
    )
