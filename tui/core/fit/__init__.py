"""The fit advisor: predict, before loading, where Ollama will place a model and what happens then.

`estimate.predict(model, request, machine)` is pure; `gather.fit_report` collects its inputs from
an `OllamaEngine` (and this machine, when Ollama runs here) and predicts each model. The chat
imports only `verdict` and `what_if` before its first screen; the rest loads with the first
prediction.
"""
