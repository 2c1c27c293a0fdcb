"""Choosing a table's columns for a width, and the line that says what was left out."""

from __future__ import annotations

import pytest

from tui.ui.history.column_widths import Column, ColumnWidths, hint, share_width

COLUMNS = (
    Column("name", "Name", 0),
    Column("note", "Note", 3),
    Column("total", "Total (median)", 1, short="Total", note="Total: median"),
    Column("speed", "Speed", 2),
)
WIDEST = {"name": 10, "note": 20, "total": 6, "speed": 5}
# Each column's cost with its short header and padding 2: name 12, note 22, total 8, speed 7.


def test_the_most_needed_columns_are_kept_and_shown_in_table_order() -> None:
    """The most needed columns are kept for a width, in table order, and a shortened header is noted."""
    widths = share_width(COLUMNS, WIDEST, 12 + 8 + 7, padding=2)
    assert widths.shown == (("name", "Name"), ("total", "Total"), ("speed", "Speed"))
    assert [c.key for c in widths.hidden] == ["note"] and widths.notes == ("Total: median",)


def test_a_column_too_wide_for_the_room_left_gives_way_to_a_narrower_one() -> None:
    """A needed column too wide for the room left gives way to a narrower, less needed one."""
    # Room for name and speed but not total: speed is shown although total is needed more.
    widths = share_width(COLUMNS, WIDEST, 12 + 7, padding=2)
    assert [key for key, _ in widths.shown] == ["name", "speed"]


def test_the_full_header_comes_back_where_the_room_allows() -> None:
    """With room enough every column is shown with its full header and nothing is noted."""
    widths = share_width(COLUMNS, WIDEST, 12 + 22 + 16 + 7, padding=2)
    assert ("total", "Total (median)") in widths.shown and not widths.hidden and not widths.notes


@pytest.mark.parametrize("width", range(0, 60, 3))
def test_no_column_left_out_would_have_fitted(width: int) -> None:
    """At every width the columns shown fit, and each column left out would not have fitted."""
    widths = share_width(COLUMNS, WIDEST, width, padding=2)
    by_key = {c.key: c for c in COLUMNS}
    used = sum(max(WIDEST[key], len(header)) + 2 for key, header in widths.shown)
    assert used <= width
    for column in widths.hidden:
        assert max(WIDEST[column.key], len(column.short or column.header)) + 2 > width - used
    assert {key for key, _ in widths.shown} | {c.key for c in widths.hidden} == set(by_key)


def test_the_hint_takes_the_longest_wording_that_fits() -> None:
    """The hint names the hidden columns and takes the longest wording that fits the width."""
    widths = ColumnWidths(shown=(("name", "Name"),), hidden=COLUMNS[1:2] + COLUMNS[3:], notes=())
    reveals = ("a wider terminal shows them", "wider shows all")
    assert hint(widths, reveals, 200) == "2 columns hidden (Note, Speed) · a wider terminal shows them"
    assert hint(widths, reveals, 50) == "2 columns hidden (Note, Speed) · wider shows all"
    assert hint(widths, reveals, 46) == "2 columns hidden · a wider terminal shows them"
    assert hint(widths, reveals, 10) == "2 columns hidden"


def test_the_hint_explains_a_short_header_and_is_empty_when_all_is_said() -> None:
    """The hint explains a shortened header alone, and is empty when nothing is hidden or shortened."""
    shortened = ColumnWidths(shown=(("total", "Total"),), hidden=(), notes=("Total: median",))
    assert hint(shortened, ("x",), 80) == "Total: median"
    assert hint(ColumnWidths(shown=(("name", "Name"),), hidden=(), notes=()), ("x",), 80) == ""
