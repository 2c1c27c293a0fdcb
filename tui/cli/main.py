"""Command line: `ollamon` starts the TUI; `ollamon doctor`, `history`, `export`, `import`, `bench`, `pull`,
`fit` and `exporter` reuse the core headless."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui import __version__
from tui.cli.bench_options import add_bench_arguments
from tui.cli.history_options import add_filter_arguments, add_history_arguments
from tui.core.metrics.listen import DEFAULT_ADDRESS, DEFAULT_PORT, parse_listen
from tui.core.ollama.host import resolve_host
from tui.perf.hooks import command_parsed

if TYPE_CHECKING:
    from tui.core.chat.recorder import TurnRecorder
    from tui.core.metrics.service import MetricsService
    from tui.core.sampling.monitor import MonitorOptions, ResourceMonitor


# After SIGTERM or SIGHUP the app ends within about a second (an answer in flight is stopped
# first); should it be stuck, the process exits anyway this long after the signal.
EXIT_DEADLINE_S = 5.0


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _listen_address(text: str) -> tuple[str, int]:
    try:
        return parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """Options allowed before and after a subcommand; after it, they only override."""
    keep: dict[str, Any] = {"default": argparse.SUPPRESS} if sub else {}
    parser.add_argument(
        "--host",
        **keep,
        help="Ollama URL or host[:port] (default: $OLLAMA_HOST, else http://127.0.0.1:11434)",
    )
    parser.add_argument(
        "--interval",
        type=_positive_float,
        **(keep or {"default": 1.0}),
        help="seconds between resource readings (default 1)",
    )
    parser.add_argument(
        "--power-cmd",
        metavar="COMMAND",
        **keep,
        help="a command that prints watts (wall meter, smart plug); tried first",
    )
    parser.add_argument(
        "--powermetrics",
        action="store_true",
        **keep,
        help="macOS: also try `sudo -n powermetrics` (needs a NOPASSWD rule)",
    )
    parser.add_argument(
        "--idle-watts", type=float, metavar="W", **keep, help="idle power to subtract, instead of a measured baseline"
    )


def build_parser() -> argparse.ArgumentParser:
    """Options of the app and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="ollamon",
        description="Chat with local Ollama models and watch what each answer costs.",
    )
    _common(parser)
    parser.add_argument("--model", help="model to preselect and load, e.g. qwen3:8b")
    parser.add_argument(
        "--db", metavar="PATH", help="record database (default: $OLLAMON_DB, else the user data directory)"
    )
    parser.add_argument(
        "--no-content", action="store_true", help="record figures only, not prompts, thinking and answers"
    )
    parser.add_argument(
        "--metrics",
        type=_listen_address,
        metavar="ADDR:PORT",
        help=f"also serve Prometheus metrics there, e.g. {DEFAULT_ADDRESS}:{DEFAULT_PORT} (see `ollamon exporter`)",
    )
    parser.add_argument("--version", action="version", version=f"ollamon {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    doctor = commands.add_parser("doctor", help="check Ollama, the power sources and memory readings")
    _common(doctor, sub=True)
    history = commands.add_parser("history", help="print stored turns or the comparison table (read-only)")
    _db_argument(history)
    add_history_arguments(history)
    _add_transfer_arguments(commands)
    bench = commands.add_parser("bench", help="run a prompt through several models and print the comparison table")
    _common(bench, sub=True)
    _db_argument(bench)
    add_bench_arguments(bench)
    add_machine_arguments(bench)
    pull = commands.add_parser("pull", help="fetch a model from the Ollama library, with progress")
    _common(pull, sub=True)
    pull.add_argument("name", metavar="MODEL", help="e.g. deepseek-r1:7b")
    _add_fit_arguments(commands)
    _add_exporter_arguments(commands)
    doctor.add_argument(
        "--baseline",
        nargs="?",
        type=_positive_float,
        const=10.0,
        metavar="SECONDS",
        help="measure and remember idle power over SECONDS (default 10)",
    )
    doctor.add_argument(
        "--capture",
        type=Path,
        metavar="DIR",
        help="also write every raw input the readers use into DIR, for a bug report",
    )
    return parser


def _db_argument(parser: argparse.ArgumentParser, what: str = "record database") -> None:
    """A subcommand's --db: given after the subcommand, it overrides one given before it."""
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"{what} (default: $OLLAMON_DB, else the user data directory)",
    )


def _add_transfer_arguments(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="write records as JSON Lines, one self-describing line each, for `ollamon import` elsewhere",
        description="Write the store's records (all, or those the filters pick), oldest first, one JSON line "
        "each, content included as stored; to standard output unless -o FILE.",
    )
    import_ = commands.add_parser(
        "import",
        help="add records from `ollamon export` files or other ollamon stores, each keeping its host",
        description="Add the records of JSON Lines exports and other ollamon databases to this store. Every "
        "file is read whole first: a corrupt or foreign one is refused and nothing is stored. A record already "
        "here (same record id) is kept once; running turns are left out.",
    )
    _db_argument(export)
    _db_argument(import_)
    export.add_argument("--format", choices=["jsonl"], default="jsonl", help="jsonl (the one form import reads)")
    add_filter_arguments(export)
    export.add_argument(
        "--no-content", action="store_true", default=argparse.SUPPRESS, help="leave prompts, thinking and answers out"
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (replaced whole) instead of stdout")
    import_.add_argument("files", nargs="+", metavar="FILE", help="an `ollamon export` file or an ollamon database")


def _add_fit_arguments(commands: argparse._SubParsersAction) -> None:
    fit = commands.add_parser(
        "fit",
        help="predict for each model whether it fits on the GPU, spills to the CPU or will swap",
        description="Predict where Ollama will place each model, as `ollama ps` will show it. "
        "Describe another machine with --ram / --gpu-memory / --gpu-free / --gpu and --ollama-version.",
    )
    _common(fit, sub=True)
    fit.add_argument("models", nargs="*", metavar="MODEL", help="installed models to check (default: all)")
    fit.add_argument("--num-ctx", type=int, metavar="N", help="context length the chat will ask for")
    fit.add_argument("--format", choices=["table", "json"], default="table")
    fit.add_argument(
        "--check",
        action="store_true",
        help="compare this host's past predictions with what Ollama did, per Ollama version (read-only)",
    )
    _db_argument(fit, "record database for --check and past loads")
    add_machine_arguments(fit)


def _add_exporter_arguments(commands: argparse._SubParsersAction) -> None:
    exporter = commands.add_parser(
        "exporter",
        help="serve Prometheus metrics without the UI: live readings, and the turns recorded here per model",
        description="Serve /metrics for Prometheus: memory, swap, power and the loaded models at scrape time, "
        "and per model the turns the app and `bench` record on this machine (docs/metrics.md).",
    )
    _common(exporter, sub=True)
    exporter.add_argument(
        "--listen",
        type=_listen_address,
        default=(DEFAULT_ADDRESS, DEFAULT_PORT),
        metavar="ADDR:PORT",
        help=f"where to serve (default {DEFAULT_ADDRESS}:{DEFAULT_PORT}; another address only when given)",
    )
    exporter.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="record database to read (default: $OLLAMON_DB, else the user data directory)",
    )


def add_machine_arguments(parser: argparse.ArgumentParser) -> None:
    """The fit advisor's description of another machine (`fit`, and `bench` for its predictions)."""
    parser.add_argument(
        "--ram", metavar="SIZE", help="RAM of the machine, e.g. 16GB (RAM counts in binary units: 16GB = 16 GiB)"
    )
    parser.add_argument(
        "--gpu-memory",
        metavar="SIZE",
        help="what the GPU may use with nothing loaded, e.g. 10.67GiB (a Mac's Metal limit)",
    )
    parser.add_argument("--gpu-free", metavar="SIZE", help="what the GPU has free now, e.g. 7.5GiB")
    parser.add_argument(
        "--gpu",
        choices=["metal", "cuda", "rocm", "none"],
        help="the GPU of the described machine (default with --ram: Apple Silicon)",
    )
    parser.add_argument("--ollama-version", metavar="VERSION", help="predict for this Ollama version, e.g. 0.12.6")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ollamon` console script."""
    args = build_parser().parse_args(argv)
    if args.command is not None:
        command_parsed()
    if args.command == "history":
        from tui.cli.history import run_history

        return _quiet_pipe(lambda: run_history(args, db_path(args.db)))
    if args.command == "export":
        from tui.cli.transfer import run_export

        return _quiet_pipe(lambda: run_export(args, db_path(args.db)))
    if args.command == "import":
        from tui.cli.transfer import run_import

        return run_import(args, db_path(args.db))
    try:
        host = resolve_host(args.host, dict(os.environ))
    except ValueError as exc:
        print(f"ollamon: {exc}", file=sys.stderr)
        return 2
    from tui.core.sampling.monitor import MonitorOptions  # after parsing: --help and --version stay quick

    options = MonitorOptions(
        interval=args.interval,
        power_command=args.power_cmd,
        powermetrics=args.powermetrics,
        idle_watts=args.idle_watts,
    )
    if args.command == "fit":
        from tui.cli.fit import run_fit

        return _quiet_pipe(lambda: run_fit(args, host, db_path(args.db)))
    if args.command == "doctor":
        from tui.cli.doctor import run_doctor

        return _quiet_pipe(lambda: run_doctor(host, options, baseline_seconds=args.baseline, capture=args.capture))
    if args.command == "pull":
        from tui.cli.pull import run_pull

        return run_pull(host, args.name)
    if args.command == "bench":
        from tui.cli.bench import run_bench

        return _quiet_pipe(lambda: run_bench(args, host, db_path(args.db), build_monitor(options, host=host)))
    if args.command == "exporter":
        from tui.cli.exporter import run_exporter

        return run_exporter(args.listen, host, db_path(args.db), build_monitor(options, host=host))
    return _run_app(host, options, args.model, db_path(args.db), keep_content=not args.no_content, metrics=args.metrics)


def _quiet_pipe(command: Callable[[], int]) -> int:
    """`ollamon history | head`: the reader leaving early is not an error."""
    try:
        return command()
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")
        return 0


def db_path(cli_db: str | None) -> Path:
    """`--db`, then `OLLAMON_DB`, then the platform's user data directory."""
    from tui.core.records.files import default_path

    chosen = cli_db or os.environ.get("OLLAMON_DB")
    return Path(chosen).expanduser() if chosen else default_path()


def open_recorder(db: Path, *, keep_content: bool) -> tuple[TurnRecorder | None, str | None]:
    """The turn recorder, or None and why records cannot be saved: the app chats either way."""
    from tui.core.chat.recorder import TurnRecorder
    from tui.core.records.files import StoreError
    from tui.core.records.hostfacts import gather_host, nvml_gpu_facts
    from tui.core.records.store import RecordStore

    try:
        store = RecordStore.open(db)
    except StoreError as exc:
        return None, str(exc)
    return TurnRecorder(store, gather_host(gpu=nvml_gpu_facts), keep_content=keep_content), None


def no_terminal() -> str | None:
    """Why the chat cannot run here, or None: Textual's terminal driver reads keys from standard
    input, and at its end (a file, a closed pipe, /dev/null) it polls without a pause, a core burnt
    for nothing. `textual serve` names its own driver in TEXTUAL_DRIVER and feeds a pipe."""
    if os.environ.get("TEXTUAL_DRIVER") or sys.stdin.isatty():
        return None
    return (
        "ollamon: the chat needs a terminal, and standard input is not one (a file, a pipe or /dev/null). "
        "Run it in a terminal or over ssh -t; for a browser, textual serve --command 'ollamon ...'; "
        "for scripts, ollamon bench, history or fit."
    )


def _run_app(
    host: str,
    options: MonitorOptions,
    model: str | None,
    db: Path,
    *,
    keep_content: bool,
    metrics: tuple[str, int] | None = None,
) -> int:
    if (why := no_terminal()) is not None:
        print(why, file=sys.stderr)
        return 2
    # Imported late so `--help` and `--version` stay fast.
    from tui.app import OllamonApp
    from tui.core.chat.session import ChatSession
    from tui.core.ollama.client import OllamaEngine

    monitor = build_monitor(options, host=host)
    session = ChatSession(OllamaEngine(host), monitor)
    served: list[MetricsService] = []

    def serve_metrics() -> tuple[str, bool]:
        assert metrics is not None
        from tui.cli.exporter import serve_beside_app  # prometheus_client: only when asked for

        service, line = serve_beside_app(monitor, host, db, metrics)
        served.extend([service] if service else [])
        return line, service is None

    app = OllamonApp(
        session,
        model=model,
        open_records=lambda: open_recorder(db, keep_content=keep_content),
        exit_deadline=EXIT_DEADLINE_S,
        serve_metrics=serve_metrics if metrics else None,
    )
    try:
        app.run()
    finally:
        for service in served:
            service.close()
        monitor.close()
        if session.recorder is not None:
            session.recorder.store.close()
    return app.return_code or 0


def build_monitor(options: MonitorOptions, *, host: str | None = None) -> ResourceMonitor:
    """The resource monitor on this machine's sources, with the remembered idle baseline."""
    import platformdirs

    from tui.core.sampling.energy import BaselineStore
    from tui.core.sampling.monitor import ResourceMonitor, build_sampler

    return ResourceMonitor.with_saved_baseline(
        build_sampler(options, host=host),
        idle_watts=options.idle_watts,
        baselines=BaselineStore(platformdirs.user_data_path("ollamon")),
    )
