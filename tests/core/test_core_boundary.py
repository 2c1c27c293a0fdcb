"""The core and the headless commands import with Textual unavailable: the UI stays on top."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_and_headless_commands_do_not_need_textual() -> None:
    """Every tui.core module, tui.perf's CLI half, doctor, history, fit and the CLI import with `textual` blocked."""
    code = (
        "import sys, importlib, pkgutil\n"
        "sys.modules['textual'] = None  # any `import textual...` now raises ImportError\n"
        "import tui.core\n"
        "names = [m.name for m in pkgutil.walk_packages(tui.core.__path__, 'tui.core.')]\n"
        "names += ['tui.cli.doctor', 'tui.cli.history', 'tui.cli.fit', 'tui.cli.main', 'tui.cli.bench',\n"
        "          'tui.cli.bench_options', 'tui.cli.pull', 'tui.__main__']\n"
        "names += ['tui.perf', 'tui.perf.switch', 'tui.perf.collector', 'tui.perf.heap', 'tui.perf.hooks',\n"
        "          'tui.perf.textual_internals']\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 25  # the walk really found the core's modules
