"""Find the Ollama server and its model runners, and add up what they use."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psutil

# Runner names over Ollama's history: ollama_llama_server (<= v0.5.0), `ollama runner ...`
# (v0.5.4 – v0.29, also `--mlx-engine`), llama-server (v0.30+). Runners are found as
# descendants of the server; these names only find runners left without one.
RUNNER_NAMES = ("ollama_llama_server", "llama-server")
APP_NAME = "Ollama"  # the macOS app, parent of `ollama serve`
ACCESS_DENIED = "access denied to {what}: run ollamon as the user that runs Ollama"


@dataclass(frozen=True)
class OllamaProcesses:
    """The Ollama processes found in one scan, and what they use together.

    `cpu_percent` is psutil's per-process figure summed (100 = one core busy); None until
    every process has been seen twice, since psutil's first call has no interval to measure.
    RSS undercounts memory-mapped weights: show /api/ps `size` beside it.
    """

    rss: int
    cpu_percent: float | None
    count: int
    pids: tuple[int, ...]
    server_pid: int | None
    why: str | None = None


def _kind(name: str, args: list[str]) -> str | None:
    """server, app, runner, or None: what an Ollama-looking process is."""
    if name == APP_NAME:
        return "app"
    lowered = name.lower()
    if lowered in ("ollama", "ollama.exe"):
        if "serve" in args[1:]:
            return "server"
        if "runner" in args[1:]:
            return "runner"
        return None
    # Linux truncates process names to 15 characters: ollama_llama_se.
    if lowered.startswith("ollama_llama_se"):
        return "runner"
    # llama-server is also llama.cpp's own server: count an orphan only if it is Ollama's copy.
    if lowered == "llama-server" and args and "ollama" in args[0].lower():
        return "runner"
    return None


class OllamaProcessFinder:
    """Scans processes each read, keeping psutil objects between reads so CPU% has an interval."""

    name = "psutil"

    def __init__(self, process_iter: Callable[[], Iterable[Any]] = psutil.process_iter) -> None:
        self._process_iter = process_iter
        self._known: dict[int, Any] = {}

    def read(self) -> OllamaProcesses:
        denied: list[str] = []
        roots: list[Any] = []
        orphans: list[Any] = []
        server_pid = None
        for process in self._process_iter():
            try:
                name = process.name()
                if not (name.lower().startswith("ollama") or name == "llama-server"):
                    continue  # most processes: skip before the costlier cmdline read
                kind = _kind(name, process.cmdline())
            except psutil.NoSuchProcess:
                continue
            except psutil.AccessDenied:
                denied.append(f"pid {process.pid}")
                continue
            if kind in ("server", "app"):
                roots.append(process)
                if kind == "server" and server_pid is None:
                    server_pid = process.pid
            elif kind == "runner":
                orphans.append(process)

        members: dict[int, Any] = {}
        for root in roots:
            members[root.pid] = root
            try:
                for child in root.children(recursive=True):
                    members.setdefault(child.pid, child)
            except psutil.NoSuchProcess:
                continue
            except psutil.AccessDenied:
                denied.append(f"the children of pid {root.pid}")
        for process in orphans:
            members.setdefault(process.pid, process)

        rss, cpu, primed = 0, 0.0, True
        known: dict[int, Any] = {}
        for pid, process in sorted(members.items()):
            # Reuse last tick's object for this process: its cpu_percent() measures since then.
            cached = self._known.get(pid)
            process = cached if cached is not None and cached == process else process
            try:
                rss += process.memory_info().rss
                cpu += process.cpu_percent(None)
            except psutil.NoSuchProcess:
                continue
            except psutil.AccessDenied:
                denied.append(f"pid {pid}")
                continue
            primed = primed and cached is process
            known[pid] = process
        self._known = known

        why = None
        if denied:
            why = ACCESS_DENIED.format(what=", ".join(denied))
        elif not known:
            why = "no Ollama process running on this machine"
        return OllamaProcesses(rss, cpu if known and primed else None, len(known), tuple(known), server_pid, why)
