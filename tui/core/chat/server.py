"""What a chat knows of its Ollama server: its models, what is in memory, its version, whether
it answers, and whether it is another machine."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tui.core.ollama.client import OllamaEngine, OllamaError
from tui.core.ollama.host import is_local
from tui.core.ollama.models import CatalogModel, LoadedModel

if TYPE_CHECKING:
    from tui.core.records.schema import EngineInfo

# /api/ps for the record must not hold up the end of a turn when Ollama has gone away.
PS_TIMEOUT_S = 3.0


class ServerState:
    """The server's last answers; `refresh` asks again."""

    def __init__(self, engine: OllamaEngine) -> None:
        self.engine = engine
        self.models: list[CatalogModel] = []
        self.running: list[LoadedModel] = []
        self.version = ""
        self.connected: bool | None = None
        self._remote: bool | None = None

    @property
    def remote(self) -> bool:
        """The server is another machine (known after the first refresh)."""
        return bool(self._remote)

    async def refresh(self) -> None:
        """Models, loaded models and (on first contact) the version; raises OllamaError."""
        try:
            # At once: the model names are on screen one round trip after start-up, not three.
            models, running, version, _ = await asyncio.gather(
                self.engine.list_models(), self.engine.ps(), self._version_once(), self._locate_once()
            )
        except OllamaError:
            self.connected = False
            raise
        self.models, self.running, self.connected = models, running, True
        self.version = version

    async def _locate_once(self) -> None:
        if self._remote is None:
            # Name resolution can be slow: never on the event loop, and only once.
            self._remote = not await asyncio.to_thread(is_local, self.engine.host)

    async def _version_once(self) -> str:
        return self.version if self.connected else await self.engine.version()

    async def ps_quietly(self) -> list[LoadedModel]:
        """/api/ps now, or [] when the server does not answer in time (it is not asked once known down)."""
        if self.connected is False:
            return []
        try:
            self.running = await asyncio.wait_for(self.engine.ps(), PS_TIMEOUT_S)
        except (OllamaError, TimeoutError):
            return []
        return self.running

    def in_memory(self, name: str) -> LoadedModel | None:
        return next((item for item in self.running if item.name == name), None)

    def holds(self, name: str, num_ctx: int | None) -> bool:
        """Whether /api/ps last showed `name` in memory with the context length asked for (None: any)."""
        return any(
            item.name == name and (num_ctx is None or item.context_length in (None, num_ctx)) for item in self.running
        )

    def engine_facts(self) -> EngineInfo:
        from tui.core.records.schema import (
            EngineInfo,  # the records load with the first turn, not before the first screen
        )

        return EngineInfo(
            name="ollama", version=self.version or None, host_url=self.engine.host, remote=bool(self._remote)
        )
