"""Each bench script runs in a tiny mode, so a refactor cannot silently break them.

The figures they print depend on the machine and are not checked; that each part ran is. The
scripts mostly wait (for a pseudo-terminal, a child server), so all three start at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.environment import LEAKY_VARIABLES, neutral_directories

BENCH = Path(__file__).resolve().parents[1] / "bench"
# One worker runs them all (with pytest-xdist), so the module fixture starts each script once.
pytestmark = pytest.mark.xdist_group("bench-scripts")

# script: (tiny-mode arguments, lines its output must contain)
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "stream.py": (
        ["--quick"],
        [
            "(a) 200 tokens at 1,000 tok/s",
            "lost characters: [0], answer text identical: True",
            "(b) 20 tokens at 50 tok/s",
            "    ratio   [",
            "    receive floor [",
            "    ollamon first paint  [",
            "    floor first paint    [",
            "    models / floor paint [",
            "    models / client floor [",
            "(d) RSS of one chat of 2 answers",
        ],
    ),
    "startup.py": (
        ["--runs", "1"],
        ["ollamon first paint  [", "    ratio                [", "models / client floor ["],
    ),
    "idle.py": (["--runs", "1", "--seconds", "1"], ["run 1: ollamon", "idle ratio median"]),
    "exporter.py": (
        ["--runs", "1", "--seconds", "1", "--models", "3", "--turns", "2", "--scrapes", "3"],
        [
            "store: 6 turns of 3 models",
            "run 1: idle exporter",
            "run 1: scrape of",
            "run 1: scrape after a turn ended",
            "idle ratio median",
        ],
    ),
    "sampler.py": (["--ticks", "3", "--idle-seconds", "0.5"], ["first tick", "3 ticks: mean", "idle app over"]),
    "store.py": (
        ["--records", "200", "--turns", "5"],
        [
            "bulk setup: 200 records",
            "start_turn + finish_turn",
            "summary()",
            "`ollamon history --summary` (whole process)",
            ", exit 0 ",
            "history screen: first page shown",
        ],
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.Popen[str]]]:
    # Module-scoped, so set up before the per-test neutral environment: build the same one here.
    env = {name: value for name, value in os.environ.items() if name not in LEAKY_VARIABLES}
    env.update(neutral_directories(tmp_path_factory.mktemp("bench")))
    started = {
        script: subprocess.Popen(
            [sys.executable, str(BENCH / script), *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=BENCH.parent,
            env=env,
        )
        for script, (arguments, _) in SCRIPTS.items()
    }
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


# The floors are bare Textual apps that idle.py and stream.py start beside ollamon.
STARTED_BY_OTHERS = {"floors.py"}


def test_every_bench_script_has_a_smoke_test() -> None:
    """Every bench script that runs as a program has an entry in SCRIPTS, so none goes untested."""
    scripts = {path.name for path in BENCH.glob("*.py") if 'if __name__ == "__main__":' in path.read_text()}
    assert scripts - STARTED_BY_OTHERS == set(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_bench_script_runs_in_tiny_mode(runs: dict[str, subprocess.Popen[str]], script: str) -> None:
    """Each bench script in its tiny mode exits 0 and prints a line for each part it ran."""
    out, err = runs[script].communicate(timeout=180)  # only stops a hang; nothing here is timed
    assert runs[script].returncode == 0, err
    missing = [line for line in SCRIPTS[script][1] if line not in out]
    assert not missing, out
