"""How hard a thinking model is asked to think: the `think` request value, as a user picks it."""

from __future__ import annotations

import enum

# What `think` carries on the wire: true/false, or a level's name (any other string is a 400).
ThinkWire = bool | str


class ThinkLevel(enum.StrEnum):
    """Off, on (the model's own default depth), or a level reasoning models such as gpt-oss take."""

    OFF = "off"
    ON = "on"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    MAX = "max"  # Ollama 0.22 and later

    @property
    def wire(self) -> ThinkWire:
        """The `think` value sent: off → false, on → true, a level → its name."""
        if self is ThinkLevel.OFF:
            return False
        if self is ThinkLevel.ON:
            return True
        return self.value

    @classmethod
    def of(cls, value: object) -> ThinkLevel:
        """A level from its stored form: its name, or the boolean older versions stored.

        ValueError for anything else (a level a newer version added, a typo).
        """
        if isinstance(value, bool):
            return cls.ON if value else cls.OFF
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        raise ValueError(f"think {value!r} is not one of {', '.join(level.value for level in cls)}")
