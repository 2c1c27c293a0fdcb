"""A stand-in for the `llama-server` child process that Ollama 0.30+ starts per loaded model.

The fake server (devtools/fake_ollama.py) runs this file as a script with `argv[0]` set to
`llama-server`, so `psutil.Process.cmdline()[0]` is `llama-server` (and, on Linux, the process name
too). The child allocates and touches `--ballast-bytes` of memory, says `ready` on stdout, and
then waits for its stdin to close: the parent closing the pipe, stopping or dying ends it, so a
crashed test run leaves no runner behind.

The script part imports only the standard library: it runs as `python -I -S <this file>`.
"""

from __future__ import annotations

import argparse
import select
import subprocess
import sys
from pathlib import Path

PROCESS_NAME = "llama-server"
READY_LINE = b"ready\n"
PAGE = 4096
READY_TIMEOUT_S = 30.0


class RunnerFailed(Exception):
    """The child ended before it was ready."""


class LlamaServerProcess:
    """One running child, started by `start` and ended by `stop` (idempotent)."""

    def __init__(self, process: subprocess.Popen[bytes], ballast_bytes: int) -> None:
        self.process = process
        self.ballast_bytes = ballast_bytes

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """Kill the child and reap it, so it leaves neither a process nor a zombie."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


def start(model: str, ctx_size: int, port: int, ballast_bytes: int) -> LlamaServerProcess:
    """Start a child for `model` and wait until its ballast is touched; RunnerFailed if it dies first."""
    args = [
        PROCESS_NAME,
        "-I",
        "-S",
        str(Path(__file__).resolve()),
        "--model",
        model,
        "--ctx-size",
        str(ctx_size),
        "--port",
        str(port),
        "--ballast-bytes",
        str(ballast_bytes),
    ]
    process = subprocess.Popen(
        args, executable=sys.executable, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    runner = LlamaServerProcess(process, ballast_bytes)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], READY_TIMEOUT_S)
    line = process.stdout.readline() if ready else b""
    if line != READY_LINE:
        runner.stop()
        raise RunnerFailed(f"exit status {process.returncode}")
    return runner


def _set_process_name(name: str) -> None:
    """Linux: show `name` as the process name (`ps -o comm`, psutil's name()); elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_name = 15
    try:
        ctypes.CDLL(None).prctl(pr_set_name, name.encode(), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=PROCESS_NAME)
    parser.add_argument("--model", required=True)
    parser.add_argument("--ctx-size", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ballast-bytes", type=int, required=True)
    args = parser.parse_args(argv)
    _set_process_name(PROCESS_NAME)
    ballast = bytearray(args.ballast_bytes)
    # bytearray's zeroed pages are not resident until written: touch one byte a page.
    for offset in range(0, len(ballast), PAGE):
        ballast[offset] = 1
    sys.stdout.buffer.write(READY_LINE)
    sys.stdout.buffer.flush()
    sys.stdin.buffer.read()  # until the parent closes the pipe, stops it, or dies


if __name__ == "__main__":
    main()
