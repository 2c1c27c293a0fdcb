"""The model dropdown: every local model with its size and quantization; loaded ones marked."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Select

from tui.core.ollama.models import ModelInfo
from tui.core.units import human_bytes


def model_labels(models: list[ModelInfo], loaded: set[str]) -> list[Text]:
    """Option lines in aligned columns; Text, so that a model name is never read as markup."""
    name_width = max((len(model.name) for model in models), default=0)
    size_width = max((len(human_bytes(model.size)) for model in models), default=0)
    params_width = max((len(model.parameter_size) for model in models), default=0)
    return [
        Text(
            f"{'●' if model.name in loaded else ' '} {model.name:<{name_width}}  "
            f"{human_bytes(model.size):>{size_width}}  {model.parameter_size:>{params_width}}  "
            f"{model.quantization}".rstrip()
        )
        for model in models
    ]


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
            self.set_options(zip(model_labels(models, loaded), (model.name for model in models)))
            if keep is not None and any(model.name == keep for model in models):
                self.value = keep
        return True
