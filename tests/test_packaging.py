"""The wheel lists every package (setuptools' discovery is off for the flat layout)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_tui_package_is_listed() -> None:
    """pyproject lists exactly the tui packages found on disk, plus tui.styles."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "tui").rglob("__init__.py")}
    assert on_disk | {"tui.styles"} == listed


def test_stylesheets_ship_in_the_package() -> None:
    """The stylesheets the app loads ship in the package, one file for each in styles/."""
    from tui.app import STYLESHEETS, stylesheet_paths

    paths = [path for path in stylesheet_paths() if isinstance(path, Path)]  # any other type is missing below
    assert [path.name for path in paths] == list(STYLESHEETS)
    assert all(path.is_file() for path in paths)
    assert {path.name for path in (ROOT / "styles").glob("*.tcss")} == set(STYLESHEETS)
