"""The fake Ollama server, checked with the real ollama client, httpx and a raw socket."""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import ollama
import psutil
import pytest

from devtools.fake_ollama import (
    CLOUD_HOST,
    CLOUD_LOAD_NS,
    GIB,
    PROMPT_EVAL_NS_PER_TOKEN,
    TODAY,
    WARM_LOAD_NS,
    FakeModel,
    FakeOllama,
    cloud_models,
    default_models,
    parse_keep_alive,
    tokenize,
    version_key,
    vram_default_context,
)

HI = [{"role": "user", "content": "Hi"}]
ServeFn = Callable[..., FakeOllama]


@pytest.fixture
def serve() -> Iterator[ServeFn]:
    """Start fake servers with custom models or settings; all are stopped after the test."""
    servers: list[FakeOllama] = []

    def start(models: list[FakeModel] | None = None, **settings: Any) -> FakeOllama:
        fake = FakeOllama(models, **settings).start()
        servers.append(fake)
        return fake

    yield start
    for fake in servers:
        fake.stop()


@pytest.fixture
def fake(serve: ServeFn) -> FakeOllama:
    return serve()


def model_by_name(name: str) -> FakeModel:
    return next(model for model in default_models() if model.name == name)


async def collect(stream: AsyncIterator[ollama.ChatResponse]) -> list[ollama.ChatResponse]:
    return [chunk async for chunk in stream]


async def chat_chunks(
    fake: FakeOllama, model: str, messages: list[dict] = HI, **kwargs: Any
) -> list[ollama.ChatResponse]:
    client = ollama.AsyncClient(host=fake.url)
    try:
        return await collect(await client.chat(model, messages, stream=True, **kwargs))
    finally:
        await client.close()


def joined(chunks: list[ollama.ChatResponse], attr: str = "content") -> str:
    return "".join(getattr(chunk.message, attr) or "" for chunk in chunks)


async def wait_for(condition: Callable[[], bool], timeout: float = 1.0) -> float:
    """Seconds until `condition` held; fails the test after `timeout`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "condition not met in time"
        await asyncio.sleep(0.005)
    return time.monotonic() - start


# Plain endpoints.


def test_root_version_head_and_unknown_path(fake: FakeOllama) -> None:
    """The root, HEAD and /api/version answer as Ollama does, and an unknown path is Go's plain 404."""
    assert httpx.get(fake.url).text == "Ollama is running"
    assert httpx.head(fake.url).status_code == 200
    assert httpx.get(f"{fake.url}/api/version").json() == {"version": TODAY}
    missing = httpx.get(f"{fake.url}/api/nothing")
    assert (missing.status_code, missing.text) == (404, "404 page not found")
    assert missing.headers["content-type"].startswith("text/plain")


def test_list_shows_models_with_details(fake: FakeOllama) -> None:
    """/api/tags lists the models with Ollama's details: family, size, quantization, digest, format."""
    models = {model.model: model for model in ollama.Client(host=fake.url).list().models}
    assert {"qwen3:8b", "deepseek-r1:1.5b", "llama3.2:3b", "deepseek-r1:14b"} <= set(models)
    r1 = models["deepseek-r1:1.5b"]
    details = r1.details
    assert details is not None and r1.digest is not None
    assert (details.family, details.parameter_size, details.quantization_level) == ("qwen2", "1.8B", "Q4_K_M")
    assert details.families == ["qwen2"] and details.format == "gguf"
    assert r1.size == 1_117_322_599 and len(r1.digest) == 64 and r1.modified_at is not None


def test_show_capabilities_and_context_length(fake: FakeOllama) -> None:
    """/api/show gives capabilities and context length, and a 404 with Ollama's message for an unknown model."""
    client = ollama.Client(host=fake.url)
    shown = client.show("qwen3:8b")
    assert shown.modelinfo is not None
    assert shown.capabilities == ["completion", "tools", "thinking"]
    assert shown.modelinfo["qwen3.context_length"] == 40960
    assert shown.modelinfo["general.parameter_count"] == 8_200_000_000
    assert client.show("deepseek-r1:1.5b").capabilities == ["completion"]
    with pytest.raises(ollama.ResponseError) as caught:
        client.show("nope:1b")
    assert (caught.value.status_code, caught.value.error) == (404, "model 'nope:1b' not found")


# Streaming chat and the thinking styles.


async def test_field_thinking_streams_thinking_then_content_then_stats(fake: FakeOllama) -> None:
    """A thinking model streams thinking, then content, then one final chunk with consistent durations."""
    chunks = await chat_chunks(fake, "qwen3:8b")
    *tokens, final = chunks
    kinds = ["thinking" if chunk.message.thinking else "content" for chunk in tokens]
    assert kinds == sorted(kinds, reverse=True) and kinds[0] == "thinking" and kinds[-1] == "content"
    assert joined(tokens, "thinking") == model_by_name("qwen3:8b").thinking
    answer = joined(tokens)
    assert "## Hello!" in answer and "- explaining code" in answer and "```python" in answer
    assert not any(chunk.done for chunk in tokens)
    assert all((chunk.created_at or "").endswith("Z") for chunk in chunks)
    assert final.done and final.done_reason == "stop" and final.message.content == ""
    assert final.eval_count == len(tokens) + 1
    durations = [final.total_duration, final.load_duration, final.prompt_eval_duration, final.eval_duration]
    assert all(isinstance(value, int) and value > 0 for value in durations)
    assert final.total_duration is not None and final.load_duration is not None
    assert final.prompt_eval_duration is not None and final.eval_duration is not None
    assert final.total_duration >= final.load_duration + final.prompt_eval_duration + final.eval_duration


async def test_think_false_suppresses_thinking(fake: FakeOllama) -> None:
    """think=False sends no thinking, only the answer, and the request records the flag."""
    chunks = await chat_chunks(fake, "qwen3:8b", think=False)
    assert joined(chunks, "thinking") == "" and joined(chunks).startswith("## Hello!")
    assert fake.chat_requests[-1]["think"] is False


@pytest.mark.parametrize(
    ("style", "split", "starts", "closing_chunks"),
    [
        ("inline", False, "<think>", ["</think>"]),
        ("lone_close", False, "Alright", ["</think>"]),
        ("lone_close", True, "Alright", ["</thi", "nk>"]),
    ],
)
async def test_inline_styles_put_tags_in_content(
    serve: ServeFn, style: str, split: bool, starts: str, closing_chunks: list[str]
) -> None:
    """Inline thinking styles put the tags in the content, split across chunks when asked, before the answer."""
    model = FakeModel("r1:test", thinking_style=style, split_tags=split, thinking="Alright, hello.", answer="Hi there!")
    chunks = await chat_chunks(serve([model]), model.name)
    assert all(chunk.message.content is not None for chunk in chunks)
    contents = [chunk.message.content or "" for chunk in chunks]
    assert "".join(contents).startswith(starts) and "".join(contents).endswith("</think>\n\nHi there!")
    assert joined(chunks, "thinking") == ""
    close_at = contents.index(closing_chunks[0])
    assert contents[close_at : close_at + len(closing_chunks) + 1] == [*closing_chunks, "\n\n"]


async def test_chinese_prompt_gets_chinese_answer(fake: FakeOllama) -> None:
    """A Chinese prompt gets a Chinese answer and thinking, one token per CJK character."""
    question = [{"role": "user", "content": "什么是大语言模型？"}]
    chunks = await chat_chunks(fake, "qwen3:8b", question)
    assert "大语言模型" in joined(chunks) and "中文" in joined(chunks, "thinking")
    # One token per CJK character.
    assert all(len(chunk.message.content) == 1 for chunk in chunks[:-1] if chunk.message.content)


def test_tokenize_round_trips_and_splits_cjk() -> None:
    """tokenize joins back to the text it split, and splits CJK one character a token."""
    for model in default_models():
        for text in (model.thinking, model.answer, model.answer_zh):
            assert "".join(tokenize(text)) == text
    assert tokenize("Hi, you!\n\n你好。") == ["Hi, ", "you!\n\n", "你", "好", "。"]


async def test_num_predict_stops_with_length(fake: FakeOllama) -> None:
    """num_predict stops the answer after that many tokens with done_reason "length"."""
    *tokens, final = await chat_chunks(fake, "llama3.2:3b", options={"num_predict": 3})
    assert len(tokens) == 3 and final.done_reason == "length" and final.eval_count == 3


def test_non_streaming_chat_returns_whole_message(fake: FakeOllama) -> None:
    """A chat without streaming returns the whole thinking and answer with the eval count."""
    reply = ollama.Client(host=fake.url).chat("qwen3:8b", HI, stream=False)
    model = model_by_name("qwen3:8b")
    assert (reply.message.thinking, reply.message.content) == (model.thinking, model.answer)
    assert reply.done
    assert reply.eval_count == len(tokenize(model.thinking)) + len(tokenize(model.answer)) + 1


# Errors.


async def test_think_on_model_without_thinking_is_400(fake: FakeOllama) -> None:
    """think=True on a model without thinking is Ollama's 400; think=False is accepted."""
    with pytest.raises(ollama.ResponseError) as caught:
        await chat_chunks(fake, "llama3.2:3b", think=True)
    refusal = (caught.value.status_code, caught.value.error)
    assert refusal == (400, '"llama3.2:3b" does not support thinking')
    # Ollama checks the flag's truth, so think=False passes.
    assert (await chat_chunks(fake, "llama3.2:3b", think=False))[-1].done


async def test_unknown_model_is_404(fake: FakeOllama) -> None:
    """Chat with an unknown model is a 404 with Ollama's message."""
    with pytest.raises(ollama.ResponseError) as caught:
        await chat_chunks(fake, "nope:1b")
    assert (caught.value.status_code, caught.value.error) == (404, "model 'nope:1b' not found")


async def test_load_error_comes_before_any_chunk(fake: FakeOllama) -> None:
    """A model that fails to load errors (500) before any chunk and is not left loaded."""
    client = ollama.AsyncClient(host=fake.url)
    stream = await client.chat("deepseek-r1:14b", HI, stream=True)
    with pytest.raises(ollama.ResponseError) as caught:
        await anext(stream)
    assert caught.value.status_code == 500
    assert "model requires more system memory" in caught.value.error
    assert "deepseek-r1:14b" not in fake.loaded
    await client.close()


async def test_midstream_error_arrives_after_some_chunks(serve: ServeFn) -> None:
    """A mid-stream error arrives after some chunks in the stream, and as a 500 without streaming."""
    model = FakeModel(
        "broken:1b", answer="one two three four five", midstream_error="model runner has unexpectedly stopped"
    )
    fake = serve([model])
    client = ollama.AsyncClient(host=fake.url)
    received: list[ollama.ChatResponse] = []
    with pytest.raises(ollama.ResponseError) as caught:
        async for chunk in await client.chat(model.name, HI, stream=True):
            received.append(chunk)
    assert len(received) == 3 and not any(chunk.done for chunk in received)
    assert (caught.value.status_code, caught.value.error) == (-1, "model runner has unexpectedly stopped")
    await client.close()
    # Without streaming, Ollama turns the same error into a status.
    with pytest.raises(ollama.ResponseError) as caught:
        ollama.Client(host=fake.url).chat(model.name, HI, stream=False)
    assert caught.value.status_code == 500


async def test_stream_can_end_without_done(serve: ServeFn) -> None:
    """A stream can end without its done chunk, and then no chunk carries figures."""
    fake = serve([FakeModel("loop:1b", answer="a b c", end_without_done=True)])
    chunks = await chat_chunks(fake, "loop:1b")
    assert joined(chunks) == "a b c" and not any(chunk.done for chunk in chunks)
    assert all(chunk.eval_count is None for chunk in chunks)


# Loading, keep-alive and /api/ps.


async def test_ps_after_chat_shows_partial_offload(fake: FakeOllama) -> None:
    """/api/ps after a chat shows the partly offloaded model with its VRAM share and context length."""
    await chat_chunks(fake, "llama3.2:3b")
    (running,) = ollama.Client(host=fake.url).ps().models
    assert running.model == "llama3.2:3b" and running.size == 3_400_000_000
    assert running.size_vram == round(3_400_000_000 * 0.74) and running.context_length == 4096
    assert running.expires_at is not None and running.expires_at.tzinfo is not None


def test_generate_loads_and_unloads(serve: ServeFn) -> None:
    """/api/generate with no prompt loads the model for keep_alive and unloads it with keep_alive 0."""
    fake = serve(load_delay=0.1, wall_clock=lambda: 1_760_000_000.0)
    client = ollama.Client(host=fake.url)
    started = time.monotonic()
    loaded = client.generate("qwen3:8b", keep_alive="10m")
    assert (loaded.done, loaded.done_reason, loaded.response) == (True, "load", "")
    assert time.monotonic() - started >= 0.1
    (running,) = client.ps().models
    # The keep-alive countdown follows the injected wall clock exactly.
    assert running.expires_at is not None
    assert running.model == "qwen3:8b" and running.expires_at.timestamp() == 1_760_000_000.0 + 600
    unloaded = client.generate("qwen3:8b", keep_alive=0)
    assert unloaded.done_reason == "unload" and client.ps().models == []


async def test_cold_then_warm_load_duration(serve: ServeFn) -> None:
    """The first load takes load_delay, the next is warm, and a different num_ctx loads again."""
    fake = serve(load_delay=0.1)
    cold = (await chat_chunks(fake, "llama3.2:3b"))[-1]
    warm = (await chat_chunks(fake, "llama3.2:3b"))[-1]
    assert cold.load_duration is not None
    assert cold.load_duration >= 100_000_000 and warm.load_duration == WARM_LOAD_NS
    # A different num_ctx forces a reload, as in Ollama.
    resized = (await chat_chunks(fake, "llama3.2:3b", options={"num_ctx": 8192}))[-1]
    assert resized.load_duration is not None and resized.load_duration >= 100_000_000


async def test_keep_alive_zero_unloads_after_the_reply(fake: FakeOllama) -> None:
    """keep_alive 0 unloads after the reply, and -1 keeps the model with an expiry centuries away."""
    await chat_chunks(fake, "qwen3:8b", keep_alive=0)
    assert fake.loaded == {}
    await chat_chunks(fake, "qwen3:8b", keep_alive=-1)
    assert fake.loaded["qwen3:8b"] == math.inf
    expires_at = ollama.Client(host=fake.url).ps().models[0].expires_at
    assert expires_at is not None and expires_at.year > 2300


def test_parse_keep_alive() -> None:
    """parse_keep_alive reads Ollama's forms (seconds, Go durations, negative for forever) and refuses others."""
    assert parse_keep_alive(None) == 300
    assert parse_keep_alive(45) == 45 and parse_keep_alive("30s") == 30
    assert parse_keep_alive("10m") == 600 and parse_keep_alive("1h30m") == 5400 and parse_keep_alive("0") == 0
    assert parse_keep_alive(-1) == math.inf and parse_keep_alive("-1m") == math.inf
    with pytest.raises(ValueError, match="invalid duration"):
        parse_keep_alive("ten minutes")


# Timing, cancellation and shutdown.


async def test_rate_is_accurate_at_1000_tokens_per_second(serve: ServeFn) -> None:
    """At 1000 tok/s the tokens are paced, not dumped, and never faster than the rate set."""
    model = FakeModel("fast:1b", answer=" ".join(f"w{i}" for i in range(200)))
    fake = serve([model], rate=1000.0)
    started = time.monotonic()
    *tokens, final = await chat_chunks(fake, model.name)
    elapsed = time.monotonic() - started
    assert len(tokens) == 200 and final.eval_count == 201
    assert final.eval_duration is not None
    assert elapsed >= 0.2  # paced, not dumped at once; how close to 1000 tok/s is in bench/
    eval_rate = final.eval_count / (final.eval_duration / 1e9)
    assert eval_rate <= 1000 * 1.05  # never faster than configured; a busy machine may be slower


async def test_closing_the_stream_stops_the_server(serve: ServeFn) -> None:
    """Closing the client's stream disconnects it, and the server stops sending without finishing."""
    model = FakeModel("slow:1b", answer=" ".join(["word"] * 100))
    fake = serve([model], rate=50.0)
    client = ollama.AsyncClient(host=fake.url)
    stream = await client.chat(model.name, HI, stream=True)
    for _ in range(3):
        await anext(stream)
    assert inspect.isasyncgen(stream)  # the client's stream is an async generator, so it can be closed
    await stream.aclose()
    await wait_for(lambda: fake.disconnects == 1, timeout=5)
    await asyncio.sleep(0.1)
    assert fake.finished_streams == 0
    await client.close()


async def test_stop_does_not_hang_mid_stream(serve: ServeFn) -> None:
    """stop() returns while a stream is open, and the client sees the connection drop."""
    model = FakeModel("slow:1b", answer=" ".join(["word"] * 100))
    fake = serve([model], rate=20.0)
    client = ollama.AsyncClient(host=fake.url)
    stream = await client.chat(model.name, HI, stream=True)
    await anext(stream)
    # A hang would stop the suite; how fast stop() returns is not a behaviour to assert.
    await asyncio.wait_for(asyncio.to_thread(fake.stop), timeout=10)
    with pytest.raises(httpx.RemoteProtocolError):
        await collect(stream)
    await client.close()


def test_requests_are_recorded_in_order(fake: FakeOllama) -> None:
    """Requests are recorded in order, with each chat's body as sent."""
    client = ollama.Client(host=fake.url)
    client.list()
    client.chat("llama3.2:3b", HI, options={"temperature": 0}, keep_alive="1m")
    assert [(request["method"], request["path"]) for request in fake.requests] == [
        ("GET", "/api/tags"),
        ("POST", "/api/chat"),
    ]
    body = fake.chat_requests[0]
    assert body["messages"] == HI and body["options"] == {"temperature": 0} and body["keep_alive"] == "1m"
    assert fake.requests[1]["body"] == body and fake.finished_streams == 1


# The wire itself.


def read_raw_response(fake: FakeOllama, path: str, body: dict) -> tuple[str, list[bytes]]:
    """POST over a bare socket; returns the header block and the chunked body's chunks."""
    payload = json.dumps(body).encode()
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(request)
        raw = b""
        while data := sock.recv(65536):
            raw += data
    head, rest = raw.split(b"\r\n\r\n", 1)
    chunks: list[bytes] = []
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line, 16)
        if size == 0:
            return head.decode(), chunks
        chunks.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]


def test_stream_is_chunked_ndjson_one_line_per_chunk(fake: FakeOllama) -> None:
    """The chat stream is chunked NDJSON, one JSON line per chunk, with Go's HTML escaping."""
    head, chunks = read_raw_response(fake, "/api/chat", {"model": "deepseek-r1:1.5b", "messages": HI})
    assert head.startswith("HTTP/1.1 200")
    assert "Transfer-Encoding: chunked" in head and "Content-Type: application/x-ndjson" in head
    assert all(chunk.endswith(b"\n") and chunk.count(b"\n") == 1 for chunk in chunks)
    # Go's encoding/json escapes HTML characters, so tags travel as \u003c...\u003e.
    assert chunks[0].startswith(b'{"model":"deepseek-r1:1.5b","created_at":"')
    assert b"\\u003cthink\\u003e" in chunks[0]
    final = json.loads(chunks[-1])
    assert final["done"] is True and final["message"] == {"role": "assistant", "content": ""}


# /api/show with verbose, for the fit advisor.


def test_show_lists_tensors_and_verbose_sends_the_whole_tokenizer(fake: FakeOllama) -> None:
    """/api/show lists tensors; only verbose sends the whole tokenizer, as Ollama empties arrays without it."""
    plain = httpx.post(f"{fake.url}/api/show", json={"model": "deepseek-r1:7b"}).json()
    verbose = httpx.post(f"{fake.url}/api/show", json={"model": "deepseek-r1:7b", "verbose": True}).json()
    assert plain["model_info"]["tokenizer.ggml.tokens"] == []  # Ollama empties arrays without verbose
    assert len(verbose["model_info"]["tokenizer.ggml.tokens"]) == 152064
    assert verbose["model_info"]["qwen2.block_count"] == 28
    assert verbose["tensors"] == plain["tensors"]
    names = {t["name"]: t for t in verbose["tensors"]}
    assert names["blk.27.ffn_down.weight"] == {"name": "blk.27.ffn_down.weight", "type": "Q6_K", "shape": [18944, 3584]}
    assert names["blk.1.attn_q.bias"]["type"] == "F32" and "output.weight" in names


def test_a_server_without_tensors_and_models_without_a_shape(serve: ServeFn) -> None:
    """A model without tensor shapes sends no tensors, nor does a server with show_tensors off; model_info stays."""
    fake = serve()
    assert "tensors" not in httpx.post(f"{fake.url}/api/show", json={"model": "gemma3:1b", "verbose": True}).json()
    fake.show_tensors = False
    shown = httpx.post(f"{fake.url}/api/show", json={"model": "qwen3:8b", "verbose": True}).json()
    assert "tensors" not in shown and shown["model_info"]["qwen3.block_count"] == 36


def test_the_sweep_models_are_the_eleven_deepseek_r1_tags() -> None:
    """The sweep set is the eleven deepseek-r1 tags, with sizes and GPU share as Ollama showed them."""
    from devtools.fake_ollama import deepseek_r1_sweep_models

    models = deepseek_r1_sweep_models()
    assert len(models) == 11 and all(m.name.startswith("deepseek-r1:") and m.arch for m in models)
    by_name = {m.name: m for m in models}
    assert by_name["deepseek-r1:7b-qwen-distill-q4_K_M"].size == 4_683_075_271
    assert by_name["deepseek-r1:7b-qwen-distill-fp16"].vram_fraction == 0.74  # as `ollama ps` showed it


# Today's Ollama by default, older releases on request.

OLD = "0.12.6"
CLOUD = "gpt-oss:120b-cloud"
REMOTE = {"remote_model": "gpt-oss:120b", "remote_host": CLOUD_HOST}


def chat_lines(fake: FakeOllama, body: dict[str, Any], path: str = "/api/chat") -> list[dict[str, Any]]:
    """POST a streaming request with httpx; every NDJSON line as a dict, fields the client would drop kept."""
    with httpx.stream("POST", f"{fake.url}{path}", json=body, timeout=10) as reply:
        assert reply.status_code == 200
        return [json.loads(line) for line in reply.iter_lines() if line]


def chat_reply(fake: FakeOllama, model: str, messages: list[dict[str, str]], **fields: Any) -> dict[str, Any]:
    """A non-streaming chat's JSON reply, as the server wrote it."""
    body = {"model": model, "messages": messages, "stream": False, **fields}
    reply = httpx.post(f"{fake.url}/api/chat", json=body, timeout=10)
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def test_version_key_orders_releases() -> None:
    """version_key compares releases numerically and ignores a v prefix and an -rc suffix."""
    assert version_key("0.12.6") < version_key("0.15.5") < version_key("v0.30.1") < version_key("0.33.0-rc2")
    assert version_key("0.9.0") < version_key("0.12.0") and version_key(TODAY) == (0, 33, 0)


def test_an_older_version_is_served_when_asked(serve: ServeFn) -> None:
    """version="0.12.6" answers /api/version with 0.12.6; the default is today's release."""
    assert TODAY == "0.33.0" and FakeOllama().version == TODAY
    assert httpx.get(f"{serve(version=OLD).url}/api/version").json() == {"version": OLD}


def test_cli_serves_the_version_asked_and_the_cloud_model() -> None:
    """`python -m devtools.fake_ollama --version 0.12.6 --cloud` serves 0.12.6 with the cloud model listed."""
    command = [sys.executable, "-m", "devtools.fake_ollama", "--port", "0", "--version", OLD, "--cloud"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith(f"Fake Ollama {OLD} on http://127.0.0.1:") and CLOUD in banner
        url = banner.split(" on ", 1)[1].split(": ", 1)[0]
        assert httpx.get(f"{url}/api/version").json() == {"version": OLD}
    finally:
        process.terminate()
        process.wait(timeout=10)


# Cloud models (0.12+).


def test_cloud_model_is_opt_in() -> None:
    """default_models() has no cloud model; with_cloud=True adds gpt-oss:120b-cloud at the end."""
    assert not any(model.is_cloud for model in default_models())
    *local, cloud = default_models(with_cloud=True)
    assert [model.name for model in local] == [model.name for model in default_models()]
    assert (cloud.name, cloud.remote_model, cloud.remote_host) == (CLOUD, "gpt-oss:120b", CLOUD_HOST)


@pytest.mark.parametrize("version", [TODAY, OLD])
def test_cloud_model_is_listed_and_shown_with_its_remote(serve: ServeFn, version: str) -> None:
    """/api/tags and /api/show carry remote_model and remote_host for a cloud model, and show no tensors."""
    fake = serve(default_models(with_cloud=True), version=version)
    tags = {entry["name"]: entry for entry in httpx.get(f"{fake.url}/api/tags").json()["models"]}
    assert {key: tags[CLOUD][key] for key in REMOTE} == REMOTE
    assert "remote_host" not in tags["qwen3:8b"]
    shown = httpx.post(f"{fake.url}/api/show", json={"model": CLOUD}).json()
    assert {key: shown[key] for key in REMOTE} == REMOTE and "tensors" not in shown
    assert shown["model_info"] == {"general.architecture": "gptoss", "gptoss.context_length": 131072}
    assert "remote_host" not in httpx.post(f"{fake.url}/api/show", json={"model": "qwen3:8b"}).json()


def test_a_server_before_cloud_models_has_none(serve: ServeFn) -> None:
    """A 0.11 server cannot have a cloud model installed: it is left out of the models served."""
    fake = serve(default_models(with_cloud=True), version="0.11.10")
    assert CLOUD not in fake.models and len(fake.models) == len(default_models())


def test_every_cloud_chat_and_generate_chunk_carries_the_remote(serve: ServeFn) -> None:
    """Every /api/chat and /api/generate line of a cloud model names the remote; local lines do not."""
    fake = serve(cloud_models(), load_delay=5.0)
    lines = chat_lines(fake, {"model": CLOUD, "messages": HI, "think": "high"})
    assert len(lines) > 2 and all({key: line[key] for key in REMOTE} == REMOTE for line in lines)
    assert list(lines[0])[:3] == ["model", "remote_model", "remote_host"]  # Go's field order
    assert "".join(line["message"].get("thinking", "") for line in lines) == cloud_models()[0].thinking
    generated = chat_lines(fake, {"model": CLOUD, "prompt": "Hi"}, path="/api/generate")
    assert all({key: line[key] for key in REMOTE} == REMOTE for line in generated)
    loaded = httpx.post(f"{fake.url}/api/generate", json={"model": CLOUD}).json()
    assert (loaded["done_reason"], loaded["remote_host"]) == ("load", CLOUD_HOST)
    local = chat_lines(serve(), {"model": "llama3.2:3b", "messages": HI})
    assert not any("remote_host" in line for line in local)


def test_cloud_model_loads_nothing_locally(serve: ServeFn) -> None:
    """A cloud model's load is instant, it never shows in /api/ps, and it starts no runner."""
    fake = serve(default_models(with_cloud=True), load_delay=5.0, runner_processes=True)
    final = chat_lines(fake, {"model": CLOUD, "messages": HI, "keep_alive": -1})[-1]
    assert final["done"] and final["load_duration"] == CLOUD_LOAD_NS
    assert httpx.get(f"{fake.url}/api/ps").json() == {"models": []}
    assert fake.loaded == {} and fake.runner_pids() == {}


async def test_the_ollama_client_chats_with_a_cloud_model(serve: ServeFn) -> None:
    """The ollama client streams a cloud model's answer (its 0.6 models drop remote_model/remote_host)."""
    fake = serve(cloud_models())
    chunks = await chat_chunks(fake, CLOUD, think="low")
    assert joined(chunks) == cloud_models()[0].answer and chunks[-1].done
    assert [model.model for model in ollama.Client(host=fake.url).list().models] == [CLOUD]


# Think levels.


@pytest.mark.parametrize("think", [True, False, "low", "medium", "high", "max"])
def test_think_levels_are_accepted_and_recorded(fake: FakeOllama, think: bool | str) -> None:
    """Every think value Ollama takes today is accepted, and the request log shows the value sent."""
    reply = chat_reply(fake, "qwen3:8b", HI, think=think)
    assert reply["done"] and bool(reply["message"].get("thinking")) is (think is not False)
    assert fake.chat_requests[-1]["think"] == think


@pytest.mark.parametrize(
    ("version", "think", "error"),
    [
        (TODAY, "extreme", 'invalid think value: "extreme" (must be "high", "medium", "low", "max", true, or false)'),
        (TODAY, 5, 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)'),
        (OLD, "max", 'invalid think value: "max" (must be "high", "medium", "low", true, or false)'),
    ],
)
def test_a_think_value_ollama_refuses_is_400(serve: ServeFn, version: str, think: Any, error: str) -> None:
    """An unknown think value is Ollama's 400 with its own text ("max" only from 0.22), and is still logged."""
    fake = serve(version=version)
    requests: list[tuple[str, dict[str, Any]]] = [("/api/chat", {"messages": HI}), ("/api/generate", {"prompt": "Hi"})]
    for path, body in requests:
        reply = httpx.post(f"{fake.url}{path}", json={"model": "qwen3:8b", "think": think, **body})
        assert (reply.status_code, reply.json()) == (400, {"error": error})
    assert fake.chat_requests[-1]["think"] == think


def test_a_bad_think_value_is_refused_before_the_model_is_looked_up(fake: FakeOllama) -> None:
    """Ollama rejects the think value while decoding the request, so an unknown model still gets the 400."""
    reply = httpx.post(f"{fake.url}/api/chat", json={"model": "nope:1b", "messages": HI, "think": "huge"})
    assert reply.status_code == 400 and reply.json()["error"].startswith('invalid think value: "huge"')


async def test_think_levels_through_the_ollama_client(fake: FakeOllama) -> None:
    """The ollama client's think="high" reaches the server as "high" and gets the thinking back."""
    chunks = await chat_chunks(fake, "qwen3:8b", think="high")
    assert joined(chunks, "thinking") == model_by_name("qwen3:8b").thinking
    assert fake.chat_requests[-1]["think"] == "high"


# The prompt cache (0.30.1+).


def second_turn(fake: FakeOllama, model: str = "llama3.2:3b") -> tuple[dict[str, Any], dict[str, Any], list[dict]]:
    """Two turns of one chat: the replies, and the second turn's messages."""
    first = chat_reply(fake, model, HI)
    messages = [*HI, {"role": "assistant", "content": first["message"]["content"]}, {"role": "user", "content": "More"}]
    return first, chat_reply(fake, model, messages), messages


def test_today_a_later_turn_counts_its_cached_prompt_tokens(fake: FakeOllama) -> None:
    """From 0.30.1 a later turn counts cached tokens in prompt_eval_count and times only those evaluated."""
    first, second, _ = second_turn(fake)
    assert "prompt_eval_cached_count" not in first
    cached = second["prompt_eval_cached_count"]
    assert 0 < cached < second["prompt_eval_count"]
    evaluated = second["prompt_eval_count"] - cached
    assert second["prompt_eval_duration"] == evaluated * fake.prompt_eval_ns_per_token


def test_the_prompt_count_is_the_same_with_and_without_the_cache(serve: ServeFn) -> None:
    """prompt_eval_count of a later turn is the whole prompt at 0.33.0 as at 0.12.6; only 0.12.6 times all of it."""
    _, today, _ = second_turn(serve())
    _, old, _ = second_turn(serve(version=OLD))
    assert today["prompt_eval_count"] == old["prompt_eval_count"]
    assert "prompt_eval_cached_count" not in old
    assert old["prompt_eval_duration"] == old["prompt_eval_count"] * PROMPT_EVAL_NS_PER_TOKEN


def test_the_cache_needs_the_same_prefix_and_the_same_loaded_model(fake: FakeOllama) -> None:
    """Another first message, a reload for a new num_ctx, or an unload leaves nothing cached."""
    _, _, messages = second_turn(fake)
    edited = [{"role": "user", "content": "Hello"}, *messages[1:]]
    assert "prompt_eval_cached_count" not in chat_reply(fake, "llama3.2:3b", edited)
    assert "prompt_eval_cached_count" in chat_reply(fake, "llama3.2:3b", [*edited, {"role": "user", "content": "?"}])
    assert "prompt_eval_cached_count" not in chat_reply(fake, "llama3.2:3b", messages, options={"num_ctx": 8192})
    httpx.post(f"{fake.url}/api/generate", json={"model": "llama3.2:3b", "keep_alive": 0})
    assert "prompt_eval_cached_count" not in chat_reply(fake, "llama3.2:3b", messages)


def test_without_the_cached_count_field_the_count_still_includes_the_cache(fake: FakeOllama) -> None:
    """report_cached_count off (as in ollama v0.33.0-rc2's source) keeps the count inflated and sends no field."""
    fake.report_cached_count = False
    _, second, _ = second_turn(fake)
    assert "prompt_eval_cached_count" not in second
    assert second["prompt_eval_duration"] < second["prompt_eval_count"] * fake.prompt_eval_ns_per_token


# The default context by GPU memory (0.15.5+).


def test_vram_default_context_tiers() -> None:
    """Under 23 GiB of GPU memory the default context is 4096; from 23 GiB 32768; from 47 GiB 262144."""
    assert [vram_default_context(gib * GIB) for gib in (8, 22, 23, 46, 47, 80)] == [
        4096,
        4096,
        32768,
        32768,
        262144,
        262144,
    ]


@pytest.mark.parametrize(
    ("version", "gpu_gib", "context"),
    [(TODAY, 8, 4096), (TODAY, 24, 32768), (TODAY, 48, 262144), (TODAY, 80, 262144), (OLD, 48, 4096)],
)
def test_ps_shows_the_default_context_for_the_gpu(serve: ServeFn, version: str, gpu_gib: int, context: int) -> None:
    """/api/ps context_length follows total GPU memory from 0.15.5 when num_ctx is not given; 4096 before."""
    model = FakeModel("long:8b", context_length=1_048_576)
    fake = serve([model], version=version, gpu_total_bytes=gpu_gib * GIB)
    chat_reply(fake, model.name, HI)
    (running,) = ollama.Client(host=fake.url).ps().models
    assert running.context_length == context


def test_default_context_is_capped_and_num_ctx_wins(serve: ServeFn) -> None:
    """The default never exceeds the model's own context length, and an explicit num_ctx is used as given."""
    fake = serve(gpu_total_bytes=48 * GIB)
    chat_reply(fake, "deepseek-r1:1.5b", HI)
    chat_reply(fake, "llama3.2:3b", HI, options={"num_ctx": 8192})
    contexts = {model.model: model.context_length for model in ollama.Client(host=fake.url).ps().models}
    assert contexts == {"deepseek-r1:1.5b": 131072, "llama3.2:3b": 8192}


# llama-server child processes (0.30+).


def runner(fake: FakeOllama, model: str) -> psutil.Process:
    """The model's llama-server child as psutil sees it."""
    return psutil.Process(fake.runner_pids()[model])


def gone(process: psutil.Process) -> bool:
    """Whether the process has ended (a reaped child no longer exists)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_runner_processes_are_off_unless_asked_and_before_0_30(serve: ServeFn) -> None:
    """No child without runner_processes=True, nor at 0.12.6 with it."""
    for fake in (serve(), serve(version=OLD, runner_processes=True)):
        chat_reply(fake, "llama3.2:3b", HI)
        assert fake.runner_pids() == {}


def test_a_loaded_model_has_a_llama_server_child_holding_memory(serve: ServeFn) -> None:
    """Loading starts a llama-server child of this process that holds the scaled-down ballast until unload."""
    fake = serve(runner_processes=True, runner_mib_per_gb=4.0)
    chat_reply(fake, "qwen3:8b", HI)
    child = runner(fake, "qwen3:8b")
    assert child.cmdline()[0] == "llama-server" and "--ctx-size" in child.cmdline()
    if sys.platform.startswith("linux"):
        assert child.name() == "llama-server"
    assert child.ppid() == os.getpid()
    ballast = fake.runner_ballast_bytes(model_by_name("qwen3:8b"))
    assert ballast == 24 * 2**20  # 6.0 GB loaded at 4 MiB per GB
    assert child.memory_info().rss >= ballast
    chat_reply(fake, "qwen3:8b", HI)
    assert runner(fake, "qwen3:8b").pid == child.pid  # a warm model keeps its runner
    httpx.post(f"{fake.url}/api/generate", json={"model": "qwen3:8b", "keep_alive": 0})
    assert gone(child) and fake.runner_pids() == {}


def test_runner_ballast_is_capped() -> None:
    """The ballast is runner_mib_per_gb per GB of loaded size, never over runner_max_mib."""
    fake = FakeOllama(runner_mib_per_gb=10.0, runner_max_mib=32.0)
    assert fake.runner_ballast_bytes(FakeModel("big:70b", loaded_size=40_000_000_000)) == 32 * 2**20
    assert fake.runner_ballast_bytes(FakeModel("small:1b", loaded_size=1_500_000_000)) == 15 * 2**20


async def test_runners_end_on_expiry_reload_and_stop(serve: ServeFn) -> None:
    """A runner ends when its keep-alive expires, when a new num_ctx reloads the model, and when the server stops."""
    fake = serve(runner_processes=True)
    chat_reply(fake, "deepseek-r1:1.5b", HI, keep_alive="100ms")
    expiring = runner(fake, "deepseek-r1:1.5b")
    await wait_for(lambda: gone(expiring), timeout=5)
    chat_reply(fake, "llama3.2:3b", HI)
    first = runner(fake, "llama3.2:3b")
    chat_reply(fake, "llama3.2:3b", HI, options={"num_ctx": 8192})
    second = runner(fake, "llama3.2:3b")
    assert gone(first) and not gone(second)
    fake.stop()
    assert gone(second)


def test_leaving_the_with_block_ends_every_runner() -> None:
    """`with FakeOllama(...)` leaves no llama-server child behind."""
    with FakeOllama(rate=5000.0, runner_processes=True) as fake:
        chat_reply(fake, "llama3.2:3b", HI)
        chat_reply(fake, "deepseek-r1:1.5b", HI)
        children = [psutil.Process(pid) for pid in fake.runner_pids().values()]
    assert len(children) == 2 and all(gone(child) for child in children)
