"""Find the Ollama server and its model runners, and add up what they use."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psutil

from tui.core.sampling.footprint import FootprintReader

# Runner names over Ollama's history: ollama_llama_server (<= v0.5.0), `ollama runner ...`
# (v0.5.4 – v0.29, also `--mlx-engine`), llama-server (v0.30+). Runners are found as
# descendants of the server; _kind's names only find runners left without one.
APP_NAME = "Ollama"  # the macOS app, parent of `ollama serve`
ACCESS_DENIED = "access denied to {what}: run ollamon as the user that runs Ollama"
# Processes that listen on a published port for a server elsewhere (a container, a VM): the
# server is not below them, so the listener is no answer to "which server".
PORT_FORWARDERS = frozenset(
    {"docker-proxy", "rootlessport", "rootlesskit", "slirp4netns", "com.docker.backend", "gvproxy"}
)


@dataclass(frozen=True)
class OllamaProcesses:
    """The Ollama processes found in one scan, and what they use together.

    `cpu_percent` is psutil's per-process figure summed (100 = one core busy); None until
    every process has been seen twice, since psutil's first call has no interval to measure.
    `rss` is the memory in use, of the kind `memory_measure` names: "footprint" (macOS, as
    Activity Monitor's Memory column) or "RSS"; None when no process was measured (unknown is
    not 0). Either undercounts memory-mapped weights: show /api/ps `size` beside it. `found_by`
    says how the server was found, for people: "listening on :11434", "by name", or "by name
    (why not by its port)"; None when nothing was found.
    """

    rss: int | None
    cpu_percent: float | None
    count: int
    pids: tuple[int, ...]
    server_pid: int | None
    why: str | None = None
    memory_measure: str = "RSS"
    found_by: str | None = None


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


def listening_ports(process: Any) -> set[int]:
    """The TCP ports `process` listens on; psutil.AccessDenied where it may not be asked."""
    sockets = getattr(process, "net_connections", None) or process.connections  # connections() before psutil 6.0
    return {conn.laddr.port for conn in sockets("tcp") if conn.status == psutil.CONN_LISTEN and conn.laddr}


def _looks_like_ollama(name: str) -> bool:
    return name.lower().startswith("ollama") or name == "llama-server"


@dataclass(frozen=True)
class _Seen:
    """What one scan learnt about a process: its psutil object, name, parent and Ollama role."""

    process: Any
    name: str
    ppid: int
    kind: str | None


class OllamaProcessFinder:
    """Scans processes each read, keeping psutil objects between reads so CPU% has an interval.

    Reading every process's name and parent adds up over a whole process table, so a process seen
    before keeps what was learnt about it; every `recheck_every` scans all are read again, which
    catches a wrapper script that exec'd into `ollama serve` under the same pid.

    With a `port` (the host is this machine) the server is the process listening on it, with
    its descendants: two servers on one machine are told apart. Names are the fallback, said
    in `found_by`: for a remote host, when nothing listens, or when the listener cannot be
    seen. Listing the machine's sockets (`connections`, psutil.net_connections) costs a walk
    over every process's descriptors, so it runs on the first read, on recheck scans and when
    the listener is gone. macOS allows it to root only, and Linux hides another user's pid;
    where the listing names no server, each Ollama-named server is asked once for its own
    sockets (`Process.net_connections`), which also finds a restarted `ollama serve` at once.
    `footprint` reads a pid's physical footprint (macOS); without it, or where it fails, RSS.
    """

    name = "psutil"

    def __init__(
        self,
        process_iter: Callable[[], Iterable[Any]] = psutil.process_iter,
        recheck_every: int = 10,
        *,
        footprint: FootprintReader | None = None,
        port: int | None = None,
        connections: Callable[[], Iterable[Any]] = lambda: psutil.net_connections("tcp"),
    ) -> None:
        self._process_iter = process_iter
        self._recheck_every = recheck_every
        self._footprint = footprint
        self._port = port
        self._connections = connections
        self._scans = 0
        self._seen: dict[int, _Seen] = {}
        self._measured: dict[int, Any] = {}
        self._listener: _Seen | None = None
        self._list_now = True  # list the sockets on the next read (first read, listener gone)
        self._no_listener = ""  # why the last listing named no server: "by name (<this>)"
        self._asked: set[int] = set()  # candidates asked for their sockets since the listing
        # Why the server at the port is known not to be Ollama (its reply), set by whoever asked it:
        # a listener not named like Ollama is then someone else's server, and nothing is counted.
        self.not_ollama: str | None = None

    def read(self) -> OllamaProcesses:
        denied: list[str] = []
        recheck = self._scans % self._recheck_every == 0
        seen = self._scan(denied, recheck)
        listener, fallback = self._find_listener(seen, recheck) if self._port is not None else (None, "by name")
        if listener is not None and self.not_ollama and not _looks_like_ollama(seen[listener].name):
            named = f"{seen[listener].name or 'a process'} (pid {listener}) on :{self._port} is not Ollama"
            return OllamaProcesses(None, None, 0, (), None, named)
        if listener is not None:
            members = _descendants(seen, [listener])
            server_pid: int | None = listener
            found_by = f"listening on :{self._port}"
        else:
            members = self._members(seen)
            server_pid = next((pid for pid in sorted(members) if seen[pid].kind == "server"), None)
            found_by = fallback

        rss, cpu, primed = 0, 0.0, True
        footprint: int | None = 0 if self._footprint is not None else None
        measured: dict[int, Any] = {}
        for pid in sorted(members):
            process = seen[pid].process
            try:
                # Both figures or neither: a process denied halfway must not leave its RSS behind.
                process_rss, process_cpu = process.memory_info().rss, process.cpu_percent(None)
            except psutil.NoSuchProcess:
                continue
            except psutil.AccessDenied:
                denied.append(f"pid {pid}")
                continue
            rss, cpu = rss + process_rss, cpu + process_cpu
            footprint = self._add_footprint(footprint, pid)
            primed = primed and self._measured.get(pid) is process
            measured[pid] = process
        self._measured = measured

        why = None
        if denied:
            why = ACCESS_DENIED.format(what=", ".join(denied))
        elif not measured:
            why = "no Ollama process running on this machine"
        if not measured:
            return OllamaProcesses(None, None, 0, (), server_pid, why)
        memory, measure = (rss, "RSS") if footprint is None else (footprint, "footprint")
        cpu_percent = cpu if primed else None
        return OllamaProcesses(memory, cpu_percent, len(measured), tuple(measured), server_pid, why, measure, found_by)

    def _find_listener(self, seen: dict[int, _Seen], recheck: bool) -> tuple[int | None, str]:
        """The pid listening on the port, or None and the name fallback's "by name (why)"."""
        known = self._listener
        if known is not None and not recheck:
            now = seen.get(known.process.pid)
            if now is not None and now.process == known.process:
                return known.process.pid, ""
            self._list_now = True  # the server went away or restarted: look again at once
        self._listener = None
        if recheck or self._list_now:
            self._list_now, self._asked = False, set()
            pid, self._no_listener = self._list_sockets()
            if pid is not None and self._take(seen, pid):
                return pid, ""
        # Where the listing named no server, the Ollama-named servers are asked for their own
        # sockets, each once per listing: a server restarted under a new pid is found when seen.
        for pid, info in seen.items():
            if info.kind == "server" and pid not in self._asked:
                self._asked.add(pid)
                if self._listens(info.process) and self._take(seen, pid):
                    return pid, ""
        return None, f"by name ({self._no_listener})"

    def _take(self, seen: dict[int, _Seen], pid: int) -> bool:
        """Keep `pid` as the listener if it can be read and serves here itself; else say why not."""
        info = seen.get(pid)
        if info is None:
            self._no_listener = f"pid {pid} on :{self._port} could not be read"
        elif info.name in PORT_FORWARDERS:
            self._no_listener = f":{self._port} is forwarded by {info.name}"
        else:
            self._listener = info
        return self._listener is not None

    def _list_sockets(self) -> tuple[int | None, str]:
        """The listener's pid from the machine's socket list, or None and why not."""
        hidden = False
        try:
            for conn in self._connections():
                if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == self._port:
                    if conn.pid:
                        return conn.pid, ""
                    hidden = True  # Linux: another user's socket, pid None unless root
        except (psutil.AccessDenied, OSError):
            return None, "listing sockets was denied"  # macOS lists sockets to root only
        if hidden:
            return None, f"the listener on :{self._port} is another user's"
        return None, f"nothing listens on :{self._port}"

    def _listens(self, process: Any) -> bool:
        """Whether this process listens on the port; False where it may not be asked."""
        try:
            return self._port in listening_ports(process)
        except (psutil.Error, OSError):
            return False

    def _add_footprint(self, total: int | None, pid: int) -> int | None:
        """The footprint sum with this pid's added; None (use RSS for all) once one read fails."""
        if total is None or self._footprint is None:
            return None
        try:
            return total + self._footprint(pid)
        except OSError:
            return None

    def _scan(self, denied: list[str], recheck: bool) -> dict[int, _Seen]:
        self._scans += 1
        seen: dict[int, _Seen] = {}
        for process in self._process_iter():
            previous = self._seen.get(process.pid)
            if previous is not None and previous.process == process:
                if not recheck:
                    seen[process.pid] = previous
                    continue
                process = previous.process  # last scan's object: its cpu_percent() is primed
            name = ""
            try:
                with process.oneshot():
                    name = process.name()
                    ppid = process.ppid()
                # Most processes stop here, before the costlier cmdline read.
                kind = _kind(name, process.cmdline()) if _looks_like_ollama(name) else None
            except psutil.NoSuchProcess:
                continue
            except psutil.AccessDenied:
                # Another user's process that is not Ollama's is none of our business: only a
                # denied Ollama-looking one makes the figures incomplete.
                if _looks_like_ollama(name):
                    denied.append(f"pid {process.pid}")
                continue
            seen[process.pid] = _Seen(process, name, ppid, kind)
        self._seen = seen
        return seen

    @staticmethod
    def _members(seen: dict[int, _Seen]) -> set[int]:
        """The server and app processes, all their descendants, and runners without a server."""
        roots = [pid for pid, info in seen.items() if info.kind in ("server", "app")]
        return _descendants(seen, roots) | {pid for pid, info in seen.items() if info.kind == "runner"}


def _descendants(seen: dict[int, _Seen], roots: Iterable[int]) -> set[int]:
    """The roots and every process below them."""
    children: dict[int, list[int]] = {}
    for pid, info in seen.items():
        children.setdefault(info.ppid, []).append(pid)
    members: set[int] = set()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid not in members:
            members.add(pid)
            stack += children.get(pid, [])
    return members
