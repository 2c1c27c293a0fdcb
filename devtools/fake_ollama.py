"""A fake Ollama server for tests and manual runs: real HTTP on 127.0.0.1, Ollama's wire format.

It follows /work/shared/ollama-protocol.md: NDJSON streams sent as one HTTP chunk per line,
errors as a real status before the first byte and as an `{"error"}` line after it, metrics in
integer nanoseconds, tokens paced at `rate` per second against absolute deadlines.

It speaks today's Ollama (TODAY) unless given an older `version`; the behaviour that changed
between releases is gated on the release that brought it (the *_SINCE constants below).

Standalone: `python -m devtools.fake_ollama --port 11434 --rate 30 --load-delay 1.5 [--version 0.12.6]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from devtools import fake_gguf, fake_llama_server
from devtools.fake_gguf import FakeArch

# The newest Ollama release the fake follows (/work/shared/ollama-protocol.md, "Since 0.30").
TODAY = "0.33.0"
# Releases that changed what a client sees.
CLOUD_SINCE = "0.12.0"  # models served by a remote host: remote_model/remote_host fields
VRAM_DEFAULT_CTX_SINCE = "0.15.5"  # the default num_ctx follows total GPU memory
THINK_MAX_SINCE = "0.22.0"  # think: "max"
LLAMA_SERVER_SINCE = "0.30.0"  # a llama-server child process per loaded model
PROMPT_CACHE_COUNT_SINCE = "0.30.1"  # prompt_eval_count includes cached prompt tokens

GIB = 1 << 30
MIB = 1 << 20
DEFAULT_KEEP_ALIVE_S = 300.0
DEFAULT_NUM_CTX = 4096
DEFAULT_GPU_TOTAL_BYTES = 8 * GIB
# From 0.15.5 the default context by total GPU memory (server/routes.go): (at least, num_ctx).
VRAM_CONTEXT_TIERS = [(47 * GIB, 262_144), (23 * GIB, 32_768)]
CLOUD_HOST = "https://ollama.com:443"
CLOUD_LOAD_NS = 1_234_567  # the remote host's own figure: nothing loads locally
THINK_LEVELS = ("high", "medium", "low")
WARM_LOAD_NS = 12_345_678
PROMPT_EVAL_NS_PER_TOKEN = 1_000_000
# Go's time.Duration tops out at ~292 years; Ollama shows "forever" models expiring then.
FOREVER = timedelta(days=106_751)
MODIFIED_AT = "2025-09-30T18:42:07.123456789+02:00"
NOT_FOUND_TEXT = "404 page not found"
DEFAULT_ANSWER = "Hello! How can I help you today?"

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef"
_CJK_RE = re.compile(f"[{_CJK}]")
# A CJK character alone, or a run of other non-space characters with its trailing whitespace.
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+\s*|\s+")
_GO_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}

# Servers that are not Ollama, for `--host` mistakes: FakeOllama(impostor=MODE) answers every
# request with (status, content type, body). Set `impostor` back to None to be Ollama again.
NGINX_PAGE = b"<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body></body></html>\n"
IMPOSTOR_REPLIES: dict[str, tuple[int, str, bytes]] = {
    "html": (200, "text/html; charset=utf-8", NGINX_PAGE),
    "html_404": (404, "text/html", NGINX_PAGE.replace(b"Welcome to nginx!", b"404 Not Found")),
    "text_json": (200, "text/plain; charset=utf-8", b'{"models": [], "version": "1.0"}'),
    "bad_json": (200, "application/json", b'{"models": [{"name": "qwen3:8b", '),
    "wrong_shape": (200, "application/json", b'{"models": [{"name": 7, "size": "big"}], "message": "hi"}'),
}
# What a broken proxy might put in the middle of an NDJSON stream (FakeModel.garbled_after).
GARBLED_LINE = b"<html>502 Bad Gateway</html>\n"


@dataclass
class FakeModel:
    """One installed model and how it behaves when asked."""

    name: str
    family: str = "qwen3"
    parameter_size: str = "8.2B"
    quantization: str = "Q4_K_M"
    size: int = 5_225_387_923  # bytes on disk (/api/tags)
    loaded_size: int = 6_000_000_000  # memory when loaded (/api/ps)
    vram_fraction: float = 1.0  # share of loaded_size on the GPU: 0.74 shows as "26%/74% CPU/GPU"
    context_length: int = 40960
    capabilities: list[str] = field(default_factory=lambda: ["completion"])
    # None; "field" (message.thinking, v0.12.4+); "inline" (<think>...</think> in content, before
    # v0.9); "lone_close" (inline without the opening tag, which the template pre-filled).
    thinking_style: str | None = None
    thinking: str = ""
    answer: str = DEFAULT_ANSWER
    # Used instead of thinking/answer when the last user message contains CJK text.
    thinking_zh: str = ""
    answer_zh: str = ""
    load_error: str | None = None  # sent with load_error_status before any byte
    load_error_status: int = 500
    midstream_error: str | None = None  # an {"error"} line after midstream_after tokens
    midstream_after: int = 3
    end_without_done: bool = False  # the stream stops with no done line and no metrics
    stall_after: int | None = None  # send this many tokens, then nothing until the client hangs up
    garbled_after: int | None = None  # GARBLED_LINE after this many tokens, then the stream ends
    split_tags: bool = False  # "</think>" as "</thi" + "nk>"; also on when the name contains "split"
    digest: str = ""  # derived from the name when empty
    # The GGUF shape behind /api/show's architecture keys and tensor list (file type = quantization).
    arch: FakeArch | None = None
    parameters: str = ""  # the Modelfile's PARAMETER lines, as /api/show sends them
    # A cloud model (Ollama 0.12+): served by remote_host as remote_model, never loaded locally.
    remote_host: str | None = None
    remote_model: str | None = None

    def __post_init__(self) -> None:
        if not self.digest:
            self.digest = hashlib.sha256(self.name.encode()).hexdigest()

    @property
    def is_cloud(self) -> bool:
        return self.remote_host is not None

    def remote_fields(self) -> dict[str, str]:
        """remote_model and remote_host as Ollama adds them to a cloud model's replies; {} for a local one."""
        if self.remote_host is None:
            return {}
        return {"remote_model": self.remote_model or self.name, "remote_host": self.remote_host}

    @property
    def size_vram(self) -> int:
        return round(self.loaded_size * self.vram_fraction)

    @property
    def parameter_count(self) -> int:
        scale = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}.get(self.parameter_size[-1:].upper(), 1.0)
        return round(float(self.parameter_size.rstrip("KMBTkmbt")) * scale)

    def details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization,
        }

    def texts_for(self, prompt: str) -> tuple[str, str]:
        """(thinking, answer) for a prompt: the Chinese texts when the prompt has CJK text."""
        if _CJK_RE.search(prompt) and self.answer_zh:
            return self.thinking_zh, self.answer_zh
        return self.thinking, self.answer


QWEN3_THINKING = (
    "Okay, the user is greeting me. I should answer briefly, show the kind of help I can give, "
    "and keep the formatting simple so it reads well in a terminal."
)
QWEN3_ANSWER = """## Hello!

I can help with a few things:

- answering questions
- explaining code
- drafting short texts

For example, a greeting in Python:

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

What would you like to do?"""
R1_THINKING = "Alright, the user said hello. I'll respond in a friendly way and offer my help."
R1_ANSWER = "Hello! How can I assist you today? 😊"
ZH_THINKING = "用户用中文提问，想了解大语言模型。我应该用简短的中文回答，先说明它是什么，再说明它怎样工作。"
ZH_ANSWER = (
    "大语言模型是一种用海量文本训练出来的神经网络。"
    "它通过预测下一个词来生成文字。"
    "模型越大，通常能力越强，但也需要更多的内存和算力。"
    "在本地运行时，量化可以让它在普通电脑上也能使用。"
)


def default_models(*, with_cloud: bool = False) -> list[FakeModel]:
    """The model set served standalone: one model per thinking style plus the two failure modes.

    with_cloud adds cloud_models() at the end (off by default: tests and snapshots list this set).
    """
    return [*_local_models(), *(cloud_models() if with_cloud else [])]


GPT_OSS_THINKING = "The user says hi. Reply with a short, friendly greeting and offer help."
GPT_OSS_ANSWER = "Hi there! How can I help you today?"


def cloud_models() -> list[FakeModel]:
    """Models served by ollama.com (Ollama 0.12+): listed and shown locally, run remotely."""
    return [
        FakeModel(
            "gpt-oss:120b-cloud",
            family="gptoss",
            parameter_size="116.8B",
            quantization="MXFP4",
            size=384,  # the manifest only: no weights on disk
            loaded_size=0,
            context_length=131072,
            capabilities=["completion", "tools", "thinking"],
            thinking_style="field",
            thinking=GPT_OSS_THINKING,
            answer=GPT_OSS_ANSWER,
            remote_host=CLOUD_HOST,
            remote_model="gpt-oss:120b",
        )
    ]


def _local_models() -> list[FakeModel]:
    return [
        FakeModel(
            "qwen3:8b",
            capabilities=["completion", "tools", "thinking"],
            thinking_style="field",
            thinking=QWEN3_THINKING,
            answer=QWEN3_ANSWER,
            thinking_zh=ZH_THINKING,
            answer_zh=ZH_ANSWER,
            arch=fake_gguf.QWEN3_8B,
        ),
        FakeModel(
            "deepseek-r1:1.5b",
            family="qwen2",
            parameter_size="1.8B",
            size=1_117_322_599,
            loaded_size=1_900_000_000,
            context_length=131072,
            thinking_style="inline",
            thinking=R1_THINKING,
            answer=R1_ANSWER,
            thinking_zh=ZH_THINKING,
            answer_zh=ZH_ANSWER,
            arch=fake_gguf.QWEN2_1_5B,
        ),
        FakeModel(
            "deepseek-r1:7b",
            family="qwen2",
            parameter_size="7.6B",
            size=4_683_075_271,
            loaded_size=5_600_000_000,
            context_length=131072,
            thinking_style="lone_close",
            split_tags=True,
            thinking=R1_THINKING,
            answer=R1_ANSWER,
            thinking_zh=ZH_THINKING,
            answer_zh=ZH_ANSWER,
            arch=fake_gguf.QWEN2_7B,
        ),
        FakeModel(
            "llama3.2:3b",
            family="llama",
            parameter_size="3.2B",
            size=2_019_393_189,
            loaded_size=3_400_000_000,
            vram_fraction=0.74,
            context_length=131072,
            capabilities=["completion", "tools"],
            answer_zh="你好！今天我能帮你做什么？",
            arch=fake_gguf.LLAMA_3B_TIED,
        ),
        FakeModel(
            "deepseek-r1:14b",
            family="qwen2",
            parameter_size="14.8B",
            size=8_988_112_040,
            loaded_size=10_900_000_000,
            context_length=131072,
            load_error="model requires more system memory (10.2 GiB) than is available (6.0 GiB)",
            arch=fake_gguf.QWEN2_14B,
        ),
        FakeModel(
            "gemma3:1b",
            family="gemma3",
            parameter_size="999.89M",
            size=815_319_791,
            loaded_size=1_400_000_000,
            context_length=32768,
            answer="Sure! Here is a longer answer that will not get very far before the runner dies.",
            midstream_error=(
                "model runner has unexpectedly stopped, this may be due to resource limitations "
                "or an internal error, check ollama server logs for details"
            ),
            midstream_after=8,
        ),
    ]


# The fit advisor's reference set: the eleven DeepSeek-R1 distills of the sweep on a 16 GB
# Mac mini M4 (fit-estimate.md), with what `ollama ps` showed for each as loaded size and split
# (the 14b FP16 was not tried: its figures are the prediction).
_MAC_MINI_M4_RUNS = [
    # tag suffix, base, parameter size, file type, observed size, observed GPU share
    ("1.5b-qwen-distill-q4_K_M", fake_gguf.QWEN2_1_5B, "1.8B", "Q4_K_M", 1_400_000_000, 1.0),
    ("1.5b-qwen-distill-q8_0", fake_gguf.QWEN2_1_5B, "1.8B", "Q8_0", 2_100_000_000, 1.0),
    ("1.5b-qwen-distill-fp16", fake_gguf.QWEN2_1_5B, "1.8B", "F16", 3_600_000_000, 1.0),
    ("7b-qwen-distill-q4_K_M", fake_gguf.QWEN2_7B, "7.6B", "Q4_K_M", 5_100_000_000, 1.0),
    ("7b-qwen-distill-q8_0", fake_gguf.QWEN2_7B, "7.6B", "Q8_0", 8_300_000_000, 1.0),
    ("7b-qwen-distill-fp16", fake_gguf.QWEN2_7B, "7.6B", "F16", 15_200_000_000, 0.74),
    ("8b-llama-distill-q8_0", fake_gguf.LLAMA_8B, "8.0B", "Q8_0", 9_100_000_000, 1.0),
    ("8b-llama-distill-fp16", fake_gguf.LLAMA_8B, "8.0B", "F16", 16_000_000_000, 0.69),
    ("14b-qwen-distill-q4_K_M", fake_gguf.QWEN2_14B, "14.8B", "Q4_K_M", 9_900_000_000, 1.0),
    ("14b-qwen-distill-q8_0", fake_gguf.QWEN2_14B, "14.8B", "Q8_0", 16_400_000_000, 0.68),
    ("14b-qwen-distill-fp16", fake_gguf.QWEN2_14B, "14.8B", "F16", 29_500_000_000, 0.37),
]


def deepseek_r1_sweep_models() -> list[FakeModel]:
    """The eleven deepseek-r1 tags with their real tensor lists, for `ollamon fit` and its tests."""
    return [
        FakeModel(
            f"deepseek-r1:{suffix}",
            family=arch.architecture,
            parameter_size=parameters,
            quantization=file_type,
            size=fake_gguf.file_size(arch, file_type),
            loaded_size=loaded,
            vram_fraction=gpu_share,
            context_length=arch.context_length,
            capabilities=["completion", "thinking"],
            thinking_style="field",
            thinking=R1_THINKING,
            answer=R1_ANSWER,
            arch=arch,
        )
        for suffix, arch, parameters, file_type, loaded, gpu_share in _MAC_MINI_M4_RUNS
    ]


def tokenize(text: str) -> list[str]:
    """Split text into deterministic tokens that join back to the exact text."""
    return _TOKEN_RE.findall(text)


def parse_keep_alive(value: Any) -> float:
    """Seconds a model stays loaded: numbers are seconds, strings Go durations; negative is forever."""
    if value is None:
        return DEFAULT_KEEP_ALIVE_S
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_go_duration(value)
    else:
        kind = type(value).__name__
        raise ValueError(f"json: cannot unmarshal {kind} into Go value of type api.Duration")
    return math.inf if seconds < 0 else seconds


def _parse_go_duration(text: str) -> float:
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    parts = _GO_DURATION_PART.findall(body)
    if not parts or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * sum(float(number) * _GO_UNIT_S[unit] for number, unit in parts)


def go_json(obj: Any) -> bytes:
    """JSON as Go's encoding/json writes it: compact, raw UTF-8, HTML characters escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for char in "&<>\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text.encode()


def rfc3339_nano_utc() -> str:
    """Now as Go's RFC3339Nano in UTC: nanoseconds with trailing zeros trimmed, "Z" zone."""
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{nanos:09d}".rstrip("0")
    return f"{stamp}.{digits}Z" if digits else f"{stamp}Z"


def _expiry_text(expiry: float) -> str:
    """A wall-clock expiry (inf = forever) as a local RFC3339 time with offset, like /api/ps's expires_at."""
    if math.isinf(expiry):
        return (datetime.now().astimezone() + FOREVER).isoformat()
    return datetime.fromtimestamp(expiry).astimezone().isoformat()


def _prompt_eval_count(texts: list[str]) -> int:
    return sum(len(text) for text in texts) // 4 + 10


def version_key(version: str) -> tuple[int, ...]:
    """A release as a comparable tuple: "0.30.1" -> (0, 30, 1); a "v" prefix and "-rc2" suffix are ignored."""
    match = re.match(r"\d+(?:\.\d+)*", version.removeprefix("v"))
    if match is None:
        raise ValueError(f"not an Ollama version: {version!r}")
    return tuple(int(part) for part in match.group().split("."))


def think_error(think: Any, version: str) -> str | None:
    """Ollama's 400 text for a `think` value its ThinkValue refuses (api/types.go), or None if accepted."""
    levels = [*THINK_LEVELS, *(["max"] if version_key(version) >= version_key(THINK_MAX_SINCE) else [])]
    allowed = ", ".join(json.dumps(level) for level in levels) + ", true, or false"
    if think is None or isinstance(think, bool) or think in levels:
        return None
    if isinstance(think, str):
        return f"invalid think value: {json.dumps(think, ensure_ascii=False)} (must be {allowed})"
    return f"think must be a boolean or string ({allowed})"


def vram_default_context(gpu_total_bytes: int) -> int:
    """The num_ctx Ollama 0.15.5+ runs with when none is asked for, by total GPU memory."""
    return next((ctx for least, ctx in VRAM_CONTEXT_TIERS if gpu_total_bytes >= least), DEFAULT_NUM_CTX)


# Builds one stream line from (model, "thinking" or "content", text).
ChunkFn = Callable[[FakeModel, str, str], dict]


class _Aborted(Exception):
    """The client hung up or the server is stopping: stop generating at once."""


class _LoadFailed(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class FakeOllama:
    """The server. Public state for assertions (safe to read from the test thread):

    requests: every request in order, {"method", "path", "body"}; chat_requests: /api/chat bodies;
    loaded: model name -> monotonic expiry (inf = forever); disconnects: generations the client
    abandoned; finished_streams: generations written to the end; runner_pids(): the llama-server
    children. `rate` (tokens/s) and `load_delay` (seconds per cold load) may be changed while it runs.

    `version` picks the Ollama release it behaves as (default TODAY). From 0.30 it can start a real
    `llama-server` child per loaded model (`runner_processes=True`; off by default, as each one is a
    Python start-up) holding `runner_mib_per_gb` MiB of touched memory per GB of the model's
    loaded size, at most `runner_max_mib`. `gpu_total_bytes` is the GPU memory that picks the
    default context from 0.15.5.
    """

    def __init__(
        self,
        models: list[FakeModel] | None = None,
        *,
        rate: float = 1000.0,
        load_delay: float = 0.0,
        version: str = TODAY,
        port: int = 0,
        quiet: bool = True,
        nominal_stats: bool = False,
        impostor: str | None = None,
        wall_clock: Callable[[], float] = time.time,
        gpu_total_bytes: int = DEFAULT_GPU_TOTAL_BYTES,
        runner_processes: bool = False,
        runner_mib_per_gb: float = 1.0,
        runner_max_mib: float = 64.0,
    ) -> None:
        self.version = version
        served = default_models() if models is None else models
        # A server older than cloud models cannot have one installed.
        self.models = {model.name: model for model in served if self._since(CLOUD_SINCE) or not model.is_cloud}
        # Models `/api/pull` can fetch (they join `models` once pulled).
        self.pullable: dict[str, FakeModel] = {}
        self.rate = rate
        # Prompt evaluation time per prompt token (the whole chat so far is the prompt).
        self.prompt_eval_ns_per_token = PROMPT_EVAL_NS_PER_TOKEN
        self.load_delay = load_delay
        self.port = port
        self.quiet = quiet
        # Snapshot tests need stats that do not depend on the machine's timing.
        self.nominal_stats = nominal_stats
        # Off: answer /api/show without `tensors`, like an old server or a proxy in front of one.
        self.show_tensors = True
        # Off: from 0.30.1 count cached prompt tokens in prompt_eval_count but send no
        # prompt_eval_cached_count, as ollama v0.33.0-rc2's api.Metrics has no such field.
        self.report_cached_count = True
        self.gpu_total_bytes = gpu_total_bytes
        self.runner_processes = runner_processes and self._since(LLAMA_SERVER_SINCE)
        self.runner_mib_per_gb = runner_mib_per_gb
        self.runner_max_mib = runner_max_mib
        self.impostor = impostor  # a key of IMPOSTOR_REPLIES: answer as that server, not as Ollama
        # What /api/ps's expires_at counts from: snapshot tests freeze it, so the keep-alive
        # countdown on screen is exact rather than right by a margin.
        self.wall_clock = wall_clock
        # Wall-clock time (time.time()) the last line of the latest stream went out, for benches.
        self.last_stream_end: float | None = None
        self.requests: list[dict] = []
        self.chat_requests: list[dict] = []
        self.loaded: dict[str, float] = {}
        self.disconnects = 0
        self.finished_streams = 0
        self._loaded_ctx: dict[str, int] = {}
        self._runners: dict[str, fake_llama_server.LlamaServerProcess] = {}
        # model name -> the (role, content) messages its runner has evaluated, for the prompt cache
        self._prompt_cache: dict[str, list[tuple[str, str]]] = {}
        self._expires_at: dict[str, float] = {}  # model name -> wall-clock expiry, for /api/ps
        self._active: dict[str, int] = {}
        self._lock = threading.Lock()
        # One load at a time, as Ollama's scheduler does; concurrent requests wait for it.
        self._load_lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeOllama:
        self._server = _Server(("127.0.0.1", self.port), _Handler, self)
        self.port = self._server.server_address[1]
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        serve.start()
        if self.runner_processes:
            # Expiry is otherwise noticed on the next request; a runner should end on time.
            threading.Thread(target=self._reap_expired, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for name in list(self._runners):
                self._drop_runner(name)
        # Idle keep-alive connections would otherwise keep serving from their daemon threads.
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def find_model(self, name: str) -> FakeModel | None:
        """Look a model up the way Ollama does: a name without a tag means ":latest"."""
        if name in self.models or ":" in name:
            return self.models.get(name)
        return self.models.get(f"{name}:latest")

    def runner_pids(self) -> dict[str, int]:
        """Model name -> pid of its llama-server child, for the models loaded now."""
        with self._lock:
            return {name: runner.pid for name, runner in self._runners.items()}

    def default_context(self, model: FakeModel) -> int:
        """The context a model runs with when the request sets no num_ctx."""
        if not self._since(VRAM_DEFAULT_CTX_SINCE):
            return DEFAULT_NUM_CTX
        # Ollama caps the context at what the model was trained for (llm/server.go).
        return min(vram_default_context(self.gpu_total_bytes), model.context_length)

    def runner_ballast_bytes(self, model: FakeModel) -> int:
        """Memory a model's llama-server child touches: scaled down from its loaded size."""
        mib = min(model.loaded_size / 1e9 * self.runner_mib_per_gb, self.runner_max_mib)
        return max(0, round(mib * MIB))

    def _since(self, release: str) -> bool:
        """Whether the version served is `release` or newer."""
        return version_key(self.version) >= version_key(release)

    # Bookkeeping shared by the handler threads.

    def _record(self, method: str, path: str, body: Any) -> None:
        with self._lock:
            self.requests.append({"method": method, "path": path, "body": body})
            if path == "/api/chat":
                self.chat_requests.append(body)

    def _count(self, counter: str) -> None:
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)

    def _track(self, connection: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def _prune_expired(self) -> None:
        now = time.monotonic()
        for name, expiry in list(self.loaded.items()):
            if expiry <= now and not self._active.get(name):
                self._forget(name)

    def _forget(self, name: str) -> None:
        """Unload a model: its keep-alive, context, runner and prompt cache go (caller holds the lock)."""
        self.loaded.pop(name, None)
        self._loaded_ctx.pop(name, None)
        self._prompt_cache.pop(name, None)
        self._drop_runner(name)

    def _drop_runner(self, name: str) -> None:
        runner = self._runners.pop(name, None)
        if runner is not None:
            runner.stop()

    def _reap_expired(self) -> None:
        while not self._stopping.wait(0.05):
            with self._lock:
                self._prune_expired()

    def _is_warm(self, model: FakeModel, num_ctx: int) -> bool:
        with self._lock:
            self._prune_expired()
            return model.name in self.loaded and self._loaded_ctx.get(model.name) == num_ctx

    def _acquire(
        self,
        model: FakeModel,
        num_ctx: int,
        keep_alive: float,
        runner: fake_llama_server.LlamaServerProcess | None,
        cold: bool,
    ) -> None:
        with self._lock:
            if cold:
                # A (re)load starts a new runner: the old one and its cache are gone.
                self._prompt_cache.pop(model.name, None)
                self._drop_runner(model.name)
            if runner is not None:
                self._runners[model.name] = runner
            self._keep(model, keep_alive)
            self._loaded_ctx[model.name] = num_ctx
            self._active[model.name] = self._active.get(model.name, 0) + 1

    def _keep(self, model: FakeModel, keep_alive: float) -> None:
        """Start the keep-alive timer (caller holds the lock)."""
        self.loaded[model.name] = time.monotonic() + keep_alive
        self._expires_at[model.name] = self.wall_clock() + keep_alive

    def _release(self, model: FakeModel, keep_alive: float) -> None:
        """The keep-alive timer starts when a request ends; 0 unloads right away."""
        with self._lock:
            self._active[model.name] -= 1
            if model.name in self.loaded:
                self._keep(model, keep_alive)
            self._prune_expired()

    def _unload(self, model: FakeModel) -> None:
        with self._lock:
            self._forget(model.name)

    def _cached_tokens(self, model: FakeModel, messages: list[tuple[str, str]], prompt_count: int) -> int:
        """Prompt tokens the model's runner still holds: those of the messages it evaluated last time."""
        with self._lock:
            cached = self._prompt_cache.get(model.name, [])
        shared = 0
        while shared < min(len(cached), len(messages)) and cached[shared] == messages[shared]:
            shared += 1
        if shared == 0:
            return 0
        # At least the last prompt token is always evaluated again.
        return min(_prompt_eval_count([text for _, text in messages[:shared]]), prompt_count - 1)

    def _remember_prompt(self, model: FakeModel, messages: list[tuple[str, str]]) -> None:
        with self._lock:
            if model.name in self.loaded:
                self._prompt_cache[model.name] = messages

    def _running(self) -> list[dict[str, Any]]:
        with self._lock:
            self._prune_expired()
            loaded = sorted(self.loaded.items(), key=lambda item: item[1], reverse=True)
            contexts = dict(self._loaded_ctx)
            expires_at = dict(self._expires_at)
        return [
            {
                "name": name,
                "model": name,
                "size": self.models[name].loaded_size,
                "size_vram": self.models[name].size_vram,
                "digest": self.models[name].digest,
                "details": self.models[name].details(),
                "expires_at": _expiry_text(expires_at[name]),
                "context_length": contexts[name],
            }
            for name, _ in loaded
        ]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeOllama) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up is routine here; anything else is a bug worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Go's net/http (Ollama) sets TCP_NODELAY; without it the headers and body of a small reply
    # go out as two segments and the client's delayed ACK adds ~40 ms to every request.
    disable_nagle_algorithm = True
    server: _Server

    @property
    def fake(self) -> FakeOllama:
        return self.server.fake

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, True)

    def finish(self) -> None:
        self.fake._track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        if not self.fake.quiet:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # Plain responses.

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, obj: Any) -> None:
        self._send(status, go_json(obj), "application/json; charset=utf-8")

    def _send_error(self, status: int, text: str) -> None:
        self._send_json(status, {"error": text})

    # Routing.

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError as exc:
            self.fake._record(self.command, path, None)
            self._send_error(400, f"invalid JSON: {exc}")
            return
        self.fake._record(self.command, path, body)
        route = _ROUTES.get((self.command, path))
        if self.fake.impostor is not None:
            status, content_type, reply = IMPOSTOR_REPLIES[self.fake.impostor]
            self._send(status, reply, content_type)
        elif route is None:
            self._send(404, NOT_FOUND_TEXT.encode(), "text/plain")
        elif self.command == "POST" and not isinstance(body, dict):
            self._send_error(400, "missing request body")
        else:
            route(self, body)

    def _root(self, _body: Any) -> None:
        self._send(200, b"Ollama is running", "text/plain; charset=utf-8")

    def _version(self, _body: Any) -> None:
        self._send_json(200, {"version": self.fake.version})

    def _tags(self, _body: Any) -> None:
        models = [
            {
                "name": model.name,
                "model": model.name,
                **model.remote_fields(),
                "modified_at": MODIFIED_AT,
                "size": model.size,
                "digest": model.digest,
                "details": model.details(),
            }
            for model in self.fake.models.values()
        ]
        self._send_json(200, {"models": models})

    def _ps(self, _body: Any) -> None:
        self._send_json(200, {"models": self.fake._running()})

    def _show(self, body: dict) -> None:
        model = self._model_or_error(body.get("model") or body.get("name") or "")
        if model is None:
            return
        self._send_json(
            200,
            {
                "license": "",
                "modelfile": "",
                "parameters": model.parameters,
                "template": "",
                "details": model.details(),
                **model.remote_fields(),
                "model_info": self._model_info(model, verbose=body.get("verbose") is True),
                "capabilities": model.capabilities,
                "modified_at": MODIFIED_AT,
                **self._tensors(model),
            },
        )

    def _model_info(self, model: FakeModel, *, verbose: bool) -> dict[str, Any]:
        if model.is_cloud:
            # Only what the manifest says: there is no local file to read.
            return {
                "general.architecture": model.family,
                f"{model.family}.context_length": model.context_length,
            }
        if model.arch is not None:
            return fake_gguf.model_info(model.arch, model.parameter_count, verbose=verbose)
        return {
            "general.architecture": model.family,
            "general.parameter_count": model.parameter_count,
            f"{model.family}.context_length": model.context_length,
        }

    def _tensors(self, model: FakeModel) -> dict[str, Any]:
        # Ollama lists the tensors with or without verbose; only arrays in model_info need it.
        if model.arch is None or model.is_cloud or not self.fake.show_tensors:
            return {}
        return {"tensors": fake_gguf.tensors(model.arch, model.quantization)}

    def _model_or_error(self, name: str) -> FakeModel | None:
        if not name:
            self._send_error(400, "model is required")
            return None
        model = self.fake.find_model(name)
        if model is None:
            self._send_error(404, f"model '{name}' not found")
        return model

    def _pull(self, body: dict) -> None:
        """Ollama's pull stream: manifest, one layer's progress, verify, write, success; an
        unknown name is a 200 followed by an error line, as Ollama does."""
        name = body.get("model") or body.get("name") or ""
        model = self.fake.pullable.get(name)
        self._start_stream()
        try:
            self._write_chunk(go_json({"status": "pulling manifest"}) + b"\n")
            if model is None:
                self._write_chunk(go_json({"error": "pull model manifest: file does not exist"}) + b"\n")
            else:
                digest = "sha256:" + model.digest
                for part in range(5):
                    self._wait_until(time.monotonic() + 0.01)
                    line = {
                        "status": f"pulling {model.digest[:12]}",
                        "digest": digest,
                        "total": model.size,
                        "completed": model.size * part // 4,
                    }
                    self._write_chunk(go_json(line) + b"\n")
                for status in ("verifying sha256 digest", "writing manifest", "success"):
                    self._write_chunk(go_json({"status": status}) + b"\n")
                with self.fake._lock:
                    self.fake.models[model.name] = model
            self._write_chunk(b"")
        except _Aborted:
            self._abort()

    # Generation endpoints.

    def _chat(self, body: dict) -> None:
        messages = body.get("messages") or []
        user_texts = [m.get("content") or "" for m in messages if m.get("role") == "user"]
        self._serve_generation(
            body,
            prompt=user_texts[-1] if user_texts else "",
            load_only=not messages,
            prompt_messages=[(m.get("role") or "", m.get("content") or "") for m in messages],
            chunk=_chat_chunk,
            done_extra=_chat_done_extra,
        )

    def _generate(self, body: dict) -> None:
        prompt = body.get("prompt") or ""
        self._serve_generation(
            body,
            prompt=prompt,
            load_only=not prompt,
            prompt_messages=[("system", body.get("system") or ""), ("user", prompt)],
            chunk=_generate_chunk,
            done_extra=_generate_done_extra,
        )

    def _serve_generation(
        self,
        body: dict,
        *,
        prompt: str,
        load_only: bool,
        prompt_messages: list[tuple[str, str]],
        chunk: ChunkFn,
        done_extra: Callable[[str, str], dict],
    ) -> None:
        """Ollama's chat/generate handler: checks, (un)load, then the token stream."""
        started = time.monotonic_ns()
        think = body.get("think")
        # Ollama refuses a bad think value while decoding the request, before it looks the model up.
        refusal = think_error(think, self.fake.version)
        if refusal is not None:
            self._send_error(400, refusal)
            return
        model = self._model_or_error(body.get("model") or "")
        if model is None:
            return
        try:
            keep_alive = parse_keep_alive(body.get("keep_alive"))
        except ValueError as exc:
            self._send_error(400, str(exc))
            return
        if load_only and keep_alive == 0:
            self.fake._unload(model)
            self._send_json(200, _empty_done(model, chunk, "unload"))
            return
        # Only a truthy think is refused: Ollama checks `req.Think.Bool()`, so false passes.
        if think not in (None, False) and "thinking" not in model.capabilities:
            self._send_error(400, f'"{model.name}" does not support thinking')
            return
        options = body.get("options") or {}
        num_ctx = int(options.get("num_ctx") or self.fake.default_context(model))
        try:
            load_ns = self._load(model, num_ctx, keep_alive)
        except _LoadFailed as exc:
            self._send_error(exc.status, str(exc))
            return
        except _Aborted:
            self._abort()
            return
        lease = _Lease(self.fake, model, keep_alive)
        try:
            if load_only:
                lease.release()
                self._send_json(200, _empty_done(model, chunk, "load"))
                return
            tokens = _plan_tokens(model, prompt, think)
            run = _Run(model, chunk, done_extra, body.get("stream") is not False)
            prompt_count = _prompt_eval_count([text for _, text in prompt_messages])
            cached = 0
            if self.fake._since(PROMPT_CACHE_COUNT_SINCE) and not model.is_cloud:
                cached = self.fake._cached_tokens(model, prompt_messages, prompt_count)
            stats = self._generate_tokens(run, tokens, options, started, load_ns, prompt_count, cached)
            if stats is not None and not model.is_cloud:
                self.fake._remember_prompt(model, [*prompt_messages, ("assistant", run.texts["content"])])
            # Bookkeeping before the last line: a client that has seen the end also sees its effects.
            lease.release()
            self.fake._count("finished_streams")
            if model.midstream_error is not None:
                run.fail(self, model.midstream_error)
            elif model.garbled_after is not None:
                run.garble(self)
            else:
                run.end(self, stats)
            self.fake.last_stream_end = time.time()
        except _Aborted:
            self._abort()
        finally:
            lease.release()

    def _load(self, model: FakeModel, num_ctx: int, keep_alive: float) -> int:
        """Load (or reuse) the model; returns load_duration in ns. A cloud model loads nothing."""
        if model.is_cloud:
            if model.load_error is not None:
                raise _LoadFailed(model.load_error_status, model.load_error)
            return CLOUD_LOAD_NS
        with self.fake._load_lock:
            if model.load_error is not None:
                raise _LoadFailed(model.load_error_status, model.load_error)
            runner = None
            # Ollama reloads the runner when num_ctx changes.
            cold = not self.fake._is_warm(model, num_ctx)
            if not cold:
                self._wait_until(time.monotonic() + WARM_LOAD_NS / 1e9)
                load_ns = WARM_LOAD_NS
            else:
                load_started = time.monotonic_ns()
                runner = self._start_runner(model, num_ctx)
                try:
                    self._wait_until(time.monotonic() + self.fake.load_delay)
                except _Aborted:
                    if runner is not None:
                        runner.stop()
                    raise
                load_ns = time.monotonic_ns() - load_started
                if self.fake.nominal_stats:
                    load_ns = round(self.fake.load_delay * 1e9)
            self.fake._acquire(model, num_ctx, keep_alive, runner, cold)
        return load_ns

    def _start_runner(self, model: FakeModel, num_ctx: int) -> fake_llama_server.LlamaServerProcess | None:
        """The model's llama-server child (0.30+, when asked for), or None; a failed start is Ollama's 500."""
        if not self.fake.runner_processes:
            return None
        try:
            return fake_llama_server.start(model.name, num_ctx, 0, self.fake.runner_ballast_bytes(model))
        except fake_llama_server.RunnerFailed as exc:
            raise _LoadFailed(500, f"llama-server process has terminated: {exc}") from exc

    def _generate_tokens(
        self,
        run: _Run,
        tokens: list[tuple[str, str]],
        options: dict,
        started: int,
        load_ns: int,
        prompt_count: int,
        cached: int,
    ) -> dict | None:
        """Stream the tokens; returns the done line's stats, or None when the stream ends without one.

        `cached` prompt tokens come from the runner's cache: counted in prompt_eval_count, not timed.
        """
        prompt_ns = (prompt_count - cached) * self.fake.prompt_eval_ns_per_token
        self._wait_until(time.monotonic() + prompt_ns / 1e9)
        num_predict = int(options.get("num_predict") or -1)
        limited = 0 < num_predict < len(tokens)
        if limited:
            tokens = tokens[:num_predict]
        model = run.model
        if model.midstream_error is not None:
            tokens = tokens[: model.midstream_after]
        if model.garbled_after is not None:
            tokens = tokens[: model.garbled_after]
        eval_started = time.monotonic_ns()
        deadline = eval_started / 1e9
        for index, (kind, text) in enumerate(tokens):
            if model.stall_after is not None and index >= model.stall_after:
                self._wait_until(math.inf)  # a hung runner: only a hang-up or stop() ends it
            deadline += 1 / self.fake.rate
            self._wait_until(deadline)
            run.token(self, kind, text)
        if model.midstream_error is not None or model.end_without_done or model.garbled_after is not None:
            return None
        eval_count = len(tokens)
        if not limited:
            # The end-of-generation token takes a decode step and counts in eval_count.
            deadline += 1 / self.fake.rate
            self._wait_until(deadline)
            eval_count += 1
        ended = time.monotonic_ns()
        eval_ns = ended - eval_started
        total_ns = ended - started
        if self.fake.nominal_stats:
            eval_ns = round(eval_count / self.fake.rate * 1e9)
            total_ns = load_ns + prompt_ns + eval_ns
        cached_count = {"prompt_eval_cached_count": cached} if cached and self.fake.report_cached_count else {}
        return {
            "done": True,
            "done_reason": "length" if limited else "stop",
            "total_duration": total_ns,
            "load_duration": load_ns,
            "prompt_eval_count": prompt_count,
            "prompt_eval_duration": prompt_ns,
            **cached_count,
            "eval_count": eval_count,
            "eval_duration": eval_ns,
        }

    def _wait_until(self, deadline: float) -> None:
        """Sleep until `deadline`; raise _Aborted as soon as the client hangs up or the server stops."""
        while not self.fake._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._client_gone(min(remaining, 0.05)):
                raise _Aborted
        raise _Aborted

    def _client_gone(self, timeout: float) -> bool:
        """Wait up to `timeout` for the socket to show EOF or a reset."""
        readable, _, _ = select.select([self.connection], [], [], timeout)
        if not readable:
            return False
        try:
            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
        except OSError:
            return True
        time.sleep(timeout)  # a pipelined request is waiting: keep it for later, just sleep
        return False

    def _abort(self) -> None:
        self.close_connection = True
        if not self.fake._stopping.is_set():
            self.fake._count("disconnects")

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except ConnectionError as exc:
            raise _Aborted from exc


class _Lease:
    """A loaded model held by one request, released once: when its reply is complete or abandoned."""

    def __init__(self, fake: FakeOllama, model: FakeModel, keep_alive: float) -> None:
        self.fake = fake
        self.model = model
        self.keep_alive = keep_alive
        self.held = not model.is_cloud  # a cloud model is never loaded here, so there is nothing to hold

    def release(self) -> None:
        if self.held:
            self.held = False
            self.fake._release(self.model, self.keep_alive)


class _Run:
    """One generation's output: streamed line by line, or gathered into a single JSON reply."""

    def __init__(
        self,
        model: FakeModel,
        chunk: ChunkFn,
        done_extra: Callable[[str, str], dict],
        stream: bool,
    ) -> None:
        self.model = model
        self.chunk = chunk
        self.done_extra = done_extra
        self.stream = stream
        self.started = False
        self.texts = {"thinking": "", "content": ""}
        self.last: dict | None = None

    def emit(self, handler: _Handler, obj: dict) -> None:
        if not self.stream:
            self.last = obj
            return
        if not self.started:
            handler._start_stream()
            self.started = True
        handler._write_chunk(go_json(obj) + b"\n")

    def token(self, handler: _Handler, kind: str, text: str) -> None:
        self.texts[kind] += text
        self.emit(handler, self.chunk(self.model, kind, text))

    def fail(self, handler: _Handler, text: str) -> None:
        # Before the first byte an error still gets a real status, as Ollama's streamResponse does.
        if not self.started:
            handler._send_error(500, text)
            return
        handler._write_chunk(go_json({"error": text}) + b"\n")
        handler._write_chunk(b"")

    def garble(self, handler: _Handler) -> None:
        """A line that is not JSON, then the end of the stream."""
        if not self.started:
            handler._start_stream()
            self.started = True
        handler._write_chunk(GARBLED_LINE)
        handler._write_chunk(b"")

    def end(self, handler: _Handler, stats: dict | None) -> None:
        """Finish with the done line (stats) or, when stats is None, with no done line at all."""
        final = None
        if stats is not None:
            final = {**self.chunk(self.model, "content", ""), **stats}
        if self.stream:
            if final is not None:
                self.emit(handler, final)
            if not self.started:
                handler._start_stream()
            handler._write_chunk(b"")
            return
        # Non-streaming Ollama replies with the last object, carrying the whole text.
        reply = final or self.last or self.chunk(self.model, "content", "")
        handler._send_json(200, {**reply, **self.done_extra(self.texts["thinking"], self.texts["content"])})


def _plan_tokens(model: FakeModel, prompt: str, think: Any) -> list[tuple[str, str]]:
    """The (kind, text) tokens a model streams, kind being "thinking" or "content"."""
    thinking, answer = model.texts_for(prompt)
    answer_tokens = [("content", token) for token in tokenize(answer)]
    if model.thinking_style is None or not thinking or think is False:
        return answer_tokens
    if model.thinking_style == "field":
        return [("thinking", token) for token in tokenize(thinking)] + answer_tokens
    opening = ["<think>"] if model.thinking_style == "inline" else []
    closing = ["</thi", "nk>"] if model.split_tags or "split" in model.name else ["</think>"]
    inline = [*opening, *tokenize(thinking), *closing, "\n\n"]
    return [("content", token) for token in inline] + answer_tokens


def _chat_chunk(model: FakeModel, kind: str, text: str) -> dict:
    message = {"role": "assistant", "content": text if kind == "content" else ""}
    if kind == "thinking" and text:
        message["thinking"] = text
    head = {"model": model.name, **model.remote_fields()}
    return {**head, "created_at": rfc3339_nano_utc(), "message": message, "done": False}


def _chat_done_extra(thinking: str, content: str) -> dict:
    message = {"role": "assistant", "content": content}
    if thinking:
        message["thinking"] = thinking
    return {"message": message}


def _generate_chunk(model: FakeModel, kind: str, text: str) -> dict:
    response = text if kind == "content" else ""
    head = {"model": model.name, **model.remote_fields()}
    chunk = {**head, "created_at": rfc3339_nano_utc(), "response": response}
    if kind == "thinking" and text:
        chunk["thinking"] = text
    return {**chunk, "done": False}


def _generate_done_extra(thinking: str, content: str) -> dict:
    return {"response": content, **({"thinking": thinking} if thinking else {})}


def _empty_done(model: FakeModel, chunk: ChunkFn, reason: str) -> dict:
    return {**chunk(model, "content", ""), "done": True, "done_reason": reason}


_ROUTES: dict[tuple[str, str], Callable[[_Handler, Any], None]] = {
    ("GET", "/"): _Handler._root,
    ("HEAD", "/"): _Handler._root,
    ("GET", "/api/version"): _Handler._version,
    ("HEAD", "/api/version"): _Handler._version,
    ("GET", "/api/tags"): _Handler._tags,
    ("HEAD", "/api/tags"): _Handler._tags,
    ("GET", "/api/ps"): _Handler._ps,
    ("POST", "/api/show"): _Handler._show,
    ("POST", "/api/chat"): _Handler._chat,
    ("POST", "/api/generate"): _Handler._generate,
    ("POST", "/api/pull"): _Handler._pull,
}


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Ollama with the default model set.")
    parser.add_argument(
        "mode",
        nargs="?",
        choices=["serve"],
        help="ignored: run as `ollama serve` (via a symlink named ollama) to be found as Ollama",
    )
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--rate", type=float, default=30.0, help="tokens per second")
    parser.add_argument("--load-delay", type=float, default=1.5, help="seconds a cold load takes")
    parser.add_argument(
        "--deepseek-r1-sweep",
        action="store_true",
        help="serve the eleven deepseek-r1 tags of fit-estimate.md instead of the default set",
    )
    parser.add_argument(
        "--impostor",
        choices=sorted(IMPOSTOR_REPLIES),
        help="answer as a server that is not Ollama (for --host mistakes)",
    )
    parser.add_argument("--version", default=TODAY, help=f"the Ollama release to behave as (default {TODAY})")
    parser.add_argument(
        "--cloud", action="store_true", help=f"also serve a cloud model ({CLOUD_SINCE}+): gpt-oss:120b-cloud"
    )
    parser.add_argument(
        "--gpu-total-gib",
        type=float,
        default=DEFAULT_GPU_TOTAL_BYTES / GIB,
        help="total GPU memory, which picks the default context from 0.15.5 (default 8)",
    )
    parser.add_argument(
        "--runner-processes",
        action="store_true",
        help=f"start a llama-server child process per loaded model ({LLAMA_SERVER_SINCE}+)",
    )
    args = parser.parse_args()
    models = deepseek_r1_sweep_models() if args.deepseek_r1_sweep else default_models()
    if args.cloud:
        models += cloud_models()
    with FakeOllama(
        models,
        rate=args.rate,
        load_delay=args.load_delay,
        version=args.version,
        port=args.port,
        quiet=False,
        impostor=args.impostor,
        gpu_total_bytes=round(args.gpu_total_gib * GIB),
        runner_processes=args.runner_processes,
    ) as fake:
        print(f"Fake Ollama {fake.version} on {fake.url}: {', '.join(fake.models)}", flush=True)
        print("Ctrl-C stops it.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
