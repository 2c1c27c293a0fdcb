"""Command line: `ollamon` starts the TUI; `ollamon doctor` reuses the core headless."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tui import __version__
from tui.core.ollama.host import resolve_host
from tui.core.sampling.monitor import MonitorOptions
from tui.cli.history import add_history_arguments

if TYPE_CHECKING:
    from tui.core.records.journal import TurnJournal


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _common(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """Options allowed before and after a subcommand; after it, they only override."""
    keep = {"default": argparse.SUPPRESS} if sub else {}
    parser.add_argument(
        "--host", **keep,
        help="Ollama URL or host[:port] (default: $OLLAMA_HOST, else http://127.0.0.1:11434)",
    )
    parser.add_argument("--interval", type=_positive_float, **(keep or {"default": 1.0}),
                        help="seconds between resource readings (default 1)")
    parser.add_argument("--power-cmd", metavar="COMMAND", **keep,
                        help="a command that prints watts (wall meter, smart plug); tried first")
    parser.add_argument("--powermetrics", action="store_true", **keep,
                        help="macOS: also try `sudo -n powermetrics` (needs a NOPASSWD rule)")
    parser.add_argument("--idle-watts", type=float, metavar="W", **keep,
                        help="idle power to subtract, instead of a measured baseline")


def build_parser() -> argparse.ArgumentParser:
    """Options of the app and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="ollamon",
        description="Chat with local Ollama models and watch what each answer costs.",
    )
    _common(parser)
    parser.add_argument("--model", help="model to preselect and load, e.g. qwen3:8b")
    parser.add_argument("--db", metavar="PATH",
                        help="record database (default: $OLLAMON_DB, else the user data directory)")
    parser.add_argument("--no-content", action="store_true",
                        help="record figures only, not prompts, thinking and answers")
    parser.add_argument("--version", action="version", version=f"ollamon {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    doctor = commands.add_parser("doctor", help="check Ollama, the power sources and memory readings")
    _common(doctor, sub=True)
    history = commands.add_parser("history", help="print stored turns or the comparison table (read-only)")
    history.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                         help="record database (default: $OLLAMON_DB, else the user data directory)")
    add_history_arguments(history)
    doctor.add_argument("--baseline", nargs="?", type=_positive_float, const=10.0, metavar="SECONDS",
                        help="measure and remember idle power over SECONDS (default 10)")
    doctor.add_argument("--capture", type=Path, metavar="DIR",
                        help="also write every raw input the readers use into DIR, for a bug report")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ollamon` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "history":
        from tui.cli.history import run_history

        return _quiet_pipe(lambda: run_history(args, db_path(args.db)))
    try:
        host = resolve_host(args.host, dict(os.environ))
    except ValueError as exc:
        print(f"ollamon: {exc}", file=sys.stderr)
        return 2
    options = MonitorOptions(
        interval=args.interval, power_command=args.power_cmd,
        powermetrics=args.powermetrics, idle_watts=args.idle_watts,
    )
    if args.command == "doctor":
        from tui.cli.doctor import run_doctor

        return _quiet_pipe(lambda: run_doctor(host, options, baseline_seconds=args.baseline,
                                                      capture=args.capture))
    return _run_app(host, options, args.model, db_path(args.db), keep_content=not args.no_content)


def _quiet_pipe(command: Callable[[], int]) -> int:
    """`ollamon history | head`: the reader leaving early is not an error."""
    try:
        return command()
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")
        return 0


def db_path(cli_db: str | None) -> Path:
    """`--db`, then `OLLAMON_DB`, then the platform's user data directory."""
    from tui.core.records.store import default_path

    chosen = cli_db or os.environ.get("OLLAMON_DB")
    return Path(chosen).expanduser() if chosen else default_path()


def open_journal(db: Path, *, keep_content: bool) -> tuple[TurnJournal | None, str | None]:
    """The record journal, or None and why records cannot be saved: the app chats either way."""
    from tui.core.records.hostfacts import gather_host
    from tui.core.records.journal import TurnJournal
    from tui.core.records.store import RecordStore, StoreError
    from tui.core.sampling.monitor import nvml_gpu_facts

    try:
        store = RecordStore.open(db)
    except StoreError as exc:
        return None, str(exc)
    return TurnJournal(store, gather_host(gpu=nvml_gpu_facts), keep_content=keep_content), None


def _run_app(host: str, options: MonitorOptions, model: str | None, db: Path, *, keep_content: bool) -> int:
    # Imported late so `--help` and `--version` stay fast.
    import platformdirs

    from tui.app import OllamonApp
    from tui.core.sampling.energy import BaselineStore
    from tui.core.ollama.client import OllamaEngine
    from tui.core.sampling.monitor import build_sampler

    journal, problem = open_journal(db, keep_content=keep_content)
    sampler = build_sampler(options, host=host)
    app = OllamonApp(
        OllamaEngine(host), model=model, sampler=sampler, idle_watts=options.idle_watts,
        baselines=BaselineStore(platformdirs.user_data_path("ollamon")),
        journal=journal, store_problem=problem,
    )
    try:
        app.run()
    finally:
        sampler.close()
        if journal is not None:
            journal.store.close()
    return app.return_code or 0
