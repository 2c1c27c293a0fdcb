"""Two Ollama servers on one machine: each chat's records and panel measure the server it talks to."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers.apps import make_app
from tests.helpers.pilot import choose, send
from tests.helpers.servers import MiB, fake_servers
from tui.core.chat.recorder import TurnRecorder
from tui.core.chat.session import ChatSession
from tui.core.ollama.client import OllamaEngine
from tui.core.records.schema import HostInfo
from tui.core.records.store import RecordStore
from tui.core.sampling.monitor import MonitorOptions, ResourceMonitor, build_sampler
from tui.ui.panels.resources import MemoryPanel

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="names a process through a symlink, as Linux shows it"
)


async def test_each_record_keeps_its_own_servers_memory(tmp_path: Path) -> None:
    """A turn on the server holding 40 MiB records a smaller Ollama peak than one on the server holding 160 MiB."""
    peaks: dict[int, int | None] = {}
    with fake_servers(tmp_path, [40, 160]) as servers:
        for server in servers:
            store = RecordStore.open(tmp_path / f"{server.port}.sqlite")
            sampler = build_sampler(MonitorOptions(interval=0.05), host=server.url)
            session = ChatSession(
                OllamaEngine(server.url),
                ResourceMonitor(sampler),
                recorder=TurnRecorder(store, HostInfo(hostname="here")),
            )
            await session.refresh()
            assert await session.choose("gemma3:1b")
            await session.send("hello")
            (turn,) = store.records()
            store.close()
            peaks[server.ballast_mib] = turn.resources.ollama_rss_peak_bytes
    small, large = peaks[40], peaks[160]
    assert small is not None and large is not None
    assert small > 40 * MiB and large > small + 100 * MiB


async def test_each_apps_panel_shows_its_own_server(tmp_path: Path) -> None:
    """The memory panel of an app on either port names that port and that server's memory."""
    shown: dict[int, str] = {}
    with fake_servers(tmp_path, [40, 160]) as servers:
        for server in servers:
            sampler = build_sampler(MonitorOptions(interval=0.05), host=server.url)
            app = make_app(server.url, sampler=sampler, live=True)
            async with app.run_test(size=(160, 50)) as pilot:
                await choose(pilot, app, "gemma3:1b")
                await send(pilot, app, "hello")
                shown[server.ballast_mib] = app.query_one(MemoryPanel).plain_text(40)
    for ballast, text in shown.items():
        port = next(server.port for server in servers if server.ballast_mib == ballast)
        assert f"listening on :{port}" in text, text
    assert ollama_rss_mib(shown[160]) > ollama_rss_mib(shown[40]) + 100


def ollama_rss_mib(panel: str) -> float:
    """The MiB figure of the panel's "Ollama RSS" line."""
    line = next(line for line in panel.splitlines() if "Ollama RSS" in line)
    value, unit = line.split("Ollama RSS")[1].split()[:2]
    assert unit == "MiB", line
    return float(value)
