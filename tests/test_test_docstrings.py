"""Every test says in one line what a person would see or what must hold, so a newcomer can read and extend them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent

Function = ast.FunctionDef | ast.AsyncFunctionDef


def collected_functions(body: list[ast.stmt]) -> Iterator[Function]:
    """The test functions pytest collects from a module or class body, classes within it included."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from collected_functions(node.body)


def test_every_test_has_a_one_line_docstring() -> None:
    """Each test_* function and method under tests/ has a docstring, and its text is a single line."""
    offending = []
    for path in sorted(TESTS.rglob("test_*.py")):
        for test in collected_functions(ast.parse(path.read_text(encoding="utf-8")).body):
            docstring = (ast.get_docstring(test) or "").strip()
            if not docstring or "\n" in docstring:
                offending.append(f"{path.relative_to(TESTS.parent)}::{test.name}")
    assert not offending, "tests without a one-line docstring:\n" + "\n".join(offending)
