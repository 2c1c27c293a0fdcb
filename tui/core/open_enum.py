"""Enums whose values a newer ollamon may extend: an unknown value is kept, not refused."""

from __future__ import annotations

import enum


def unknown_member(cls: type[enum.Enum], value: object) -> enum.Enum | None:
    """A pseudo-member of a str enum for a value this version does not know (for `_missing_`).

    It compares equal to its string and keeps it as `.value`, so it is shown and stored as it is.
    """
    if not isinstance(value, str):
        return None
    member = str.__new__(cls, value)
    member._name_ = value.upper()
    member._value_ = value
    return member
