"""Command line: `ollamon` starts the TUI; subcommands reuse the core headless."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tui import __version__
from tui.core.host import resolve_host


def build_parser() -> argparse.ArgumentParser:
    """Options of the app."""
    parser = argparse.ArgumentParser(
        prog="ollamon",
        description="Chat with local Ollama models and watch what each answer costs.",
    )
    parser.add_argument(
        "--host",
        help="Ollama URL or host[:port] (default: $OLLAMA_HOST, else http://127.0.0.1:11434)",
    )
    parser.add_argument("--model", help="model to preselect and load, e.g. qwen3:8b")
    parser.add_argument("--version", action="version", version=f"ollamon {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ollamon` console script."""
    args = build_parser().parse_args(argv)
    try:
        host = resolve_host(args.host, dict(os.environ))
    except ValueError as exc:
        print(f"ollamon: {exc}", file=sys.stderr)
        return 2
    # Imported late so `--help` and `--version` stay fast.
    from tui.app import OllamonApp
    from tui.core.engine import OllamaEngine

    app = OllamonApp(OllamaEngine(host), model=args.model)
    app.run()
    return app.return_code or 0
