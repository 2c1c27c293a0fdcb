"""The fit advisor for a chat: where Ollama would put each listed model, recomputed only when
the models, what is loaded or num_ctx change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tui.core.fit.what_if import WhatIf
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.models import CatalogModel, LoadedModel

if TYPE_CHECKING:
    from tui.core.fit.check import PastLoad
    from tui.core.fit.estimate import Fit
    from tui.core.fit.inputs import Machine, ModelFacts, Request


class Predictions:
    """The latest prediction per listed model, and why there is none (`problem`)."""

    def __init__(self, machine: WhatIf | None, past_loads: Callable[[], list[PastLoad]] | None = None) -> None:
        """`machine` describes the server's machine (empty: measure it when Ollama runs here);
        None turns the advisor off. `past_loads` gives this host's stored loads (read off the
        event loop, once): from Ollama 0.30 they correct the free-memory margin of a measured machine."""
        self.by_model: dict[str, Fit] = {}
        self.problem: str | None = None
        self._what_if = machine
        self._past_loads = past_loads
        self._machine: Machine | None = None
        self._request: Request | None = None
        self._facts: dict[tuple[str, str], ModelFacts] = {}
        self._inputs: tuple[object, ...] | None = None

    async def refresh(
        self, engine: OllamaEngine, models: list[CatalogModel], running: list[LoadedModel], num_ctx: int | None
    ) -> dict[str, Fit]:
        """Predict again if anything they depend on changed.

        The machine is read once; each model's tensors are fetched once. A machine that cannot
        be known (a remote host) leaves them empty and says why in `problem`; a server that stops
        answering keeps the last ones. Never raises OllamaError.
        """
        if self._what_if is None:
            return self.by_model
        # The advisor loads with its first prediction, after the first screen.
        from tui.core.fit.estimate import predict
        from tui.core.fit.gather import MachineUnknown, model_facts, read_machine, server_request

        inputs = (
            tuple((m.name, m.digest, m.size) for m in models),
            tuple((m.name, m.size, m.size_vram) for m in running),
            num_ctx,
        )
        if inputs == self._inputs:
            return self.by_model
        try:
            if self._machine is None:
                machine = await read_machine(engine, self._what_if)
                if self._past_loads is not None and not self._what_if.describes_machine:
                    from tui.core.fit.check import corrected

                    machine = corrected(machine, await asyncio.to_thread(self._past_loads))
                self._machine = machine
                # Host name resolution can be slow: off the event loop.
                self._request = await asyncio.to_thread(server_request, engine)
        except MachineUnknown as exc:
            self._what_if, self.problem = None, str(exc)  # asking again would not help
            return self.by_model
        except OllamaError as exc:
            self.problem = exc.message
            return self.by_model
        assert self._request is not None
        request = self._request.with_num_ctx(num_ctx, "chat settings")
        machine = replace(self._machine, loaded=tuple(running))
        predictions, problem = {}, None
        for model in models:
            if model.cloud:
                continue  # runs on its remote host: nothing to place here
            try:
                facts = await model_facts(engine, model, self._facts)
            except OllamaError as exc:
                problem = f"{model.name}: {exc.message}"
                continue
            predictions[model.name] = predict(facts, request, machine)
        self.by_model, self.problem = predictions, problem
        # A model that could not be asked is asked again on the next refresh.
        self._inputs = inputs if problem is None else None
        return predictions

    def as_recorded(self, name: str) -> dict[str, Any] | None:
        """The latest prediction for `name` as a record keeps it (`load.predicted`)."""
        fit = self.by_model.get(name)
        return fit.to_json() if fit is not None else None
