"""Enums whose values a newer ollamon may extend: an unknown value is kept, not refused."""

from __future__ import annotations

import enum
from typing import Self


class OpenStrEnum(str, enum.Enum):
    """A str enum that keeps a value this version does not know as a pseudo-member.

    The pseudo-member compares equal to its string and keeps it as `.value`, so it is shown and
    stored as it is.
    """

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member
