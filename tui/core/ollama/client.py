"""Async access to one Ollama server on `ollama.AsyncClient`; chat comes back as typed events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import httpx
import ollama

from tui.core.ollama.errors import ErrorKind, classify_exception, classify_text
from tui.core.ollama.events import Done, Failure, StreamEvent, ThinkingDelta
from tui.core.ollama.models import LoadedModel, ModelDetails, ModelInfo, ModelTensors, PullProgress, TensorInfo
from tui.core.ollama.sanitize import ControlStripper
from tui.core.ollama.stats import DoneStats
from tui.core.ollama.thinktags import ThinkTagSplitter

# A cold load of a large model can take minutes before the first byte; connecting cannot.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=600.0, write=30.0, pool=5.0)


class OllamaError(Exception):
    """A failed non-streaming call, classified."""

    def __init__(self, kind: ErrorKind, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


def _failure_from(exc: BaseException) -> tuple[ErrorKind, str, int | None]:
    if isinstance(exc, ollama.ResponseError):
        status = exc.status_code if exc.status_code > 0 else None
        return classify_text(exc.error, status), exc.error, status
    kind = classify_exception(exc)
    if kind is ErrorKind.OTHER:
        raise exc
    detail = str(exc) or type(exc).__name__
    return kind, f"{type(exc).__name__}: {detail}", None


_TRANSPORT_ERRORS = (ollama.ResponseError, httpx.HTTPError, ConnectionError, OSError)


class OllamaEngine:
    """One Ollama server. Every failure comes out as `OllamaError` or a `Failure` event."""

    def __init__(
        self,
        host: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self._clock = clock
        self._client = ollama.AsyncClient(host=host, timeout=timeout)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client._client.aclose()

    async def _call(self, coro_factory: Callable[[], Any]) -> Any:
        try:
            return await coro_factory()
        except _TRANSPORT_ERRORS as exc:
            raise OllamaError(*_failure_from(exc)) from exc

    async def version(self) -> str:
        """Server version; the Python client has no method for /api/version."""
        try:
            response = await self._client._client.get("/api/version")
            response.raise_for_status()
            return str(response.json().get("version", ""))
        except httpx.HTTPStatusError as exc:
            raise OllamaError(ErrorKind.OTHER, exc.response.text, exc.response.status_code) from exc
        except _TRANSPORT_ERRORS as exc:
            raise OllamaError(*_failure_from(exc)) from exc

    async def list_models(self) -> list[ModelInfo]:
        """Local models, sorted by name."""
        listing = await self._call(self._client.list)
        models = []
        for item in listing.models:
            details = item.details
            models.append(ModelInfo(
                name=item.model or "",
                size=int(item.size or 0),
                digest=item.digest or "",
                family=(details.family if details else "") or "",
                parameter_size=(details.parameter_size if details else "") or "",
                quantization=(details.quantization_level if details else "") or "",
            ))
        return sorted(models, key=lambda model: model.name)

    async def show(self, name: str) -> ModelDetails:
        """Capabilities and context length of one model."""
        shown = await self._call(lambda: self._client.show(name))
        info: Mapping[str, Any] = shown.modelinfo or {}
        arch = info.get("general.architecture", "")
        context = info.get(f"{arch}.context_length")
        details = shown.details
        return ModelDetails(
            name=name,
            capabilities=tuple(shown.capabilities or ()),
            context_length=int(context) if context else None,
            family=(details.family if details else "") or "",
            parameter_size=(details.parameter_size if details else "") or "",
            quantization=(details.quantization_level if details else "") or "",
        )

    async def show_tensors(self, name: str) -> ModelTensors:
        """/api/show with `verbose`: architecture keys and the tensor list, for a memory estimate.

        The Python client cannot ask for verbose, and its model would carry the whole tokenizer.
        """
        try:
            response = await self._client._client.post("/api/show", json={"model": name, "verbose": True})
        except _TRANSPORT_ERRORS as exc:
            raise OllamaError(*_failure_from(exc)) from exc
        try:
            shown = response.json()
        except ValueError:
            shown = None
        if response.is_error or not isinstance(shown, dict):
            text = str(shown.get("error") or "") if isinstance(shown, dict) else ""
            text = text or response.text or f"HTTP {response.status_code}"
            raise OllamaError(classify_text(text, response.status_code), text, response.status_code)
        return _model_tensors(name, shown)

    async def ps(self) -> list[LoadedModel]:
        """Models now in memory."""
        running = await self._call(self._client.ps)
        return [
            LoadedModel(
                name=item.model or item.name or "",
                size=int(item.size or 0),
                size_vram=int(item.size_vram or 0),
                expires_at=item.expires_at,
                context_length=item.context_length,
            )
            for item in running.models
        ]

    async def load(
        self, name: str, keep_alive: str | float | None = None, options: Mapping[str, Any] | None = None
    ) -> float:
        """Load a model with an empty generate; returns the wall time it took in seconds.

        The chat's options go along: a num_ctx that differs from the load would reload the model
        on the first prompt.
        """
        started = self._clock()
        await self._call(lambda: self._client.generate(
            model=name, keep_alive=keep_alive, options=dict(options) if options else None))
        return self._clock() - started

    async def pull(self, name: str) -> AsyncIterator[PullProgress]:
        """Fetch a model, yielding Ollama's progress lines; raises OllamaError on failure."""
        try:
            stream = await self._client.pull(name, stream=True)
            async for part in stream:
                yield PullProgress(part.status or "", part.digest, part.total, part.completed)
        except _TRANSPORT_ERRORS as exc:
            raise OllamaError(*_failure_from(exc)) from exc

    async def unload(self, name: str) -> None:
        """Ask Ollama to drop the model from memory now."""
        await self._call(lambda: self._client.generate(model=name, keep_alive=0))

    async def chat(
        self,
        model: str,
        messages: Sequence[Mapping[str, str]],
        *,
        think: bool | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: str | float | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream one answer. Close the generator (or cancel its task) to stop generation."""
        stream = await self._client.chat(
            model=model,
            messages=list(messages),
            stream=True,
            think=think,
            options=dict(options) if options else None,
            keep_alive=keep_alive,
        )
        splitter = ThinkTagSplitter()
        thinking_clean, content_clean = ControlStripper(), ControlStripper()
        stats: DoneStats | None = None
        try:
            try:
                async for chunk in stream:
                    message = chunk.message
                    if message.thinking:
                        text = thinking_clean.feed(message.thinking)
                        if text:
                            yield ThinkingDelta(text)
                    if message.content:
                        for event in splitter.feed(content_clean.feed(message.content)):
                            yield event
                    if chunk.done:
                        stats = DoneStats.from_chunk(chunk)
            except _TRANSPORT_ERRORS as exc:
                for event in _tail(splitter, thinking_clean, content_clean):
                    yield event
                yield Failure(*_failure_from(exc))
                return
            for event in _tail(splitter, thinking_clean, content_clean):
                yield event
            yield Done(stats)
        finally:
            # Closing the client's generator closes the HTTP response, so Ollama stops generating.
            await stream.aclose()


def _model_tensors(name: str, shown: Mapping[str, Any]) -> ModelTensors:
    info = shown.get("model_info") or {}
    keys: dict[str, Any] = {}
    for key, value in info.items():
        if isinstance(value, list):
            if value and all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in value):
                keys[key] = tuple(value)
        elif isinstance(value, (int, float, str, bool)):
            keys[key] = value
    tokens = info.get("tokenizer.ggml.tokens")
    tensors = tuple(
        TensorInfo(str(item.get("name", "")), str(item.get("type", "")), tuple(int(n) for n in item.get("shape") or ()))
        for item in shown.get("tensors") or ()
        if isinstance(item, dict)
    )
    return ModelTensors(
        name=name,
        architecture=str(info.get("general.architecture") or ""),
        keys=keys,
        # Without verbose (or from an old server) the array arrives empty: length unknown.
        token_count=len(tokens) if isinstance(tokens, list) and tokens else None,
        tensors=tensors,
        num_ctx=_modelfile_num_ctx(str(shown.get("parameters") or "")),
    )


def _modelfile_num_ctx(parameters: str) -> int | None:
    """`num_ctx   8192` among the PARAMETER lines /api/show sends as one text."""
    for line in parameters.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "num_ctx" and fields[1].isdigit():
            return int(fields[1])
    return None


def _tail(
    splitter: ThinkTagSplitter, thinking: ControlStripper, content: ControlStripper
) -> list[StreamEvent]:
    """Text still held back by the sanitisers and the tag splitter at the end of a stream."""
    events: list[StreamEvent] = []
    if text := thinking.flush():
        events.append(ThinkingDelta(text))
    events.extend(splitter.feed(content.flush()))
    events.extend(splitter.flush())
    return events
