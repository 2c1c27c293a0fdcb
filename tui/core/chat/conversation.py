"""A chat's per-request settings and its message history."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tui.core.chat.think import ThinkLevel, ThinkWire

# A Go duration as Ollama parses keep_alive strings: "5m", "1h30m", "-1s", "1.5h", "300ms".
_GO_DURATION = re.compile(r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|ms|s|m|h))+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")


def keep_alive_value(text: str | None) -> str | float | None:
    """What `keep_alive` sends: a plain number is seconds (Ollama reads a number string as a
    duration without a unit and refuses it), anything else goes as the Go duration it is."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return text
    seconds = float(text)
    return int(seconds) if seconds.is_integer() else seconds


def keep_alive_problem(text: str) -> str | None:
    """Why Ollama would refuse this keep_alive (every load and turn would fail), or None."""
    text = text.strip()
    if not text or _NUMBER.fullmatch(text) or _GO_DURATION.fullmatch(text):
        return None
    return "seconds (300, -1) or a duration (5m, 1h30m)"


@dataclass
class ChatSettings:
    """Sent with every request of a chat; None means "Ollama's default"."""

    system_prompt: str = ""
    temperature: float | None = None
    num_ctx: int | None = None
    seed: int | None = None
    think: ThinkLevel = ThinkLevel.ON
    keep_alive: str | None = None
    # Other `options` keys, as `bench --options` / `--num-predict` pass them (e.g. num_predict).
    extra_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> ChatSettings:
        """Settings stored with a past chat; keys (and think values) this version does not know are ignored.

        Chats saved before think levels stored `think` as a boolean: true is on, false is off.
        """
        known = {key: value for key, value in saved.items() if key in cls.__dataclass_fields__}
        if "think" in known:
            try:
                known["think"] = ThinkLevel.of(known["think"])
            except ValueError:
                del known["think"]
        return cls(**known)

    def options(self) -> dict[str, Any]:
        """The `options` object of a request."""
        values = {**self.extra_options, "temperature": self.temperature, "num_ctx": self.num_ctx, "seed": self.seed}
        return {key: value for key, value in values.items() if value is not None}

    def keep_alive_param(self) -> str | float | None:
        """`keep_alive` as it is sent (see `keep_alive_value`)."""
        return keep_alive_value(self.keep_alive)

    def think_param(self, can_think: bool) -> ThinkWire | None:
        """`think` goes only to models with the capability; others answer 400."""
        return self.think.wire if can_think else None


@dataclass
class Conversation:
    """User and assistant turns; the whole history is the context of the next request."""

    settings: ChatSettings = field(default_factory=ChatSettings)
    turns: list[dict[str, str]] = field(default_factory=list)

    def request_messages(self, prompt: str) -> list[dict[str, str]]:
        """System prompt, earlier turns and the new prompt."""
        system = [{"role": "system", "content": self.settings.system_prompt}] if self.settings.system_prompt else []
        return [*system, *self.turns, {"role": "user", "content": prompt}]

    def add_turn(self, prompt: str, answer: str) -> None:
        """Keep a finished exchange (a cancelled answer keeps what came)."""
        self.turns.append({"role": "user", "content": prompt})
        self.turns.append({"role": "assistant", "content": answer})

    def clear(self) -> None:
        """Start a new chat with the same settings."""
        self.turns.clear()
