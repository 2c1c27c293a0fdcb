"""The model dropdown: every local model with its size and quantization; loaded ones marked."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Select

from tui.core.models import ModelInfo
from tui.core.units import human_bytes


def model_label(model: ModelInfo, loaded: bool) -> Text:
    """One option line; a Text so that a model name is never read as markup."""
    mark = "● " if loaded else "  "
    details = " ".join(part for part in (model.parameter_size, model.quantization) if part)
    return Text(f"{mark}{model.name}  {human_bytes(model.size)}  {details}".rstrip())


class ModelPicker(Select[str]):
    """Select with a stable value across refreshes of the model list."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__([], prompt="Choose a model (ctrl+l)", allow_blank=True, **kwargs)
        self._shown: tuple[tuple[str, bool], ...] = ()

    def show_models(self, models: list[ModelInfo], loaded: set[str], keep: str | None) -> bool:
        """Replace the options when they changed; returns whether they did."""
        shown = tuple((model.name + human_bytes(model.size), model.name in loaded) for model in models)
        if shown == self._shown:
            return False
        self._shown = shown
        with self.prevent(Select.Changed):
            self.set_options((model_label(model, model.name in loaded), model.name) for model in models)
            if keep is not None and any(model.name == keep for model in models):
                self.value = keep
        return True
