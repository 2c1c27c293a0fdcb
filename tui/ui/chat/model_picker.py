"""The model dropdown: every local model with the fit advisor's mark, its size and quantization;
loaded ones marked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import OptionList, Select
from textual.widgets.option_list import Option

from tui.core.fit.verdict import Accuracy, Verdict
from tui.core.ollama.models import CatalogModel
from tui.core.sampling.processor import cpu_percent
from tui.core.units import human_bytes

if TYPE_CHECKING:
    from tui.core.fit.estimate import Fit

_MARK_STYLES = {
    Verdict.FITS: "green",
    Verdict.SPILLS: "yellow",
    Verdict.SWAPS: "bold red",
    Verdict.WONT_LOAD: "bold red",
}


# A cloud model's mark: served by another host, so there is no placement to predict.
CLOUD_MARK = "☁ cloud"
# What each mark before the names means, in the order the legend lists them.
_MARK_MEANINGS = {
    "✓": "✓ fits on the GPU",
    "◐ %": "◐ 26% CPU: spills that share to the CPU",
    "◐ CPU only": "◐ CPU only: runs wholly on the CPU",
    "⚠": "⚠ swap: will swap",
    "✗": "✗ no load: will not load",
    "?": "? after a mark: a rough estimate (the server sent no tensor list)",
    "☁": "☁ cloud: runs on another host",
    "●": "● in memory now",
}
# Every mark explained (the dropdown's tooltip, and the README's).
MARKS_LEGEND = " · ".join(_MARK_MEANINGS.values())


def _mark_kinds(mark: str) -> set[str]:
    """The legend entries one mark needs: `◐ CPU only?` needs both "◐ CPU only" and "?"."""
    kinds = {"?"} if mark.endswith("?") else set()
    base = mark.removesuffix("?")
    if base.startswith("◐"):
        kinds.add("◐ CPU only" if base == "◐ CPU only" else "◐ %")
    elif base:
        kinds.add(base[0])
    return kinds


def marks_legend(marks: Iterable[str], any_loaded: bool) -> str:
    """Only the marks in use explained, one per line."""
    used = {kind for mark in marks for kind in _mark_kinds(mark)} | ({"●"} if any_loaded else set())
    return "\n".join(meaning for kind, meaning in _MARK_MEANINGS.items() if kind in used)


def fit_mark(fit: Fit | None) -> str:
    """`✓`, `◐ 26% CPU`, `⚠ swap` or `✗ no load`; `?` after a rough estimate; empty without a prediction."""
    if fit is None:
        return ""
    if fit.verdict is Verdict.FITS:
        mark = "✓"
    elif fit.verdict is Verdict.SPILLS:
        cpu = cpu_percent(fit.size, fit.size_vram)
        mark = "◐ CPU only" if cpu == 100 else f"◐ {cpu}% CPU"
    elif fit.verdict is Verdict.SWAPS:
        mark = "⚠ swap"
    else:
        mark = "✗ no load"
    return mark + ("?" if fit.accuracy is Accuracy.ROUGH else "")


def model_marks(models: list[CatalogModel], fits: Mapping[str, Fit]) -> dict[str, str]:
    """Each model's mark by name: the fit advisor's, or the cloud mark."""
    return {model.name: CLOUD_MARK if model.cloud else fit_mark(fits.get(model.name)) for model in models}


def model_labels(models: list[CatalogModel], loaded: set[str], fits: Mapping[str, Fit] | None = None) -> list[Text]:
    """Option lines in aligned columns; Text, so that a model name is never read as markup.

    One line per model, cut at the dropdown's edge: the mark comes before the name, so a narrow
    dropdown (80 columns, the 35-character DeepSeek-R1 tags) still shows it whole.
    """
    fits = fits or {}
    marks = model_marks(models, fits)
    name_width = max((len(model.name) for model in models), default=0)
    mark_width = max((len(mark) for mark in marks.values()), default=0)
    size_width = max((len("remote" if model.cloud else human_bytes(model.size)) for model in models), default=0)
    params_width = max((len(model.parameter_size) for model in models), default=0)
    labels = []
    for model in models:
        label = Text(f"{'●' if model.name in loaded else ' '} ")
        if mark_width:
            fit = fits.get(model.name)
            style = "cyan" if model.cloud else _MARK_STYLES[fit.verdict] if fit else ""
            label.append(f"{marks[model.name]:<{mark_width}}", style=style)
            label.append("  ")
        label.append(f"{model.name:<{name_width}}  ")
        size = "remote" if model.cloud else human_bytes(model.size)
        label.append(f"{size:>{size_width}}  {model.parameter_size:>{params_width}}  {model.quantization}")
        label.rstrip()
        labels.append(label)
    return labels


class ModelPicker(Select[str]):
    """Select with a stable value across refreshes of the model list and of the predictions."""

    # One line per model: a wrapped option would push the list's end out of a small screen.
    DEFAULT_CSS = """
    ModelPicker SelectOverlay {
        text-wrap: nowrap;
        text-overflow: ellipsis;
        /* Select's 12 rows hide the legend under a long list where the screen has room for it. */
        max-height: 75vh;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__([], prompt="Choose a model (ctrl+l)", allow_blank=True, **kwargs)
        self.tooltip = MARKS_LEGEND
        self._models: list[CatalogModel] = []
        self._loaded: set[str] = set()
        self._fits: dict[str, Fit] = {}
        self._shown: tuple[object, ...] = ()
        self._choices: list[tuple[Text, str]] = []

    @property
    def choices(self) -> list[tuple[Text, str]]:
        """The options shown, as (label, model name) in order, without the blank one."""
        return list(self._choices)

    def show_models(self, models: list[CatalogModel], loaded: set[str], keep: str | None) -> bool:
        """Replace the options when they changed; returns whether they did."""
        self._models, self._loaded = list(models), set(loaded)
        return self._show(keep)

    def show_fits(self, fits: Mapping[str, Fit]) -> bool:
        """Mark each model with where it would load; the choice stays."""
        self._fits = dict(fits)
        return self._show(self.value if isinstance(self.value, str) else None)

    def _show(self, keep: str | None) -> bool:
        models = self._models
        marks = model_marks(models, self._fits)
        shown = (
            tuple((model.name + human_bytes(model.size), model.name in self._loaded) for model in models),
            tuple(marks.values()),
        )
        if shown == self._shown:
            return False
        self._shown = shown
        with self.prevent(Select.Changed):
            self._choices = list(
                zip(model_labels(models, self._loaded, self._fits), (model.name for model in models), strict=True)
            )
            self.set_options(self._choices)
            self._add_legend(marks_legend(marks.values(), any_loaded=bool(self._loaded)))
            if keep is not None and any(model.name == keep for model in models):
                self.value = keep
        return True

    def on_mount(self) -> None:
        """Follow the list's highlight (its own messages stay inside the Select)."""
        self.watch(self.query_one("SelectOverlay", OptionList), "highlighted", self._highlighted)

    def _highlighted(self, index: int | None) -> None:
        """On the last model, scroll on to the legend under it, which no key can highlight."""
        if self._choices and index == len(self._choices):  # the blank option is index 0
            overlay = self.query_one("SelectOverlay", OptionList)
            self.call_after_refresh(overlay.scroll_end, animate=False, immediate=True)

    def _add_legend(self, legend: str) -> None:
        """The marks in use explained under the models, for keyboard users (who get no tooltip).

        Disabled options after the last model: they cannot be chosen, and Select's value-to-index
        mapping, which counts from the top, is unchanged.
        """
        if not legend:
            return
        overlay = self.query_one("SelectOverlay", OptionList)
        overlay.add_option(None)
        overlay.add_options(Option(Text(line, style="dim"), disabled=True) for line in legend.splitlines())
