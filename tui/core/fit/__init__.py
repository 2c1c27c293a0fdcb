"""The fit advisor: predict, before loading, where Ollama will place a model and what happens then.

`predict(model, request, machine)` is pure; `gather.fit_models` collects its inputs from an
`OllamaEngine` (and this machine, when Ollama runs here) and predicts each model.
"""

from tui.core.fit.estimate import Accuracy, Fit, Verdict, predict
from tui.core.fit.inputs import Fact, GpuKind, Machine, ModelFacts, Request

__all__ = ["Accuracy", "Fact", "Fit", "GpuKind", "Machine", "ModelFacts", "Request", "Verdict", "predict"]
