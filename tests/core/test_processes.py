"""Finding the Ollama server and its runners with fake process objects."""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from tests.helpers.servers import fake_servers
from tui.core.sampling.processes import OllamaProcessFinder

MiB = 2**20


class FakeProcess:
    """The psutil.Process methods the finder calls; equal by pid, like psutil's (pid, create time)."""

    def __init__(
        self,
        pid: int,
        name: str,
        cmdline: list[str],
        rss: int = 0,
        cpu: float = 0.0,
        ppid: int = 1,
        denied: Iterable[str] = (),
        gone: bool = False,
        listens: Iterable[int] = (),
    ) -> None:
        self.pid, self._name, self._cmdline, self.rss, self.cpu, self._ppid = pid, name, cmdline, rss, cpu, ppid
        self.denied = set(denied)
        self.gone = gone
        self.listens = list(listens)
        self.cpu_calls = 0
        self.name_calls = 0
        self.socket_calls = 0

    def _check(self, method: str) -> None:
        if self.gone:
            raise psutil.NoSuchProcess(self.pid)
        if method in self.denied:
            raise psutil.AccessDenied(self.pid, self._name)

    @contextlib.contextmanager
    def oneshot(self) -> Iterator[None]:
        yield

    def name(self) -> str:
        self._check("name")
        self.name_calls += 1
        return self._name

    def ppid(self) -> int:
        self._check("ppid")
        return self._ppid

    def cmdline(self) -> list[str]:
        self._check("cmdline")
        return self._cmdline

    def memory_info(self) -> SimpleNamespace:
        self._check("memory_info")
        return SimpleNamespace(rss=self.rss, vms=0)

    def cpu_percent(self, interval: float | None = None) -> float:
        self._check("cpu_percent")
        self.cpu_calls += 1
        return 0.0 if self.cpu_calls == 1 else self.cpu  # psutil's first call has no interval

    def net_connections(self, kind: str = "inet") -> list[SimpleNamespace]:
        self._check("net_connections")
        self.socket_calls += 1
        return [listening(None, port) for port in self.listens]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FakeProcess) and other.pid == self.pid

    def __hash__(self) -> int:
        return self.pid


def finder_over(*processes: FakeProcess) -> OllamaProcessFinder:
    return OllamaProcessFinder(lambda: list(processes))


def test_server_and_runner_descendants_across_names() -> None:
    """The server and all its descendants count, whatever their names; CPU shows from the second read."""
    server = FakeProcess(100, "ollama", ["/usr/bin/ollama", "serve"], rss=60 * MiB, cpu=1.5)
    runner = FakeProcess(
        201, "ollama", ["/usr/bin/ollama", "runner", "--model", "/m/blob"], rss=4000 * MiB, cpu=350.0, ppid=100
    )
    new_runner = FakeProcess(
        202, "llama-server", ["/usr/lib/ollama/llama-server", "--port", "1"], rss=900 * MiB, cpu=20.0, ppid=100
    )
    helper = FakeProcess(203, "sh", ["sh", "-c", "true"], rss=1 * MiB, ppid=202)  # any descendant counts
    unrelated = FakeProcess(300, "python3", ["python3", "x.py"], rss=500 * MiB)
    finder = finder_over(unrelated, server, runner, new_runner, helper)
    first = finder.read()
    assert first.count == 4 and first.pids == (100, 201, 202, 203) and first.server_pid == 100
    assert first.rss == (60 + 4000 + 900 + 1) * MiB
    assert first.cpu_percent is None and first.why is None  # psutil needs a second look
    assert finder.read().cpu_percent == 371.5


def test_cpu_uses_last_ticks_objects_even_when_the_iterator_returns_new_ones() -> None:
    """CPU is asked of the process objects kept from the last tick, not fresh ones."""
    ticks = iter(
        [
            [FakeProcess(100, "ollama", ["ollama", "serve"], cpu=12.0)],
            [FakeProcess(100, "ollama", ["ollama", "serve"], cpu=99.0)],
        ]
    )
    finder = OllamaProcessFinder(lambda: next(ticks))
    finder.read()
    assert finder.read().cpu_percent == 12.0  # the cached, primed object was asked


def test_known_processes_are_not_read_again_until_the_recheck() -> None:
    """Known non-Ollama processes are not re-read until the periodic recheck finds the change."""
    wrapper = FakeProcess(100, "sh", ["/bin/sh", "/usr/local/bin/start-ollama"])
    other = FakeProcess(300, "python3", ["python3"])
    finder = OllamaProcessFinder(lambda: [wrapper, other], recheck_every=3)
    assert finder.read().count == 0
    wrapper._name, wrapper._cmdline = "ollama", ["ollama", "serve"]  # the script exec'd the server
    assert finder.read().count == 0 and finder.read().count == 0
    assert other.name_calls == 1
    assert finder.read().server_pid == 100  # the third scan after the first re-reads everything
    assert other.name_calls == 2


def test_new_children_of_a_known_server_are_found_at_once() -> None:
    """A runner started under a known server is counted on the next read."""
    server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=MiB)
    processes = [server]
    finder = OllamaProcessFinder(lambda: list(processes))
    assert finder.read().count == 1
    processes.append(FakeProcess(101, "llama-server", ["/opt/ollama/lib/llama-server"], rss=MiB, ppid=100))
    assert finder.read().pids == (100, 101)


def test_runners_without_a_server() -> None:
    """Ollama's runners count without a server; a user's own llama-server and the CLI do not."""
    old = FakeProcess(11, "ollama_llama_server", ["/tmp/ollama123/runners/cuda/ollama_llama_server"], rss=MiB)
    truncated = FakeProcess(12, "ollama_llama_se", ["ollama_llama_server"], rss=MiB)  # Linux's 15-char names
    mid = FakeProcess(13, "ollama", ["ollama", "runner", "--mlx-engine"], rss=MiB)
    new = FakeProcess(14, "llama-server", ["/usr/local/lib/ollama/llama-server"], rss=MiB)
    users_own = FakeProcess(15, "llama-server", ["/home/me/llama.cpp/build/bin/llama-server"], rss=MiB)
    cli = FakeProcess(16, "ollama", ["ollama", "run", "qwen3"], rss=MiB)  # the CLI client is not Ollama's cost
    found = finder_over(old, truncated, mid, new, users_own, cli).read()
    assert found.pids == (11, 12, 13, 14) and found.server_pid is None


def test_macos_app_and_its_server() -> None:
    """On macOS the Ollama app, its server and runner all count; the server is the `serve` one."""
    app = FakeProcess(10, "Ollama", ["/Applications/Ollama.app/Contents/MacOS/Ollama"], rss=MiB)
    serve = FakeProcess(
        20, "ollama", ["/Applications/Ollama.app/Contents/Resources/ollama", "serve"], rss=2 * MiB, ppid=10
    )
    runner = FakeProcess(30, "ollama", ["ollama", "runner", "--model", "x"], rss=3 * MiB, ppid=20)
    found = finder_over(app, serve, runner).read()
    assert found.pids == (10, 20, 30) and found.server_pid == 20 and found.rss == 6 * MiB


def test_access_denied_says_why() -> None:
    """A server whose details are denied is not counted, and the note says whose pid and what to do."""
    server = FakeProcess(100, "ollama", ["ollama", "serve"], denied={"cmdline"})
    found = finder_over(server).read()
    assert found.count == 0
    assert found.why is not None and "access denied to pid 100" in found.why
    assert "user that runs Ollama" in found.why

    server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=MiB, denied={"memory_info"})
    assert "pid 100" in (finder_over(server).read().why or "")


def test_another_users_process_does_not_spoil_the_ollama_figures() -> None:
    """A denied process that is not Ollama's leaves Ollama's figures whole, with no note."""
    server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=MiB, cpu=5.0)
    runner = FakeProcess(201, "ollama", ["ollama", "runner"], rss=4 * MiB, cpu=50.0, ppid=100)
    root_daemon = FakeProcess(9, "WindowServer", [], denied={"name", "ppid", "cmdline"})
    finder = finder_over(root_daemon, server, runner)
    finder.read()
    found = finder.read()
    assert found.why is None
    assert (found.count, found.rss, found.cpu_percent) == (2, 5 * MiB, 55.0)


def test_a_process_denied_halfway_adds_nothing() -> None:
    """A runner denied partway through adds nothing to the figures and is named in the note."""
    server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=MiB)
    other_users_runner = FakeProcess(201, "ollama", ["ollama", "runner"], rss=4 * MiB, ppid=100, denied={"cpu_percent"})
    found = finder_over(server, other_users_runner).read()
    assert (found.count, found.rss, found.pids) == (1, MiB, (100,))
    assert found.why is not None and "pid 201" in found.why


def test_processes_that_exit_mid_scan_are_skipped() -> None:
    """Processes gone before or during measuring are skipped without a note."""
    server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=MiB)
    exited_runner = FakeProcess(201, "ollama", ["ollama", "runner"], ppid=100)
    processes = [server, exited_runner, FakeProcess(5, "ollama", [], gone=True)]
    finder = OllamaProcessFinder(lambda: processes)
    assert finder.read().pids == (100, 201)
    exited_runner.gone = True  # exits between the scan and the measurement
    found = finder.read()
    assert found.pids == (100,) and found.why is None


def test_nothing_running() -> None:
    """With no Ollama process nothing is measured (None, not 0 bytes) and the note says none is running."""
    found = finder_over(FakeProcess(1, "systemd", ["/sbin/init"], ppid=0)).read()
    assert (found.count, found.rss, found.cpu_percent, found.found_by) == (0, None, None, None)
    assert found.why == "no Ollama process running on this machine"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names a process through a symlink, as Linux shows it")
def test_real_processes_through_psutil(tmp_path: Path) -> None:
    """A real `ollama serve` stand-in and its `ollama runner` child, found through psutil itself."""
    ollama = tmp_path / "ollama"
    ollama.symlink_to(os.path.realpath(sys.executable))  # the process is then named "ollama"
    child = (
        f"import subprocess, time; subprocess.Popen([{str(ollama)!r}, '-c', 'import time; time.sleep(30)', "
        f"'runner']); time.sleep(30)"
    )
    server = subprocess.Popen([str(ollama), "-c", child, "serve"])
    try:

        def ours() -> list[psutil.Process]:
            # Only this test's tree: a real Ollama on the machine must not be found instead.
            root = psutil.Process(server.pid)
            return [root, *root.children(recursive=True)]

        finder = OllamaProcessFinder(process_iter=ours)
        deadline = time.monotonic() + 5
        while (found := finder.read()).count < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert found.server_pid == server.pid and found.count == 2 and (found.rss or 0) > 0
        assert finder.read().cpu_percent is not None
    finally:
        for process in psutil.Process(server.pid).children(recursive=True):
            process.kill()
        server.kill()
        server.wait()


def listening(pid: int | None, port: int, status: str = psutil.CONN_LISTEN) -> SimpleNamespace:
    return SimpleNamespace(pid=pid, status=status, laddr=SimpleNamespace(ip="127.0.0.1", port=port), raddr=())


class TestFootprint:
    """macOS: Activity Monitor's Memory column is the physical footprint, not RSS."""

    def test_footprint_is_summed_and_labelled(self) -> None:
        """With a footprint reader memory is the sum of footprints, labelled footprint."""
        server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=60 * MiB)
        runner = FakeProcess(201, "ollama", ["ollama", "runner"], rss=4000 * MiB, ppid=100)
        footprints = {100: 40 * MiB, 201: 5200 * MiB}
        found = OllamaProcessFinder(lambda: [server, runner], footprint=footprints.__getitem__).read()
        assert (found.rss, found.memory_measure) == (5240 * MiB, "footprint")

    def test_one_refused_footprint_means_rss_for_all(self) -> None:
        """One refused footprint makes every process count by RSS, labelled RSS."""
        server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=60 * MiB)
        runner = FakeProcess(201, "ollama", ["ollama", "runner"], rss=4000 * MiB, ppid=100)

        def footprint(pid: int) -> int:
            if pid == 201:
                raise PermissionError(1, "proc_pid_rusage(201) failed")
            return 40 * MiB

        found = OllamaProcessFinder(lambda: [server, runner], footprint=footprint).read()
        assert (found.rss, found.memory_measure) == (4060 * MiB, "RSS")

    def test_without_a_reader_it_is_rss(self) -> None:
        """Without a footprint reader memory is RSS, found by name."""
        found = finder_over(FakeProcess(100, "ollama", ["ollama", "serve"], rss=60 * MiB)).read()
        assert (found.rss, found.memory_measure, found.found_by) == (60 * MiB, "RSS", "by name")

    def test_the_struct_puts_the_footprint_where_the_kernel_writes_it(self) -> None:
        """rusage_info_v2's ri_phys_footprint sits at byte 72, as in the macOS header."""
        from tui.core.sampling.footprint import RusageInfoV2

        # 16 bytes of uuid, then seven uint64 fields before ri_phys_footprint.
        assert RusageInfoV2.ri_phys_footprint.offset == 72
        assert ctypes.sizeof(RusageInfoV2) == 16 + 18 * 8


class TestFoundByPort:
    """A server not named `ollama serve` is the process listening on the host's port."""

    def test_listener_and_its_children_are_ollama(self) -> None:
        """The process listening on Ollama's port and its children count, found by port."""
        wrapper = FakeProcess(300, "python3", ["python3", "my-ollama.py"], rss=30 * MiB)
        child = FakeProcess(301, "llama-worker", ["llama-worker"], rss=900 * MiB, ppid=300)
        other = FakeProcess(400, "nginx", ["nginx"], rss=5 * MiB)
        finder = OllamaProcessFinder(
            lambda: [wrapper, child, other], port=11434, connections=lambda: [listening(400, 80), listening(300, 11434)]
        )
        found = finder.read()
        assert found.pids == (300, 301) and found.server_pid == 300
        assert found.rss == 930 * MiB and found.found_by == "listening on :11434"

    def test_a_web_server_on_the_port_is_not_counted_once_it_answered_not_as_ollama(self) -> None:
        """A listener not named ollama, on a port whose server is not Ollama: nothing counted, and it says so."""
        web = FakeProcess(300, "python3", ["python3", "-m", "http.server"], rss=30 * MiB)
        finder = OllamaProcessFinder(lambda: [web], port=11434, connections=lambda: [listening(300, 11434)])
        finder.not_ollama = "the server at http://127.0.0.1:11434 does not answer like Ollama"
        found = finder.read()
        assert (found.count, found.pids, found.rss, found.server_pid, found.found_by) == (0, (), None, None, None)
        assert found.why == "python3 (pid 300) on :11434 is not Ollama"
        # Positive control: once it answers as Ollama, the same listener counts.
        finder.not_ollama = None
        assert finder.read().pids == (300,)

    def test_an_ollama_named_listener_counts_even_when_its_reply_was_not_ollamas(self) -> None:
        """`ollama serve` on the port counts whatever its reply looked like (a proxy in front may have answered)."""
        server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * MiB)
        finder = OllamaProcessFinder(lambda: [server], port=11434, connections=lambda: [listening(100, 11434)])
        finder.not_ollama = "does not answer like Ollama"
        assert finder.read().pids == (100,)

    def test_the_listener_wins_over_another_named_server(self) -> None:
        """Two `ollama serve` on one machine: only the one listening on the host's port and its runner count."""
        desktop = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * MiB)
        desktop_runner = FakeProcess(101, "llama-server", ["/usr/lib/ollama/llama-server"], rss=4000 * MiB, ppid=100)
        second = FakeProcess(200, "ollama", ["ollama", "serve"], rss=30 * MiB)
        second_runner = FakeProcess(201, "llama-server", ["/usr/lib/ollama/llama-server"], rss=900 * MiB, ppid=200)
        everyone = [desktop, desktop_runner, second, second_runner]
        sockets = [listening(100, 11434), listening(200, 11500)]
        found = OllamaProcessFinder(lambda: everyone, port=11500, connections=lambda: sockets).read()
        assert (found.pids, found.server_pid, found.rss) == ((200, 201), 200, 930 * MiB)
        assert found.found_by == "listening on :11500"
        found = OllamaProcessFinder(lambda: everyone, port=11434, connections=lambda: sockets).read()
        assert (found.pids, found.server_pid, found.rss) == ((100, 101), 100, 4020 * MiB)

    def test_denied_socket_listing_finds_nothing(self) -> None:
        """A denied socket listing finds no process and says why."""

        def denied() -> list[SimpleNamespace]:
            raise psutil.AccessDenied()

        finder = OllamaProcessFinder(lambda: [FakeProcess(300, "python3", ["python3"])], port=11434, connections=denied)
        found = finder.read()
        assert found.count == 0 and found.found_by is None and found.why

    def test_denied_listing_asks_the_named_servers(self) -> None:
        """macOS without root: the listing is denied, so each `ollama serve` says whether it listens."""

        def denied() -> list[SimpleNamespace]:
            raise psutil.AccessDenied()

        desktop = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * MiB, listens=[11434])
        second = FakeProcess(200, "ollama", ["ollama", "serve"], rss=30 * MiB, listens=[11500])
        found = OllamaProcessFinder(lambda: [desktop, second], port=11500, connections=denied).read()
        assert (found.pids, found.found_by) == ((200,), "listening on :11500")

    def test_denied_everywhere_falls_back_to_the_name_and_says_so(self) -> None:
        """Listing and the servers' own sockets denied (another user's server): by name, and it says why."""

        def denied() -> list[SimpleNamespace]:
            raise psutil.AccessDenied()

        server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * MiB, denied={"net_connections"})
        found = OllamaProcessFinder(lambda: [server], port=11434, connections=denied).read()
        assert (found.pids, found.found_by) == ((100,), "by name (listing sockets was denied)")

    def test_another_users_hidden_listener(self) -> None:
        """Linux without root lists another user's socket without its pid: by name, saying whose it is."""
        server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * MiB, denied={"net_connections"})
        finder = OllamaProcessFinder(lambda: [server], port=11434, connections=lambda: [listening(None, 11434)])
        found = finder.read()
        assert (found.pids, found.found_by) == ((100,), "by name (the listener on :11434 is another user's)")

    def test_nothing_listening_falls_back_to_the_name_and_says_so(self) -> None:
        """With nothing on the port the named server counts, and the finder says nothing listens there."""
        server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * MiB, listens=[11434])
        finder = OllamaProcessFinder(lambda: [server], port=11500, connections=lambda: [listening(100, 11434)])
        found = finder.read()
        assert (found.pids, found.found_by) == ((100,), "by name (nothing listens on :11500)")

    def test_a_port_forwarder_is_not_the_server(self) -> None:
        """A container's published port is held by docker-proxy: not the server, so by name, saying so."""
        proxy = FakeProcess(50, "docker-proxy", ["docker-proxy", "-host-port", "11500"], rss=5 * MiB)
        server = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * MiB)
        finder = OllamaProcessFinder(lambda: [proxy, server], port=11500, connections=lambda: [listening(50, 11500)])
        found = finder.read()
        assert (found.pids, found.found_by) == ((100,), "by name (:11500 is forwarded by docker-proxy)")

    def test_the_listener_is_not_looked_up_every_read(self) -> None:
        """Sockets are listed on the first read and on recheck scans only, while the listener stays."""
        calls: list[int] = []

        def sockets() -> list[SimpleNamespace]:
            calls.append(1)
            return [listening(300, 11434)]

        wrapper = FakeProcess(300, "python3", ["python3", "my-ollama.py"], rss=MiB)
        finder = OllamaProcessFinder(lambda: [wrapper], port=11434, connections=sockets, recheck_every=5)
        assert all(finder.read().server_pid == 300 for _ in range(5))
        assert len(calls) == 1
        finder.read()
        assert len(calls) == 2

    def test_a_restarted_server_is_found_again_at_once(self) -> None:
        """When the listener exits, the next read lists the sockets again and finds the new server."""
        old = FakeProcess(300, "python3", ["python3", "my-ollama.py"], rss=MiB)
        new = FakeProcess(310, "python3", ["python3", "my-ollama.py"], rss=2 * MiB)
        processes, sockets = [old], [listening(300, 11434)]
        finder = OllamaProcessFinder(
            lambda: list(processes), port=11434, connections=lambda: sockets, recheck_every=100
        )
        assert finder.read().server_pid == 300
        processes[:], sockets[:] = [new], [listening(310, 11434)]
        found = finder.read()
        assert (found.server_pid, found.rss, found.found_by) == (310, 2 * MiB, "listening on :11434")

    def test_a_restarted_named_server_is_asked_when_first_seen(self) -> None:
        """Where listing is denied, a new `ollama serve` is asked for its sockets when it first appears."""

        def denied() -> list[SimpleNamespace]:
            raise psutil.AccessDenied()

        other = FakeProcess(100, "ollama", ["ollama", "serve"], rss=20 * MiB, listens=[11434])
        processes = [other]
        finder = OllamaProcessFinder(lambda: list(processes), port=11500, connections=denied, recheck_every=100)
        assert finder.read().found_by == "by name (listing sockets was denied)"
        assert finder.read().found_by == "by name (listing sockets was denied)"
        assert other.socket_calls == 1  # asked once, not every read
        processes.append(FakeProcess(200, "ollama", ["ollama", "serve"], rss=30 * MiB, listens=[11500]))
        found = finder.read()
        assert (found.pids, found.found_by) == ((200,), "listening on :11500")

    def test_only_a_listening_socket_counts(self) -> None:
        """A client connected to the port is not taken for the server."""
        client = FakeProcess(300, "curl", ["curl"])
        finder = OllamaProcessFinder(
            lambda: [client], port=11434, connections=lambda: [listening(300, 11434, psutil.CONN_ESTABLISHED)]
        )
        assert finder.read().count == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names a process through a symlink, as Linux shows it")
def test_two_real_servers_are_each_measured_by_their_port(tmp_path: Path) -> None:
    """Two `ollama serve` processes on two ports: each port's finder measures its own server and child."""
    with fake_servers(tmp_path, [40, 160]) as (small, large):
        everyone = small.tree() + large.tree()  # both servers, and nothing else on this machine
        found = {}
        for server in (small, large):
            finder = OllamaProcessFinder(lambda: everyone, port=server.port)
            found[server.port] = finder.read()
            tree = {process.pid for process in server.tree()}
            assert set(found[server.port].pids) == tree and len(tree) == 2  # the server and its ballast child
            assert found[server.port].server_pid == server.pid
            assert found[server.port].found_by == f"listening on :{server.port}"
        small_rss, large_rss = found[small.port].rss, found[large.port].rss
        assert small_rss is not None and large_rss is not None
        assert small_rss > 40 * MiB and large_rss > small_rss + 100 * MiB
