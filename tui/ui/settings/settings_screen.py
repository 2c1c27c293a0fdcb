"""Per-chat settings in a small modal: sent with each request of this chat."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, Switch

from tui.core.chat.conversation import ChatSettings


def _text(value: object | None) -> str:
    return "" if value is None else str(value)


class SettingsScreen(ModalScreen[ChatSettings | None]):
    """Edit a copy of the settings; Save returns it, Escape returns None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, settings: ChatSettings, *, can_think: bool, model: str | None) -> None:
        super().__init__()
        self._settings = settings
        self._can_think = can_think
        self._model = model

    def compose(self) -> ComposeResult:
        s = self._settings
        with Vertical(id="settings-dialog") as dialog:
            dialog.border_title = "Chat settings"
            with Grid(id="settings-grid"):
                yield Label("System prompt")
                yield Input(s.system_prompt, id="system", placeholder="(none)", compact=True)
                yield Label("Temperature")
                yield Input(_text(s.temperature), id="temperature", placeholder="model default", type="number", compact=True)
                yield Label("num_ctx")
                yield Input(_text(s.num_ctx), id="num_ctx", placeholder="model default", type="integer", compact=True)
                yield Label("Seed")
                yield Input(_text(s.seed), id="seed", placeholder="random", type="integer", compact=True)
                yield Label("keep_alive")
                yield Input(_text(s.keep_alive), id="keep_alive", placeholder="5m (Ollama default)", compact=True)
                yield Label("Think")
                with Horizontal(id="think-row"):
                    yield Switch(s.think, id="think", disabled=not self._can_think)
                    yield Static(Content(self._think_note()), id="think-note")
            yield Static("", id="settings-error")
            with Horizontal(id="settings-buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _think_note(self) -> str:
        if self._can_think:
            return "reasoning shown separately"
        if self._model is None:
            return "choose a model first"
        return f"{self._model} has no thinking capability"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        """Close without changes."""
        self.dismiss(None)

    def action_save(self) -> None:
        """Validate and return the new settings."""
        try:
            settings = self._read()
        except ValueError as exc:
            self.query_one("#settings-error", Static).update(Content(str(exc)))
            return
        self.dismiss(settings)

    def _read(self) -> ChatSettings:
        def value(field: str) -> str:
            return self.query_one(f"#{field}", Input).value.strip()

        temperature = float(value("temperature")) if value("temperature") else None
        if temperature is not None and not 0 <= temperature <= 2:
            raise ValueError("Temperature must be between 0 and 2.")
        num_ctx = int(value("num_ctx")) if value("num_ctx") else None
        if num_ctx is not None and num_ctx < 1:
            raise ValueError("num_ctx must be a positive number of tokens.")
        return replace(
            self._settings,
            system_prompt=self.query_one("#system", Input).value,
            temperature=temperature,
            num_ctx=num_ctx,
            seed=int(value("seed")) if value("seed") else None,
            think=self.query_one("#think", Switch).value,
            keep_alive=value("keep_alive") or None,
        )
