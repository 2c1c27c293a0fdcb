"""Fake Ollama servers as real processes, each named `ollama serve` with a child holding ballast.

Two of them on one machine are what the finder must tell apart by their ports: both look like
Ollama by name, so only the listening socket says which server answers on which port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[2]
MiB = 2**20

# Run as `ollama -c SCRIPT <ballast MiB> serve --port P ...`: a child that keeps <ballast MiB>
# resident (as a model runner would), then the fake server in this process.
WITH_BALLAST = """
import runpy, subprocess, sys
ballast = sys.argv.pop(1)
hold = "import sys, time; held = b'x' * (int(sys.argv[1]) * 2**20); time.sleep(120)"
subprocess.Popen([sys.executable, "-c", hold, ballast])
sys.argv = ["fake_ollama", *sys.argv[1:]]
runpy.run_module("devtools.fake_ollama", run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True)
class ServerProcess:
    """One fake server process: its port, its pid and the MiB its child holds."""

    port: int
    pid: int
    ballast_mib: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tree(self) -> list[psutil.Process]:
        """The server and its descendants, as psutil sees them now."""
        root = psutil.Process(self.pid)
        return [root, *root.children(recursive=True)]


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def fake_servers(tmp_path: Path, ballasts_mib: Sequence[int]) -> Iterator[list[ServerProcess]]:
    """Start one fake server per ballast, each on its own free port; stop them all afterwards."""
    ollama = tmp_path / "ollama"
    ollama.symlink_to(os.path.realpath(sys.executable))  # named "ollama", as Linux shows it
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started: list[subprocess.Popen[bytes]] = []
    servers: list[ServerProcess] = []
    try:
        for mib in ballasts_mib:
            port = free_port()
            argv = [str(ollama), "-c", WITH_BALLAST, str(mib), "serve", "--port", str(port), "--load-delay", "0"]
            process = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
            started.append(process)
            servers.append(ServerProcess(port, process.pid, mib))
        for server in servers:
            _wait_until_ready(server)
        yield servers
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the server and its ballast child
            process.wait()


def _wait_until_ready(server: ServerProcess, timeout: float = 20.0) -> None:
    """Until the server answers /api/version and its child holds its ballast."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answered = httpx.get(f"{server.url}/api/version", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            answered = False
        children = psutil.Process(server.pid).children() if answered else []
        if children and children[0].memory_info().rss >= server.ballast_mib * MiB:
            return
        time.sleep(0.05)
    raise TimeoutError(f"fake server on :{server.port} not ready in {timeout:.0f} s")
