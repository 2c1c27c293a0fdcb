"""One benchmark record per chat turn, as defined in record-schema.md, and its derived figures."""

from __future__ import annotations

import functools
import platform
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from tui import __version__
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.stats import prompt_evaluated
from tui.core.ollama.stats import rate as tokens_per_s
from tui.core.records.status import Status

# Bump on any incompatible change to the JSON form (it is a public interface).
SCHEMA_VERSION = 1


def utc_now() -> str:
    """The current time as ISO 8601 UTC with milliseconds; fixed width, so strings sort by time."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id() -> str:
    """A fresh random identifier for a record or session."""
    return uuid.uuid4().hex


@dataclass
class AppInfo:
    version: str | None = __version__
    python: str | None = platform.python_version()


@dataclass
class GpuInfo:
    name: str | None = None
    vram_bytes: int | None = None


@dataclass
class HostInfo:
    hostname: str | None = None
    os: str | None = None
    kernel: str | None = None
    arch: str | None = None
    machine_model: str | None = None
    chip: str | None = None
    cpu_cores: int | None = None
    ram_bytes: int | None = None
    gpu: GpuInfo | None = None
    # The machine's random id (hostid.py), made once: host names repeat and change, this does not.
    host_id: str | None = None


@dataclass
class EngineInfo:
    name: str = "ollama"
    version: str | None = None
    host_url: str | None = None
    remote: bool = False


@dataclass
class ModelInfo:
    name: str | None = None
    digest: str | None = None
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    file_size_bytes: int | None = None
    context_length: int | None = None
    capabilities: list[str] = field(default_factory=list)
    # A cloud model: the host that computed the answer and its name there (null: ran here).
    remote_host: str | None = None
    remote_model: str | None = None


@dataclass
class RequestInfo:
    prompt_chars: int | None = None
    history_messages: int | None = None
    think: bool | str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    keep_alive: int | float | str | None = None
    # The chat's system prompt; with content off only its SHA-256, so runs stay comparable.
    system_prompt: str | None = None
    system_prompt_sha256: str | None = None


@dataclass
class LoadInfo:
    cold: bool | None = None
    load_ms: float | None = None
    # Ollama's own load_duration for the turn, beside an explicit load's wall time.
    ollama_load_ms: float | None = None
    ps_size_bytes: int | None = None
    ps_vram_bytes: int | None = None
    processor: str | None = None
    # The context length the model ran with (/api/ps `context_length`): Ollama's default depends
    # on the version and, from 0.15.5, on the GPU's memory, so num_ctx alone does not say.
    context_length: int | None = None
    # The fit advisor's prediction before the load (`Fit.to_json()`), beside what /api/ps showed.
    predicted: dict[str, Any] | None = None


@dataclass
class TimingMs:
    """Durations in milliseconds; `thinking` is None (not 0) for a model that did not think."""

    ttft: float | None = None
    thinking: float | None = None
    answer: float | None = None
    total_wall: float | None = None
    load: float | None = None
    prompt_eval: float | None = None
    eval: float | None = None
    total_server: float | None = None


@dataclass
class Counts:
    """Token and character counts; `estimated` when they come from the client's tally."""

    prompt_tokens: int | None = None
    # Of prompt_tokens, those the server took from its prompt cache (null: it did not say).
    prompt_cached_tokens: int | None = None
    eval_tokens: int | None = None
    thinking_chars: int | None = None
    answer_chars: int | None = None
    done_reason: str | None = None
    estimated: bool = False


@dataclass
class Rates:
    eval_tok_s: float | None = None
    prompt_tok_s: float | None = None
    chars_s: float | None = None
    answer_chars_s: float | None = None


@dataclass
class Resources:
    interval_ms: float | None = None
    ollama_rss_peak_bytes: int | None = None
    mem_used_start_bytes: int | None = None
    mem_used_peak_bytes: int | None = None
    swap_used_start_bytes: int | None = None
    swap_used_peak_bytes: int | None = None
    cpu_pct_mean: float | None = None
    gpu_util_pct_mean: float | None = None


@dataclass
class Power:
    """Energy figures; with `source` None every figure is None and `why` says what is missing."""

    source: str | None = None
    scope: str | None = None
    baseline_w: float | None = None
    mean_w: float | None = None
    peak_w: float | None = None
    net_mean_w: float | None = None
    energy_j: float | None = None
    net_energy_j: float | None = None
    j_per_token: float | None = None
    tokens_per_j: float | None = None
    gross_j_per_token: float | None = None
    why: str | None = "not measured"

    @classmethod
    def unavailable(cls, why: str) -> Power:
        """No power figures, and the reason the app shows as "n/a — <why>"."""
        return cls(why=why)


class Sample(NamedTuple):
    """One sampler reading during the turn; a JSON array in the record."""

    t_ms: float
    mem_used: int | None
    swap_used: int | None
    ollama_rss: int | None
    watts: float | None


@dataclass
class Record:
    """A chat turn and everything measured about it (record-schema.md)."""

    schema_version: int = SCHEMA_VERSION
    record_id: str = field(default_factory=new_id)
    session_id: str | None = None
    turn_index: int | None = None
    sweep_id: str | None = None
    repetition: int | None = None
    warmup: bool = False
    started_at: str = field(default_factory=utc_now)
    ended_at: str | None = None
    status: Status = Status.RUNNING
    error: str | None = None
    error_kind: ErrorKind | None = None
    app: AppInfo = field(default_factory=AppInfo)
    host: HostInfo = field(default_factory=HostInfo)
    engine: EngineInfo = field(default_factory=EngineInfo)
    model: ModelInfo = field(default_factory=ModelInfo)
    request: RequestInfo = field(default_factory=RequestInfo)
    load: LoadInfo = field(default_factory=LoadInfo)
    timing_ms: TimingMs = field(default_factory=TimingMs)
    counts: Counts = field(default_factory=Counts)
    rates: Rates = field(default_factory=Rates)
    resources: Resources = field(default_factory=Resources)
    power: Power = field(default_factory=Power)
    samples: list[Sample] = field(default_factory=list)
    prompt: str | None = None
    thinking: str | None = None
    answer: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The public JSON form: plain dicts, lists, strings and numbers."""
        doc: dict[str, Any] = _plain(self)
        doc["status"] = self.status.value
        doc["error_kind"] = self.error_kind.value if self.error_kind else None
        return doc

    @classmethod
    def from_json_dict(cls, doc: dict[str, Any]) -> Record:
        """Inverse of to_json_dict; unknown keys (from newer versions) are ignored, missing ones default."""
        kwargs = _known(cls, doc)
        for name, sub in _SECTIONS.items():
            if isinstance(doc.get(name), dict):
                kwargs[name] = sub(**_known(sub, doc[name]))
        host = kwargs.get("host")
        if host is not None and isinstance(host.gpu, dict):
            host.gpu = GpuInfo(**_known(GpuInfo, host.gpu))
        kwargs["status"] = Status(doc.get("status", Status.RUNNING.value))
        kwargs["error_kind"] = ErrorKind(doc["error_kind"]) if doc.get("error_kind") else None
        # A newer ollamon may append columns to a sample: read the ones this version knows.
        width = len(Sample._fields)
        kwargs["samples"] = [
            Sample._make(s) if len(s) == width else Sample(*s[:width], *[None] * (width - len(s[:width])))
            for s in doc.get("samples") or []
        ]
        return cls(**kwargs)


_SECTIONS: dict[str, type] = {
    "app": AppInfo,
    "host": HostInfo,
    "engine": EngineInfo,
    "model": ModelInfo,
    "request": RequestInfo,
    "load": LoadInfo,
    "timing_ms": TimingMs,
    "counts": Counts,
    "rates": Rates,
    "resources": Resources,
    "power": Power,
}


def _plain(value: Any) -> Any:
    """asdict's result, several times faster (an export writes every record through this): a
    record's values are JSON-like, so only containers are copied, and samples become lists."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _names(type(value))}
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _known(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    names = _names(cls)
    return {k: v for k, v in doc.items() if k in names}


# --- derived figures -------------------------------------------------------


def chars_per_s(
    thinking_chars: int | None,
    answer_chars: int | None,
    thinking_ms: float | None,
    answer_ms: float | None,
) -> float | None:
    """(thinking + answer characters) / (thinking + answer seconds).

    None, never 0, when no character came or no time passed: as the live timers show it.
    """
    seconds = ((thinking_ms or 0.0) + (answer_ms or 0.0)) / 1000
    chars = (thinking_chars or 0) + (answer_chars or 0)
    return chars / seconds if seconds > 0 and chars else None


def compute_rates(counts: Counts, timing: TimingMs) -> Rates:
    """All rates of a turn from its counts and timings.

    Without the server's eval duration (no final chunk) an estimated count is divided by the
    client's thinking + answer time instead.
    """
    eval_ms = timing.eval
    if eval_ms is None and counts.estimated and (timing.thinking or timing.answer):
        eval_ms = (timing.thinking or 0.0) + (timing.answer or 0.0)
    return Rates(
        eval_tok_s=tokens_per_s(counts.eval_tokens, _ms_to_ns(eval_ms)),
        prompt_tok_s=tokens_per_s(
            prompt_evaluated(counts.prompt_tokens, counts.prompt_cached_tokens), _ms_to_ns(timing.prompt_eval)
        ),
        chars_s=chars_per_s(counts.thinking_chars, counts.answer_chars, timing.thinking, timing.answer),
        answer_chars_s=chars_per_s(None, counts.answer_chars, None, timing.answer),
    )


def _ms_to_ns(ms: float | None) -> float | None:
    return None if ms is None else ms * 1e6


def chat_messages(turns: Iterable[Record]) -> list[dict[str, str]]:
    """The messages to resend when a chat is reopened: each turn that kept a prompt and an answer."""
    messages: list[dict[str, str]] = []
    for turn in turns:
        if turn.prompt is not None and turn.answer:
            messages.append({"role": "user", "content": turn.prompt})
            messages.append({"role": "assistant", "content": turn.answer})
    return messages
