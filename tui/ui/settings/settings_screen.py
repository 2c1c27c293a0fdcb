"""Per-chat settings in a small modal: sent with each request of this chat."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.validation import Integer, Number, ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select, Static

from tui.core.chat.conversation import ChatSettings, keep_alive_problem
from tui.core.chat.think import ThinkLevel
from tui.perf.keys_footer import KeysFooter

# Sane bounds: Ollama takes more, but past these a value is a typo, not a choice.
TEMPERATURE_MAX = 2.0
SEED_MAX = 2**31 - 1
# num_ctx when /api/show gave no context length: no released model reads further than this.
NUM_CTX_CAP = 1 << 21
FieldKind = Literal["integer", "number", "text"]


class KeepAlive(Validator):
    """Seconds or a Go duration, as Ollama takes keep_alive: a refused one fails every load and turn."""

    def validate(self, value: str) -> ValidationResult:
        problem = keep_alive_problem(value)
        return self.success() if problem is None else self.failure(problem)


def _text(value: object | None) -> str:
    return "" if value is None else str(value)


class SettingsScreen(ModalScreen[ChatSettings | None]):
    """Edit a copy of the settings; Save returns it, Escape returns None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
        # Priority: the app then moves focus as it reads the Tab, before it hands on the keys typed after
        # it. Without it the Tab waits in the field's queue behind them, and a fast typist's (or a
        # paste's) next value lands in the field being left.
        Binding("tab", "app.focus_next", "Next field", show=True, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(
        self,
        settings: ChatSettings,
        *,
        can_think: bool,
        model: str | None,
        context_length: int | None = None,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._can_think = can_think
        self._model = model
        self._context_length = context_length
        self._hints: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        s = self._settings
        with Vertical(id="settings-dialog") as dialog:
            dialog.border_title = "Chat settings"
            with Grid(id="settings-grid"):
                yield Label("System prompt")
                yield Input(s.system_prompt, id="system", placeholder="(none)", compact=True)
                yield Label("Temperature")
                limit = f"0 to {TEMPERATURE_MAX:g}"
                yield from self._field(
                    "temperature",
                    s.temperature,
                    "model default",
                    "number",
                    limit,
                    Number(0, TEMPERATURE_MAX, failure_description=limit),
                )
                yield Label("num_ctx")
                yield from self._field("num_ctx", s.num_ctx, "model default", "integer", *self._num_ctx_rule())
                yield Label("Seed")
                yield from self._field(
                    "seed",
                    s.seed,
                    "random",
                    "integer",
                    "same seed, same answer",
                    Integer(0, SEED_MAX, failure_description=f"0 to {SEED_MAX}"),
                )
                yield Label("keep_alive")
                yield from self._field(
                    "keep_alive", s.keep_alive, "5m", "text", "5m, 1h; 0 unloads, -1 keeps", KeepAlive()
                )
                yield Label("Think")
                with Horizontal(id="think-row"):
                    yield Select(
                        [(level.value, level) for level in ThinkLevel],
                        value=s.think,
                        allow_blank=False,
                        compact=True,
                        id="think",
                        disabled=not self._can_think,
                    )
                    yield Static(Content(self._think_note(s.think)), id="think-note")
            yield Static("", id="settings-error")
            with Horizontal(id="settings-buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield KeysFooter()

    def _num_ctx_rule(self) -> tuple[str, Validator]:
        """Up to the model's context length (from /api/show); a generous cap when it is unknown."""
        if self._context_length:
            limit, hint = self._context_length, f"up to {self._context_length} (model)"
        else:
            limit, hint = NUM_CTX_CAP, f"up to {NUM_CTX_CAP}"
        reason = f"1 to {limit} (model's max)" if self._context_length else f"1 to {limit}"
        return hint, Integer(1, limit, failure_description=reason)

    def _field(
        self,
        name: str,
        value: object | None,
        placeholder: str,
        kind: FieldKind,
        hint: str,
        *validators: Validator,
    ) -> ComposeResult:
        """An input and, beside it, its range (muted) or why its value is refused (red)."""
        self._hints[name] = hint
        with Horizontal(classes="field-row"):
            # Empty means "Ollama's default": never an error, not even after tabbing through.
            yield Input(
                _text(value),
                id=name,
                placeholder=placeholder,
                type=kind,
                validators=list(validators),
                valid_empty=True,
                compact=True,
            )
            yield Static(Content(hint), id=f"{name}-why", classes="why")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in self._hints:
            self._show_why(event.input)

    def _show_why(self, field: Input) -> bool:
        """Update the note beside `field`; returns whether its value is acceptable."""
        result = field.validate(field.value)
        ok = result is None or result.is_valid
        why = self.query_one(f"#{field.id}-why", Static)
        why.update(Content(self._hints[field.id or ""] if ok else "; ".join(result.failure_descriptions)))  # type: ignore[union-attr]
        why.set_class(not ok, "error")
        return ok

    def _think_note(self, level: ThinkLevel) -> str:
        """What the chosen level does, or why Think cannot be chosen."""
        if self._can_think:
            if level is ThinkLevel.OFF:
                return "answers without reasoning"
            depth = "" if level is ThinkLevel.ON else f"{level.value} effort, "
            return f"{depth}reasoning shown separately"
        if self._model is None:
            return "choose a model first"
        return f"{self._model} has no thinking capability"

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "think" and isinstance(event.value, ThinkLevel):
            self.query_one("#think-note", Static).update(Content(self._think_note(event.value)))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        """Close without changes."""
        self.dismiss(None)

    def action_save(self) -> None:
        """Validate and return the new settings; a refused value keeps the dialog open on it."""
        refused = [field for field in self.query(Input) if field.id in self._hints and not self._show_why(field)]
        if refused:
            refused[0].focus()
            self.query_one("#settings-error", Static).update(Content("Fix the value marked in red, or Escape."))
            return
        self.dismiss(self._read())

    def _read(self) -> ChatSettings:
        def value(field: str) -> str:
            return self.query_one(f"#{field}", Input).value.strip()

        think: Select[ThinkLevel] = self.query_one("#think", Select)

        return replace(
            self._settings,
            system_prompt=self.query_one("#system", Input).value,
            temperature=float(value("temperature")) if value("temperature") else None,
            num_ctx=int(value("num_ctx")) if value("num_ctx") else None,
            seed=int(value("seed")) if value("seed") else None,
            think=think.selection or self._settings.think,
            keep_alive=value("keep_alive") or None,
        )
