"""Asked before loading a model the fit advisor predicts to swap or not to load."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from tui.core.fit.estimate import Fit


class LoadAnywayScreen(ModalScreen[bool]):
    """The prediction and its reason; Enter or y loads the model anyway, Escape or n does not."""

    # Its own small stylesheet: the dialog is one self-contained piece, and fits 80x24.
    DEFAULT_CSS = """
    LoadAnywayScreen {
        align: center middle;
    }
    #load-anyway {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $warning;
        padding: 1 2;
        background: $surface;
    }
    #load-anyway-title {
        text-style: bold;
        color: $warning;
    }
    #load-anyway-keys {
        margin-top: 1;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "answer(True)", "Load anyway"),
        Binding("escape,n", "answer(False)", "Cancel"),
    ]

    def __init__(self, fit: Fit) -> None:
        super().__init__()
        self.fit = fit

    def compose(self) -> ComposeResult:
        fit = self.fit
        with Vertical(id="load-anyway") as dialog:
            dialog.border_title = "Before loading"
            # Model names and reasons carry server text: Content, never markup.
            yield Static(Content(f"{fit.model} {fit.verdict.label}"), id="load-anyway-title")
            yield Static(Content(f"predicted {fit.placement}"), id="load-anyway-summary")
            yield Static(Content(fit.reason), id="load-anyway-reason")
            yield Static(
                Content("Enter or y loads it anyway · Escape or n keeps the current model"), id="load-anyway-keys"
            )

    def action_answer(self, load: bool) -> None:
        self.dismiss(load)
