"""Textual is the release the internals were read in, and every internal ollamon relies on is still there."""

from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import cast

import pytest
from textual.geometry import Size
from textual.screen import Screen

from tui.app import OllamonApp, breakpoint_classes
from tui.perf.textual_internals import INTERNALS, PINNED_TEXTUAL, TextualInternal

ROOT = Path(__file__).resolve().parents[1]


def _resolve(internal: TextualInternal) -> object:
    *owners, last = internal.name.split(".")
    found: object = importlib.import_module(internal.module)
    for part in owners:
        found = getattr(found, part)
    if internal.on_instance:
        assert callable(found)
        found = found()
    return getattr(found, last)


def test_textual_is_the_pinned_release() -> None:
    """The installed Textual is PINNED_TEXTUAL; otherwise the message lists each internal to re-check."""
    installed = version("textual")
    recheck = "\n".join(f"  {internal.where} (used by {internal.used_by}): {internal.why}" for internal in INTERNALS)
    assert installed == PINNED_TEXTUAL, (
        f"Textual {installed} is installed; tui/perf/textual_internals.py was checked against {PINNED_TEXTUAL}. "
        f"Re-check each of these in the new release, then move PINNED_TEXTUAL and pyproject's pin together:\n"
        f"{recheck}"
    )


def test_pyproject_pins_the_same_release() -> None:
    """pyproject.toml requires exactly PINNED_TEXTUAL."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"textual=={PINNED_TEXTUAL}" in dependencies


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda internal: internal.where)
def test_each_internal_is_still_there(internal: TextualInternal) -> None:
    """The name resolves, still has what we use, and takes the parameters we pass."""
    found = _resolve(internal)
    for attribute in internal.attributes:
        assert hasattr(found, attribute), f"{internal.where} has no {attribute}"
    if internal.parameters is not None:
        assert callable(found)
        assert tuple(inspect.signature(found).parameters) == internal.parameters


@pytest.mark.parametrize("size", [(w, h) for w in (0, 59, 60, 99, 100, 149, 150, 300) for h in (0, 15, 16, 47, 48, 90)])
def test_breakpoint_classes_follow_textuals_rule(size: tuple[int, int]) -> None:
    """At each size, tui.app.breakpoint_classes switches on the classes Textual's resize would choose."""
    horizontal, vertical = OllamonApp.HORIZONTAL_BREAKPOINTS, OllamonApp.VERTICAL_BREAKPOINTS
    ours = breakpoint_classes(Size(*size), horizontal, vertical)
    rule = Screen._get_breakpoint_classes  # reads nothing of the screen: called on none
    no_screen = cast("Screen[object]", None)
    textuals = rule(no_screen, size[0], horizontal) | rule(no_screen, size[1], vertical)
    assert {name for name, on in ours.items() if on} == textuals
    assert set(ours) == {name for _, name in horizontal + vertical}


def test_every_module_reaching_into_textual_is_listed() -> None:
    """A module that imports a private Textual module or calls a private method of its Textual base is in the list."""
    private = re.compile(r"^from textual\.(?:\w+\.)*_\w+ import|super\(\)\._[a-z]\w*\(", re.MULTILINE)
    reaching = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "tui").rglob("*.py")
        if private.search(path.read_text())
    }
    assert reaching
    assert reaching <= {internal.used_by for internal in INTERNALS}


def test_each_internal_is_documented() -> None:
    """docs/performance.md names every listed internal."""
    doc = (ROOT / "docs" / "performance.md").read_text()
    assert [internal.where for internal in INTERNALS if internal.name not in doc] == []
