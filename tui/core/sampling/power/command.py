"""A user command that prints watts, e.g. for a smart plug or a wall meter."""

from __future__ import annotations

import math
import re
import shlex
import subprocess
from collections.abc import Callable, Sequence

from .base import Availability, PowerReadError, PowerReading, PowerSource

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

Runner = Callable[..., subprocess.CompletedProcess]


def parse_watts(stdout: str) -> float:
    """The first number in the output, as watts; ValueError with the reason otherwise."""
    match = _NUMBER.search(stdout)
    if match is None:
        raise ValueError(f"printed no number: {stdout.strip()[:60]!r}")
    watts = float(match.group())
    if not math.isfinite(watts) or watts < 0:
        raise ValueError(f"printed {match.group()!r}, not a power in watts")
    return watts


class CommandSource(PowerSource):
    """Runs the command each read, with a timeout, and takes the first number it prints.

    The read blocks for up to `timeout` seconds: call the sampler from a worker thread.
    """

    name = "command"
    scope = "wall (command)"

    def __init__(self, command: str | Sequence[str], timeout: float = 2.0, run: Runner = subprocess.run) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        self.timeout = timeout
        self._run = run

    def explain(self) -> list[str]:
        return [
            "wall: the first number the power command prints, as watts, each tick; energy is the trapezoid "
            "integral of the watts"
        ]

    def probe(self) -> Availability:
        try:
            self.read()
        except PowerReadError as exc:
            return Availability.no(str(exc))
        return Availability.ok(shlex.join(self.argv))

    def read(self) -> PowerReading:
        if not self.argv:
            raise PowerReadError("power command is empty")
        try:
            done = self._run(self.argv, capture_output=True, text=True, timeout=self.timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PowerReadError(f"power command timed out after {self.timeout:g} s") from None
        except OSError as exc:
            raise PowerReadError(f"power command could not run: {exc}") from None
        if done.returncode != 0:
            detail = (done.stderr or "").strip().splitlines()
            suffix = f": {detail[0][:120]}" if detail else ""
            raise PowerReadError(f"power command exited with {done.returncode}{suffix}")
        try:
            watts = parse_watts(done.stdout or "")
        except ValueError as exc:
            raise PowerReadError(f"power command {exc}") from None
        return PowerReading(watts, None, self.scope)
