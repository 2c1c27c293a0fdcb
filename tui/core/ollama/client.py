"""Async access to one Ollama server on `ollama.AsyncClient`; chat comes back as typed events."""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui.core.ollama.errors import (
    ErrorKind,
    NotOllamaReply,
    classify_exception,
    classify_text,
    html_page,
    not_ollama_detail,
    not_ollama_message,
)
from tui.core.ollama.events import Done, Failure, StreamEvent, ThinkingDelta
from tui.core.ollama.models import CatalogModel, LoadedModel, ModelDetails, ModelTensors, PullProgress, TensorInfo
from tui.core.ollama.sanitize import ControlStripper
from tui.core.ollama.stats import DoneStats
from tui.core.ollama.thinktags import TagEvent, ThinkTagSplitter

if TYPE_CHECKING:
    import httpx
    import ollama

# httpx, pydantic and ollama are slow to import: they are imported on the first request, after
# the app's first paint, not when this module is.


def default_timeout() -> httpx.Timeout:
    """A cold load of a large model can take minutes before the first byte; connecting cannot."""
    import httpx

    return httpx.Timeout(connect=5.0, read=600.0, write=30.0, pool=5.0)


class OllamaError(Exception):
    """A failed non-streaming call, classified."""

    def __init__(self, kind: ErrorKind, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


@functools.cache
def _transport_errors() -> tuple[type[BaseException], ...]:
    import httpx
    import ollama

    return (ollama.ResponseError, httpx.HTTPError, ConnectionError, OSError)


# How the ollama client fails on a reply it cannot parse: bad JSON and failed pydantic
# validation are ValueErrors; JSON of the wrong type (a list, a string) ends in a TypeError
# (`cls(**part)`) or an AttributeError (`part.get`). Caught only around the client's own calls.
_REPLY_ERRORS = (NotOllamaReply, ValueError, TypeError, AttributeError)


def _classified() -> tuple[type[BaseException], ...]:
    return (*_transport_errors(), *_REPLY_ERRORS)


def _failure_from(exc: BaseException, host: str) -> tuple[ErrorKind, str, int | None]:
    import ollama

    if isinstance(exc, ollama.ResponseError):
        status = exc.status_code if exc.status_code > 0 else None
        if html_page(exc.error):
            detail = f"HTTP {exc.status_code} with a web page" if status else "a web page"
            return ErrorKind.NOT_OLLAMA, not_ollama_message(host, detail), status
        return classify_text(exc.error, status), exc.error, status
    if isinstance(exc, _REPLY_ERRORS):
        return ErrorKind.NOT_OLLAMA, not_ollama_message(host, not_ollama_detail(exc)), None
    kind = classify_exception(exc)
    if kind is ErrorKind.OTHER:
        raise exc
    detail = str(exc) or type(exc).__name__
    return kind, f"{type(exc).__name__}: {detail}", None


async def _refuse_non_json(response: httpx.Response) -> None:
    """Ollama's API answers in JSON (NDJSON when streaming): a 200 web page is someone else's."""
    content_type = response.headers.get("content-type", "")
    if response.is_success and content_type and "json" not in content_type.lower():
        raise NotOllamaReply(f"HTTP {response.status_code} with {content_type.split(';')[0]} instead of JSON")


async def _next_chunk(stream: AsyncIterator[ollama.ChatResponse]) -> ollama.ChatResponse | None:
    """The stream's next chunk, None at its end; a line that does not parse is NotOllamaReply."""
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None
    except _REPLY_ERRORS as exc:
        raise NotOllamaReply(not_ollama_detail(exc)) from exc


@functools.cache
def keep_newer_fields() -> None:
    """Make the client's replies keep the fields its models do not declare.

    ollama-python 0.6.3 (the newest release) drops unknown JSON fields, among them what servers
    from 0.30 send: `prompt_eval_cached_count` on chat chunks, `remote_model` and `remote_host` on
    chat chunks, /api/tags entries and /api/show of a cloud model. Allowing extra fields on those
    models keeps them as attributes; nothing else changes.
    """
    from ollama import ChatResponse, ListResponse, ShowResponse

    for model in (ChatResponse, ListResponse.Model, ShowResponse):
        model.model_config["extra"] = "allow"
        model.model_rebuild(force=True)
    ListResponse.model_rebuild(force=True)  # its `models` field validates with the rebuilt entry


class OllamaEngine:
    """One Ollama server. Every failure comes out as `OllamaError` or a `Failure` event."""

    def __init__(
        self,
        host: str,
        *,
        timeout: httpx.Timeout | None = None,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
        display_host: str | None = None,
    ) -> None:
        # `host` names the server on screen, in messages and in records. It is the URL connected
        # to unless `display_host` (the same machine under a stable name) is given: snapshot tests
        # serve on a free port but show a fixed URL.
        self.host = display_host or host
        self._clock = clock
        self._url, self._timeout, self._transport = host, timeout, transport
        self._wire: ollama.AsyncClient | None = None

    @property
    def _client(self) -> ollama.AsyncClient:
        """The ollama client, made (and the library imported) on the first request."""
        return self._wire or self.prepare()

    def prepare(self) -> ollama.AsyncClient:
        """The client, made now if not yet (importing the library is slow)."""
        if self._wire is None:
            import ollama

            keep_newer_fields()
            self._wire = ollama.AsyncClient(
                host=self._url,
                timeout=self._timeout or default_timeout(),
                transport=self._transport,
                event_hooks={"response": [_refuse_non_json]},
                # Plain HTTP (Ollama's default) needs no TLS: building httpx's certificate store
                # anyway delayed the first model names and cost memory. HTTPS verifies.
                verify=urlsplit(self._url).scheme == "https",
            )
        return self._wire

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._wire is not None:
            await self._wire._client.aclose()

    async def _call(self, coro_factory: Callable[[], Any]) -> Any:
        try:
            return await coro_factory()
        except _classified() as exc:
            raise OllamaError(*_failure_from(exc, self.host)) from exc

    async def version(self) -> str:
        """Server version; the Python client has no method for /api/version."""
        import httpx
        import ollama

        try:
            response = await self._client._client.get("/api/version")
            response.raise_for_status()
            reply = response.json()
            version = reply.get("version") if isinstance(reply, dict) else None
            if not isinstance(version, str):
                raise NotOllamaReply("JSON of another shape (no version in /api/version)")
            return version
        except httpx.HTTPStatusError as exc:
            raise OllamaError(
                *_failure_from(ollama.ResponseError(exc.response.text, exc.response.status_code), self.host)
            ) from exc
        except _classified() as exc:
            raise OllamaError(*_failure_from(exc, self.host)) from exc

    async def list_models(self) -> list[CatalogModel]:
        """Local models, sorted by name."""
        listing = await self._call(self._client.list)
        models = []
        for item in listing.models:
            details = item.details
            models.append(
                CatalogModel(
                    name=item.model or "",
                    size=int(item.size or 0),
                    digest=item.digest or "",
                    family=(details.family if details else "") or "",
                    parameter_size=(details.parameter_size if details else "") or "",
                    quantization=(details.quantization_level if details else "") or "",
                    remote_host=_text_field(item, "remote_host"),
                    remote_model=_text_field(item, "remote_model"),
                )
            )
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
        except _transport_errors() as exc:
            raise OllamaError(*_failure_from(exc, self.host)) from exc
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
        await self._empty_generate(name, keep_alive, options)
        return self._clock() - started

    async def pull(self, name: str) -> AsyncIterator[PullProgress]:
        """Fetch a model, yielding Ollama's progress lines; raises OllamaError on failure."""
        try:
            stream = await self._client.pull(name, stream=True)
            async for part in stream:
                yield PullProgress(part.status or "", part.digest, part.total, part.completed)
        except _transport_errors() as exc:
            raise OllamaError(*_failure_from(exc, self.host)) from exc

    async def unload(self, name: str) -> None:
        """Ask Ollama to drop the model from memory now."""
        await self._empty_generate(name, 0)

    async def _empty_generate(
        self, name: str, keep_alive: str | float | None, options: Mapping[str, Any] | None = None
    ) -> None:
        reply = await self._call(
            lambda: self._client.generate(model=name, keep_alive=keep_alive, options=dict(options) if options else None)
        )
        # Every field of the client's GenerateResponse is optional, so any JSON object passes.
        if reply.done is not True:
            error = NotOllamaReply("JSON of another shape (no done in /api/generate)")
            raise OllamaError(*_failure_from(error, self.host))

    async def chat(
        self,
        model: str,
        messages: Sequence[Mapping[str, str]],
        *,
        think: bool | str | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: str | float | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream one answer. Close the generator (or cancel its task) to stop generation."""
        stream = await self._client.chat(
            model=model,
            messages=list(messages),
            stream=True,
            think=think,
            options=dict(options) if options else None,
            keep_alive=keep_alive,
        )
        # ollama annotates the stream as an AsyncIterator; it is an async generator, whose aclose()
        # the finally below needs.
        assert isinstance(stream, AsyncGenerator)
        splitter = ThinkTagSplitter()
        thinking_clean, content_clean = ControlStripper(), ControlStripper()
        stats: DoneStats | None = None
        try:
            try:
                while (chunk := await _next_chunk(stream)) is not None:
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
            except (*_transport_errors(), NotOllamaReply) as exc:  # type: ignore[misc]
                for event in _tail(splitter, thinking_clean, content_clean):
                    yield event
                yield Failure(*_failure_from(exc, self.host))
                return
            for event in _tail(splitter, thinking_clean, content_clean):
                yield event
            yield Done(stats)
        finally:
            # Closing the client's generator closes the HTTP response, so Ollama stops generating.
            await stream.aclose()


def _text_field(reply: Any, name: str) -> str | None:
    """A string field a newer server may send beyond what the client declares; None if absent or not text."""
    value = getattr(reply, name, None)
    return value if isinstance(value, str) and value else None


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


def _tail(splitter: ThinkTagSplitter, thinking: ControlStripper, content: ControlStripper) -> list[TagEvent]:
    """Text still held back by the sanitisers and the tag splitter at the end of a stream."""
    events: list[TagEvent] = []
    if text := thinking.flush():
        events.append(ThinkingDelta(text))
    events.extend(splitter.feed(content.flush()))
    events.extend(splitter.flush())
    return events
