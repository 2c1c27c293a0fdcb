"""Asked before a chat is exported: the folder it goes to, shown first and editable."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import platformdirs
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


def default_export_dir() -> Path:
    """Where exported chats go unless the person says otherwise: their documents, in a folder of ours."""
    return platformdirs.user_documents_path() / "ollamon"


class ExportDialog(ModalScreen[Path | None]):
    """The export folder, prefilled; Enter saves there (creating it), Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog") as dialog:
            dialog.border_title = "Export chat as Markdown"
            yield Static("Folder (created if missing; a file of the same name is never overwritten):")
            yield Input(str(self.folder), id="export-folder")
            yield Static(Content("Enter saves · Escape cancels"), id="export-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.dismiss(Path(text).expanduser() if text else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
