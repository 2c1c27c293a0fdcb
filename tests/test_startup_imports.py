"""Starting the chat imports only what its first screen needs; the rest loads on first use."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli.main import main
from tui.perf import collector

# Loaded on first use: the history screen and its charts, exporting, the settings dialog, the
# fit advisor (first prediction), the records (opened after the first frame), bench's sweep, and the
# Prometheus client (only `exporter` and `--metrics` import it).
ON_FIRST_USE = (
    "tui.ui.history",
    "plotext",
    "tui.core.records.export",
    "csv",
    "tui.ui.settings.settings_screen",
    "tui.core.fit.estimate",
    "tui.core.fit.gather",
    "tui.core.records.schema",
    "tui.core.records.store",
    "tui.core.chat.recorder",
    "sqlite3",
    "tui.cli.history",
    "tui.core.sweep.plan",
    "prometheus_client",
    "tui.core.metrics.service",
    "tui.cli.exporter",
)


def test_the_chat_starts_without_what_it_loads_on_first_use() -> None:
    """The CLI parser and the app import none of the modules loaded only on first use."""
    # What `ollamon` imports before its first frame: the CLI with its parser, then the app.
    script = (
        "import sys\n"
        "from tui.cli.main import build_parser\n"
        "import tui.app\n"
        "build_parser()\n"
        f"print(' '.join(name for name in {ON_FIRST_USE!r} if name in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.split() == []


def test_the_command_imports_the_app_with_the_collector_paused() -> None:
    """`ollamon --version` imports the app and parses with the garbage collector paused: no collection ran."""
    # `--version` ends while parsing: everything imported before it ran without a collection.
    script = (
        "import gc, sys\n"
        "passes = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and passes.append(info['generation']))\n"
        "import tui.__main__ as entry\n"
        "before = len(passes)\n"
        "sys.argv = ['ollamon', '--version']\n"
        "try:\n"
        "    entry.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(len(passes) - before, 'tui.cli.main' in sys.modules, gc.isenabled())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert result.split()[-3:] == ["0", "True", "False"]


def test_a_command_runs_with_the_collector_back_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command other than the chat, such as history, runs with the garbage collector back on."""
    # Only the app waits for its first frame; `history`, `bench` and the rest collect as usual.
    monkeypatch.setattr(collector, "_paused", False)
    collector.pause_collector()
    try:
        main(["history", "--db", str(tmp_path / "none.sqlite")])  # says there are no records yet
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
