"""The package is built in floors: a module imports only from its own floor or those below it.

From the bottom: the version and units, the Ollama client, sampling, records, the fit advisor,
the chat session, its users (bench's sweep, doctor's capture, the Prometheus metrics), the start-up and memory tuning,
the widgets, the app, the command line. Checked twice: statically (every import statement,
including those inside functions) and at run time (each floor imports with every floor above it
unavailable).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A name is a module or a package (then everything below it), but for the two
# packages in EXACT, which stand for their __init__ alone.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("tui", "tui.core", "tui.core.units", "tui.core.open_enum"),
    ("tui.core.ollama",),
    ("tui.core.sampling",),
    ("tui.core.records",),
    ("tui.core.fit",),
    ("tui.core.chat",),
    ("tui.core.sweep", "tui.core.capture", "tui.core.metrics"),
    ("tui.perf",),
    ("tui.ui",),
    ("tui.app",),
    ("tui.cli",),
    ("tui.__main__",),
)
EXACT = {"tui", "tui.core"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def floor(module: str) -> int | None:
    """The floor of `module`, by the longest name in LAYERS that is it or a package above it."""
    best: tuple[int, int] | None = None
    for index, names in enumerate(LAYERS):
        for name in names:
            exact_only = name in EXACT
            if module == name or (not exact_only and module.startswith(name + ".")):
                if best is None or len(name) > best[1]:
                    best = (index, len(name))
    return None if best is None else best[0]


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imports_of(source: str) -> list[tuple[int, str]]:
    """(line, module) for every import of the package in `source`, function bodies included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "tui":
            assert node.module is not None
            for alias in node.names:  # `from tui.core import units` imports the module units
                name = f"{node.module}.{alias.name}"
                found.append((node.lineno, name if _is_module(name) else node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "tui"]
    return found


def violations(module: str, source: str) -> list[str]:
    """Each import in `source` that reaches a floor above `module`'s, or that it sits on no floor."""
    own = floor(module)
    if own is None:
        return [f"{module}: on no floor (add it to LAYERS)"]
    found = []
    for line, target in imports_of(source):
        other = floor(target)
        if other is not None and other > own:
            found.append(f"{module}:{line} imports {target} (floor {other} above {own})")
    return found


def sources() -> list[Path]:
    return sorted((ROOT / "tui").rglob("*.py"))


def test_every_import_goes_down_or_sideways() -> None:
    """No module of the package imports from a floor above its own, nor sits on no floor."""
    paths = sources()
    assert len(paths) > 100  # the walk really found the package
    found = [problem for path in paths for problem in violations(module_name(path), path.read_text(encoding="utf-8"))]
    assert found == []


def test_an_upward_import_is_found() -> None:
    """A records module importing the chat session (the old recorder's place) is named, even inside a function."""
    source = "import tui.core.units\n\ndef late():\n    from tui.core.chat import session\n"
    assert violations("tui.core.records.probe", source) == [
        "tui.core.records.probe:4 imports tui.core.chat.session (floor 5 above 3)"
    ]
    assert violations("tui.core.newfloor", "") == ["tui.core.newfloor: on no floor (add it to LAYERS)"]


def test_each_floor_imports_with_the_floors_above_it_unavailable() -> None:
    """At run time too: importing a floor's modules never needs a floor above it."""
    floors = [
        [module_name(path) for path in sources() if floor(module_name(path)) == index] for index in range(len(LAYERS))
    ]
    above = [sorted({name for names in LAYERS[index + 1 :] for name in names}) for index in range(len(LAYERS))]
    code = (
        "import importlib, sys\n"
        f"floors, above = {floors!r}, {above!r}\n"
        "count = 0\n"
        "for modules, blocked in zip(floors, above):\n"
        "    for name in blocked: sys.modules[name] = None  # importing it now raises ImportError\n"
        "    for module in modules:\n"
        "        importlib.import_module(module); count += 1\n"
        "    for name in blocked: del sys.modules[name]\n"
        "print(count)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == sum(len(modules) for modules in floors)
