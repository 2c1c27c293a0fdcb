"""Starting the chat imports only what its first screen needs; the rest loads on first use."""

from __future__ import annotations

import subprocess
import sys

# Loaded on first use: the history screen and its charts, exporting, the settings dialog.
ON_FIRST_USE = ("tui.ui.history", "plotext", "tui.core.records.export", "csv", "tui.ui.settings.settings_screen")


def test_the_chat_starts_without_what_it_loads_on_first_use() -> None:
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
