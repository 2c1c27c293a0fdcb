"""A `--host` that is not Ollama: every reply that Ollama would not send is classified, never raised."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.fake_ollama import IMPOSTOR_REPLIES, FakeModel, FakeOllama, default_models
from tests.helpers.apps import make_app
from tests.helpers.pilot import choose, send, wait_until
from tests.helpers.resources import NORMAL, scenario_sampler
from tui.cli.doctor import run_doctor
from tui.cli.main import main
from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.events import Done, Failure
from tui.core.sampling.energy import BaselineStore
from tui.core.sampling.monitor import MonitorOptions, build_sampler
from tui.ui.chat.banner import ConnectionBanner
from tui.ui.chat.messages import AssistantMessage
from tui.ui.panels.resources import MemoryPanel

SIZE = (120, 40)

# What the message says about each mode's reply.
DETAILS = {
    "html": "HTTP 200 with text/html instead of JSON",
    "html_404": "HTTP 404 with a web page",
    "text_json": "HTTP 200 with text/plain instead of JSON",
    "bad_json": "a reply that is not JSON",
    "wrong_shape": "JSON of another shape",
}


@pytest.fixture(params=sorted(IMPOSTOR_REPLIES))
def impostor(request: pytest.FixtureRequest) -> Iterator[FakeOllama]:
    server = FakeOllama(default_models(), rate=2000.0, impostor=request.param).start()
    yield server
    server.stop()


def test_every_mode_has_an_expected_detail() -> None:
    """Every impostor reply the fake server can send has the detail the message must give."""
    assert set(DETAILS) == set(IMPOSTOR_REPLIES)


async def _each_call(engine: OllamaEngine) -> list[OllamaError]:
    calls = [
        engine.version,
        engine.list_models,
        engine.ps,
        lambda: engine.show("qwen3:8b"),
        lambda: engine.load("qwen3:8b"),
        lambda: engine.unload("qwen3:8b"),
    ]
    raised = []
    for call in calls:
        with pytest.raises(OllamaError) as info:
            await call()
        raised.append(info.value)
    return raised


async def test_engine_methods_raise_a_classified_error(impostor: FakeOllama) -> None:
    """Each engine call to a server that is not Ollama raises a NOT_OLLAMA error naming the server and reply."""
    engine = OllamaEngine(impostor.url)
    try:
        errors = await _each_call(engine)
    finally:
        await engine.aclose()
    prefix = f"the server at {impostor.url} does not answer like Ollama: "
    assert impostor.impostor is not None
    for error in errors:
        assert error.kind is ErrorKind.NOT_OLLAMA
        assert error.message.startswith(prefix) and DETAILS[impostor.impostor] in error.message


async def test_chat_yields_a_failure(impostor: FakeOllama) -> None:
    """A chat with a server that is not Ollama ends in a classified failure that suggests --host."""
    engine = OllamaEngine(impostor.url)
    try:
        events = [event async for event in engine.chat("qwen3:8b", [{"role": "user", "content": "hi"}])]
    finally:
        await engine.aclose()
    assert isinstance(events[-1], Failure) and events[-1].kind is ErrorKind.NOT_OLLAMA
    assert impostor.impostor is not None
    assert DETAILS[impostor.impostor] in events[-1].message
    assert "--host" in events[-1].hint


async def test_a_malformed_line_mid_answer_keeps_the_text_before_it() -> None:
    """A line that is not JSON mid-answer fails the turn as not Ollama and keeps the text before it."""
    model = FakeModel("proxied:1b", answer="one two three four five", garbled_after=3)
    with FakeOllama([model], rate=2000.0) as server:
        engine = OllamaEngine(server.url)
        try:
            events = [e async for e in engine.chat("proxied:1b", [{"role": "user", "content": "hi"}])]
        finally:
            await engine.aclose()
    failure = events[-1]
    assert isinstance(failure, Failure) and failure.kind is ErrorKind.NOT_OLLAMA
    assert "not JSON ('<html>502 Bad Gateway</html>')" in failure.message
    deltas = [e for e in events[:-1] if not isinstance(e, Done | Failure)]
    assert len(deltas) == len(events) - 1 and "".join(e.text for e in deltas) == "one two three "
    assert not any(isinstance(e, Done) for e in events)


def test_doctor_prints_the_classified_message_and_exits_1(impostor: FakeOllama, tmp_path: Path) -> None:
    """Doctor on a server that is not Ollama prints the classified message, no traceback, exit 1."""
    lines: list[str] = []
    sampler = scenario_sampler(NORMAL, ticks=1)
    sampler.interval = 0.01
    code = run_doctor(impostor.url, MonitorOptions(), say=lines.append, sampler=sampler, store=BaselineStore(tmp_path))
    out = "\n".join(lines)
    assert code == 1
    assert impostor.impostor is not None
    assert f"does not answer like Ollama: {DETAILS[impostor.impostor]}" in out
    assert "--host" in out and "Traceback" not in out


def test_doctor_calls_a_web_server_not_ollama_rather_than_unreachable(tmp_path: Path) -> None:
    """Doctor on a web server says NOT OLLAMA, never UNREACHABLE: it answered, just not as Ollama."""
    lines: list[str] = []
    sampler = scenario_sampler(NORMAL, ticks=1)
    sampler.interval = 0.01
    with FakeOllama(impostor="html_404") as server:
        run_doctor(server.url, MonitorOptions(), say=lines.append, sampler=sampler, store=BaselineStore(tmp_path))
    out = "\n".join(lines)
    assert f"Ollama     NOT OLLAMA at {server.url}" in out and "UNREACHABLE" not in out


def test_cli_doctor_on_a_web_server(capsys: pytest.CaptureFixture[str]) -> None:
    """`ollamon doctor` on a web server says it does not answer like Ollama, exit 1."""
    with FakeOllama(impostor="html") as server:
        assert main(["doctor", "--host", server.url, "--interval", "0.05"]) == 1
    assert "does not answer like Ollama" in capsys.readouterr().out


async def test_app_shows_the_banner_stays_alive_and_recovers() -> None:
    """Against a web server the app shows a banner, stays alive, and recovers when Ollama answers."""
    with FakeOllama(default_models(), rate=2000.0, impostor="html") as server:
        app = make_app(server.url)
        async with app.run_test(size=SIZE) as pilot:
            banner = app.query_one(ConnectionBanner)
            await wait_until(pilot, lambda: app.connected is False and banner.display)
            assert "does not answer like Ollama" in str(banner.render())
            # It answered: the status line says it is not Ollama, not that it cannot be reached.
            status = str(app.query_one("#status").render())
            assert "Not Ollama at" in status and "unreachable" not in status.lower()
            # Starting Ollama would not help here: the banner says to check the address instead.
            assert "Check --host" in str(banner.render()) and "ollama serve" not in str(banner.render())
            await pilot.pause(0.3)  # several retries against the same server
            assert app.is_running and banner.display
            server.impostor = None
            await wait_until(pilot, lambda: app.connected is True)
            assert not banner.display
            await choose(pilot, app, "llama3.2:3b")
            server.impostor = "bad_json"
            await send(pilot, app, "still there?")
            outcome = str(app.query(AssistantMessage).last().query_one(".outcome").render())
            assert "Error (not_ollama): the server at" in outcome and "--host" in outcome
            assert app.is_running


async def test_app_counts_no_process_for_a_web_server_on_the_port() -> None:
    """Against a web server on this machine the app counts no process: the Memory panel says it is not Ollama."""
    with FakeOllama(default_models(), impostor="html") as server:
        sampler = build_sampler(MonitorOptions(), host=server.url)
        app = make_app(server.url, sampler=sampler)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.connected is False)
            sampler.tick()
            app.resources.refresh_view()
            await pilot.pause()
            last = sampler.samples.last()
            assert last is not None and last[1].ollama is not None
            assert last[1].ollama.count == 0 and last[1].ollama.why
            assert f"(pid {os.getpid()}) on :{server.port} is not Ollama" in last[1].ollama.why
            memory = app.query_one(MemoryPanel).plain_text()
            assert "is not Ollama" in memory and "listening on" not in memory
            # Positive control: once it answers as Ollama, the same listener (this process) counts.
            server.impostor = None
            await wait_until(pilot, lambda: app.connected is True)
            counted = sampler.tick().ollama
            assert counted is not None and os.getpid() in counted.pids
