"""Power sources against fake sysfs trees, fake libraries and real captured samples."""

from __future__ import annotations

import ctypes
import io
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import NoReturn, cast

import pytest

from tests.helpers.clocks import ManualClock
from tui.core.sampling.energy import span_energy
from tui.core.sampling.power import nvml as nvml_module
from tui.core.sampling.power.base import Availability, PowerReadError, PowerReading, PowerSource, first_available
from tui.core.sampling.power.battery import NOT_DISCHARGING, BatterySource
from tui.core.sampling.power.command import CommandSource, parse_watts
from tui.core.sampling.power.hwmon import HwmonSource
from tui.core.sampling.power.ioreport import (
    FULL_SCOPE,
    INT64_MIN,
    IOReportSource,
    IOReportSubscription,
    rail_channels,
    rail_of,
    to_joules,
)
from tui.core.sampling.power.nvml import NOT_INSTALLED, NvmlGpu, NvmlLibrary, NvmlPowerSource, shared_library
from tui.core.sampling.power.powermetrics import NEEDS_ROOT, PowermetricsSource, parse_sample, split_documents
from tui.core.sampling.power.rapl import ROOT_ONLY, RaplSource
from tui.core.sampling.power.registry import PowerOptions, SummedSource, build_sources, select_power
from tui.core.sampling.power.smc import (
    CMD_READ_BYTES,
    CMD_READ_KEYINFO,
    SmcConnection,
    SmcKeyData,
    SmcKeyInfo,
    SmcKeyReader,
    SmcSource,
    decode_key,
    decode_value,
    encode_key,
    key_info_request,
    read_request,
)
from tui.core.sampling.sampler import Sampler

# Real captures published by other projects, copied into the repository (sources: tests/data/README.md).
FIXTURES = Path(__file__).resolve().parents[1] / "data"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


# --- RAPL -------------------------------------------------------------------------------------

MAX_RANGE = 262143328850


def rapl_zone(root: Path, zone: str, name: str, energy_uj: int, max_range: int | None = MAX_RANGE) -> Path:
    path = root / zone
    write(path / "name", name)
    write(path / "energy_uj", str(energy_uj))
    if max_range is not None:
        write(path / "max_energy_range_uj", str(max_range))
    return path


class TestRapl:
    def test_sums_packages_and_dram_and_skips_psys_core_and_mmio(self, tmp_path: Path) -> None:
        """RAPL sums the packages and DRAM, leaving out psys, core and the MMIO copy."""
        rapl_zone(tmp_path, "intel-rapl:0", "package-0", 0)
        rapl_zone(tmp_path, "intel-rapl:0:0", "core", 0)
        rapl_zone(tmp_path, "intel-rapl:0:1", "dram", 0)
        rapl_zone(tmp_path, "intel-rapl:1", "package-1", 0)
        rapl_zone(tmp_path, "intel-rapl:2", "psys", 0)
        rapl_zone(tmp_path, "intel-rapl-mmio:0", "package-0", 0)
        source = RaplSource(tmp_path)
        assert sorted(z.name for z in source.zones) == ["dram", "package-0", "package-1"]
        assert source.scope == "package + DRAM"
        assert source.probe() == Availability.ok("package + DRAM")

    def test_watts_from_counter_deltas_over_the_measured_interval(self, tmp_path: Path) -> None:
        """RAPL watts are the counters' joules over the measured interval; the first read has none."""
        clock = ManualClock()
        p0 = rapl_zone(tmp_path, "intel-rapl:0", "package-0", 1_000_000)
        p1 = rapl_zone(tmp_path, "intel-rapl:1", "package-1", 5_000_000)
        source = RaplSource(tmp_path, clock=clock)
        first = source.read()
        assert first.watts is None and first.energy_j == 0.0 and first.scope == "package"
        clock.now += 2.0
        write(p0 / "energy_uj", str(1_000_000 + 30_000_000))
        write(p1 / "energy_uj", str(5_000_000 + 10_000_000))
        reading = source.read()
        assert reading.watts == pytest.approx(20.0)
        assert reading.energy_j == pytest.approx(40.0)

    def test_wrap_around_adds_the_range_once(self, tmp_path: Path) -> None:
        """A RAPL counter that wraps adds its max_energy_range once."""
        clock = ManualClock()
        zone = rapl_zone(tmp_path, "intel-rapl:0", "package-0", MAX_RANGE - 1_000_000)
        source = RaplSource(tmp_path, clock=clock)
        source.read()
        clock.now += 2.0
        write(zone / "energy_uj", "500000")
        assert source.read().watts == pytest.approx(0.75)  # 1.5 J over 2 s

    def test_wrap_with_unreadable_range_drops_only_that_interval(self, tmp_path: Path) -> None:
        """A wrap with no readable range drops that interval only; the next one reads again."""
        clock = ManualClock()
        zone = rapl_zone(tmp_path, "intel-rapl:0", "package-0", 9_000_000, max_range=None)
        source = RaplSource(tmp_path, clock=clock)
        source.read()
        clock.now += 1.0
        write(zone / "energy_uj", "1000000")
        dropped = source.read()
        assert dropped.watts is None and dropped.energy_j is None
        clock.now += 1.0
        write(zone / "energy_uj", "4000000")
        assert source.read().watts == pytest.approx(3.0)

    def test_a_corrupt_value_loses_one_interval_and_the_answer_estimates_it(self, tmp_path: Path) -> None:
        """A corrupt RAPL value drops one interval (None, not the total); the answer still has its joules."""
        # 20 W for 6 s at 1 Hz; at t=3 energy_uj reads 0 once (a glitch, not a wrap: the known
        # range would turn it into 262 kJ in one second).
        clock = ManualClock(0.0)
        zone = rapl_zone(tmp_path, "intel-rapl:0", "package-0", 0)
        source = RaplSource(tmp_path, clock=clock)
        readings = []
        for second, energy_uj in enumerate([0, 20_000_000, 40_000_000, 0, 80_000_000, 100_000_000, 120_000_000]):
            clock.now = float(second)
            write(zone / "energy_uj", str(energy_uj))
            readings.append((clock.now, source.read()))
        dropped = readings[3][1]
        assert dropped.watts is None and dropped.energy_j is None and "interval dropped" in dropped.note
        assert readings[4][1].watts == pytest.approx(20.0)  # read from the last good sample, across both seconds
        assert span_energy(readings) == pytest.approx((120.0, 6.0))

    def test_root_only_counters_say_why(self, tmp_path: Path) -> None:
        """Root-only RAPL counters make the source unavailable with a reason naming the CVE."""
        rapl_zone(tmp_path, "intel-rapl:0", "package-0", 1)

        def read_text(path: Path) -> str:
            # Tests run as root, so chmod cannot simulate this: inject the error.
            if path.name == "energy_uj":
                raise PermissionError(13, "Permission denied", str(path))
            return path.read_text()

        source = RaplSource(tmp_path, read_text=read_text)
        assert source.probe() == Availability.no(ROOT_ONLY)
        assert "CVE-2020-8694" in ROOT_ONLY
        with pytest.raises(PowerReadError, match="root-only"):
            source.read()

    def test_psys_only_when_there_is_no_package(self, tmp_path: Path) -> None:
        """psys is used only when there is no package zone, and the scope says platform."""
        rapl_zone(tmp_path, "intel-rapl:0", "psys", 0)
        assert RaplSource(tmp_path).scope == "platform (RAPL psys)"

    def test_missing_tree_and_empty_tree(self, tmp_path: Path) -> None:
        """A missing or empty powercap tree makes RAPL unavailable, and a read fails."""
        assert not RaplSource(tmp_path / "absent").probe().available
        assert RaplSource(tmp_path).probe() == Availability.no("no RAPL package or psys zone")
        with pytest.raises(PowerReadError, match="no RAPL"):
            RaplSource(tmp_path).read()


# --- hwmon --------------------------------------------------------------------------------------


class TestHwmon:
    def test_sums_amdgpu_cards_preferring_average(self, tmp_path: Path) -> None:
        """hwmon sums the amdgpu cards, taking power1_average over power1_input, and skips others."""
        write(tmp_path / "hwmon0" / "name", "k10temp")
        write(tmp_path / "hwmon0" / "power1_input", "99000000")
        write(tmp_path / "hwmon1" / "name", "amdgpu")
        write(tmp_path / "hwmon1" / "power1_average", "45000000")
        write(tmp_path / "hwmon1" / "power1_input", "47000000")
        write(tmp_path / "hwmon2" / "name", "amdgpu")
        write(tmp_path / "hwmon2" / "power1_input", "12500000")
        source = HwmonSource(tmp_path)
        assert source.probe().available
        reading = source.read()
        assert reading.watts == pytest.approx(57.5)
        assert reading.components == {"hwmon1": 45.0, "hwmon2": 12.5}
        assert reading.scope == "GPU (amdgpu)" and reading.energy_j is None

    def test_no_amdgpu(self, tmp_path: Path) -> None:
        """Without an amdgpu hwmon device the source is unavailable and says so."""
        write(tmp_path / "hwmon0" / "name", "coretemp")
        assert HwmonSource(tmp_path).probe() == Availability.no("no amdgpu hwmon device")

    def test_card_without_power_files(self, tmp_path: Path) -> None:
        """An amdgpu card without power files is unavailable: no readable power."""
        write(tmp_path / "hwmon0" / "name", "amdgpu")
        availability = HwmonSource(tmp_path).probe()
        assert not availability.available and "no readable power" in availability.why


# --- battery ------------------------------------------------------------------------------------


class TestBattery:
    def test_discharging_power_now(self, tmp_path: Path) -> None:
        """A discharging battery's power_now is the system's draw."""
        write(tmp_path / "BAT0" / "status", "Discharging")
        write(tmp_path / "BAT0" / "power_now", "12500000")
        write(tmp_path / "AC" / "online", "0")
        source = BatterySource(tmp_path)
        assert source.probe().available
        assert source.read().watts == pytest.approx(12.5)

    def test_current_times_voltage_and_negative_sign(self, tmp_path: Path) -> None:
        """Without power_now the draw is |current| × voltage."""
        write(tmp_path / "BAT1" / "status", "Discharging")
        write(tmp_path / "BAT1" / "current_now", "-1000000")
        write(tmp_path / "BAT1" / "voltage_now", "12000000")
        assert BatterySource(tmp_path).read().watts == pytest.approx(12.0)

    @pytest.mark.parametrize("status", ["Charging", "Full", "Not charging"])
    def test_charging_or_full_is_not_system_draw(self, tmp_path: Path, status: str) -> None:
        """A battery that is charging, full or not charging is not the system's draw."""
        write(tmp_path / "BAT0" / "status", status)
        write(tmp_path / "BAT0" / "power_now", "30000000")
        source = BatterySource(tmp_path)
        assert source.probe() == Availability.no(NOT_DISCHARGING)
        with pytest.raises(PowerReadError, match="not system draw"):
            source.read()

    def test_no_battery(self, tmp_path: Path) -> None:
        """Without a battery the source says there is none."""
        assert BatterySource(tmp_path).probe() == Availability.no("no battery")


# --- powermetrics -------------------------------------------------------------------------------


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / "powermetrics" / name).read_bytes()


class TestPowermetricsParsing:
    def test_m1_energy_over_elapsed_equals_power(self) -> None:
        """An M1 sample's energy over its elapsed time equals its reported power."""
        sample = parse_sample(fixture_bytes("powermetrics-output-m1.xml"))
        assert sample.elapsed_s == pytest.approx(2.01917875)
        assert sample.cpu_w == pytest.approx(0.0440773)
        assert 89e-3 / sample.elapsed_s == pytest.approx(sample.cpu_w, rel=1e-3)  # 89 mJ / 2.019 s
        assert sample.energy_j == pytest.approx((89 + 31 + 0) / 1e3)

    @pytest.mark.parametrize(
        "name", ["powermetrics-output-m1.xml", "powermetrics-output-m1-2.xml", "powermetrics-output-m2ultra.xml"]
    )
    def test_combined_is_cpu_plus_gpu_plus_ane(self, name: str) -> None:
        """The parsed combined power equals powermetrics' own combined_power."""
        import plistlib

        processor = plistlib.loads(fixture_bytes(name))["processor"]
        sample = parse_sample(fixture_bytes(name))
        assert sample.combined_w == pytest.approx(processor["combined_power"] / 1e3, rel=1e-4)

    def test_m2_ultra_gpu(self) -> None:
        """The M2 Ultra's GPU milliwatts are read as a rate, not divided by the interval again."""
        sample = parse_sample(fixture_bytes("powermetrics-output-m2ultra.xml"))
        assert sample.gpu_w == pytest.approx(70.9, abs=0.05)
        # mW already is a rate: dividing by the interval again (asitop's bug) would give ~69.3 W.
        assert sample.gpu_w / sample.elapsed_s != pytest.approx(70.9, abs=0.5)

    def test_split_documents_keeps_the_incomplete_rest(self) -> None:
        """NUL-separated documents are split, and the unfinished tail is kept for later."""
        documents, rest = split_documents(b"<a/>\0<b/>\0<c")
        assert documents == [b"<a/>", b"<b/>"] and rest == b"<c"


class FakeStream:
    """A pipe that hands out chunks, then blocks like a live process until terminated."""

    def __init__(self, chunks: list[bytes], release: threading.Event) -> None:
        self.chunks = chunks
        self.drained = threading.Event()
        self.release = release

    def read1(self, size: int) -> bytes:
        if self.chunks:
            return self.chunks.pop(0)
        self.drained.set()
        self.release.wait(5)
        return b""


class FakeProcess:
    def __init__(self, chunks: list[bytes], stderr: bytes = b"", returncode: int = -15, live: bool = True) -> None:
        self.terminated = threading.Event()
        if not live:
            self.terminated.set()
        self.stdout = FakeStream(chunks, self.terminated)
        self.stderr = io.BytesIO(stderr)
        self.returncode = returncode

    def poll(self) -> int | None:
        return self.returncode if self.terminated.is_set() else None

    def terminate(self) -> None:
        self.terminated.set()

    def wait(self) -> int:
        return self.returncode


class TestPowermetricsSource:
    def test_background_reader_takes_every_document_across_chunk_boundaries(self) -> None:
        """Every document is read across chunks: latest watts, summed energy, via sudo -n."""
        names = ["powermetrics-output-m1.xml", "powermetrics-output-m1-2.xml", "powermetrics-output-m2ultra.xml"]
        stream = b"".join(fixture_bytes(n) + b"\0" for n in names)
        chunks = [stream[i : i + 1000] for i in range(0, len(stream), 1000)]
        process = FakeProcess(chunks)
        argv: list[list[str]] = []

        def popen(a: list[str], **kw: object) -> FakeProcess:
            argv.append(a)
            return process

        source = PowermetricsSource(platform="darwin", popen=popen)
        source.start()
        assert process.stdout.drained.wait(5)
        reading = source.read()
        source.close()
        assert argv[0][:2] == ["sudo", "-n"]  # never prompts for a password
        expected = [parse_sample(fixture_bytes(n)) for n in names]
        assert reading.watts == pytest.approx(expected[-1].combined_w)
        assert reading.energy_j == pytest.approx(sum(s.energy_j for s in expected))
        assert reading.components["GPU"] == pytest.approx(expected[-1].gpu_w)

    def test_sudo_without_nopasswd_rule(self) -> None:
        """sudo asking for a password gives no sample and an error saying root is needed."""
        process = FakeProcess([], stderr=b"sudo: a password is required\n", returncode=1, live=False)
        source = PowermetricsSource(platform="darwin", popen=lambda a, **kw: process)
        assert source.wait_for_sample(5) is False
        with pytest.raises(PowerReadError) as failure:
            source.read()
        assert str(failure.value) == NEEDS_ROOT

    def test_probe(self) -> None:
        """powermetrics is only for macOS and needs passwordless sudo."""

        def run(rc: int) -> Callable[..., subprocess.CompletedProcess[str]]:
            return lambda argv, **kw: subprocess.CompletedProcess(argv, rc, "", "")

        assert PowermetricsSource(platform="linux").probe() == Availability.no("not macOS")
        assert PowermetricsSource(platform="darwin", run=run(1)).probe() == Availability.no(NEEDS_ROOT)
        assert PowermetricsSource(platform="darwin", run=run(0)).probe().available


# --- IOReport -----------------------------------------------------------------------------------


def channel_list(name: str) -> list[tuple[str, str]]:
    lines = (FIXTURES / "ioreport" / name).read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [(name, unit) for name, unit in rows]


class TestIOReportChannels:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            (
                "m5_max_energy_model.tsv",
                {"CPU": ["CPU Energy"], "GPU": ["GPU Energy"], "ANE": ["ANE0"], "DRAM": ["DRAM0"]},
            ),
            (
                "m1_ultra_energy_model.tsv",
                {
                    "CPU": ["DIE_0_CPU Energy", "DIE_1_CPU Energy"],
                    "GPU": ["GPU Energy"],
                    "ANE": ["ANE0_0", "ANE0_1"],
                    "DRAM": ["DRAM0_0", "DRAM0_1"],
                },
            ),
        ],
    )
    def test_exact_matching_picks_one_rail_per_class(self, name: str, expected: dict[str, list[str]]) -> None:
        """Exact names pick each chip's CPU, GPU, ANE and DRAM rails, not the 100+ channels with CPU."""
        channels = channel_list(name)
        picked: dict[str, list[str]] = {}
        for channel, _ in channels:
            if (rail := rail_of(channel)) is not None:
                picked.setdefault(rail, []).append(channel)
        assert picked == expected
        loose = [c for c, _ in channels if "CPU" in c]
        assert len(loose) > 100  # what a `"CPU" in name` match would have summed

    def test_units_follow_each_channel_label(self) -> None:
        """Each IOReport channel is converted with its own unit label."""
        channels = channel_list("m5_max_energy_model.tsv")
        assert dict(channels)["GPU Energy"] == "nJ" and dict(channels)["CPU Energy"] == "mJ"
        # Every channel reports 2e9 of its own unit over 2 s: the rails the reader sums, in joules.
        units = dict(channels)
        joules: dict[str, float] = {}
        for name, rail in rail_channels(units).items():
            joules[rail] = joules.get(rail, 0.0) + to_joules(2e9, units[name])
        assert joules == pytest.approx({"CPU": 2e6, "GPU": 2.0, "ANE": 2e6, "DRAM": 2e6})
        loose_cpu = sum(to_joules(2e9, unit) for name, unit in channels if "CPU" in name)
        assert loose_cpu > 100 * joules["CPU"]


class TestIOReportUnits:
    @pytest.mark.parametrize(("label", "joules"), [("mJ", 5e-3), (" uJ", 5e-6), ("nJ ", 5e-9), (" mJ ", 5e-3)])
    def test_trimmed_labels(self, label: str, joules: float) -> None:
        """Unit labels with spaces around them still convert to joules."""
        assert to_joules(5, label) == pytest.approx(joules)

    def test_unknown_unit_is_an_error_not_a_guess(self) -> None:
        """An unknown unit label is an error, not a guess."""
        with pytest.raises(ValueError, match="unknown"):
            to_joules(5, "W")

    def test_names_that_only_look_like_rails(self) -> None:
        """Channels that only look like rails (GPU0, PCPU, MCPU0_0...) are not rails."""
        assert rail_of("GPU0") is None and rail_of("GPU SRAM0_0") is None and rail_of("PCPU") is None
        assert rail_of("MCPU0_0") is None and rail_of("apciec0 Energy") is None


class FakeSubscription:
    """Raw samples whose counters grow by `deltas`, one list per sample after the first."""

    def __init__(self, deltas: list[list[tuple[str, str, float]]]) -> None:
        self.deltas = deltas
        self.next_ref = 1
        self.counters: dict[str, tuple[str, float]] = {name: (unit, 0.0) for name, unit, _ in deltas[0]}
        self.samples: dict[int, list[tuple[str, str, float, float | None]]] = {}
        self.released: list[int] = []
        self.closed = False

    def sample(self) -> int:
        self.next_ref += 1
        if self.next_ref > 2:
            for name, unit, value in self.deltas.pop(0):
                self.counters[name] = (unit, self.counters.get(name, (unit, 0.0))[1] + value)
        self.samples[self.next_ref] = [(name, unit, value, None) for name, (unit, value) in self.counters.items()]
        return self.next_ref

    def readings(self, ref: int) -> list[tuple[str, str, float, float | None]]:
        return self.samples[ref]

    def release(self, ref: int) -> None:
        self.released.append(ref)

    def close(self) -> None:
        self.closed = True


def as_subscription(fake: FakeSubscription | Counters) -> IOReportSubscription:
    """A fake as IOReportSource's subscribe hook returns it: the hook is typed to the real ctypes class."""
    return cast(IOReportSubscription, fake)


class TestIOReportSource:
    def test_the_first_delta_only_starts_each_rails_span(self) -> None:
        """The first delta only starts each rail's span; later ones give watts, and samples are released."""
        clock = ManualClock()
        subscription = FakeSubscription(
            [
                [("CPU Energy", "mJ", 3000), ("GPU Energy", "nJ ", 5e9), ("MCPU0_0", "mJ", 99999)],
                [("CPU Energy", "mJ", 3000), ("GPU Energy", "nJ ", 5e9)],
            ]
        )
        source = IOReportSource(platform="darwin", clock=clock, subscribe=lambda: as_subscription(subscription))
        assert source.probe().available
        assert source.read().watts is None
        clock.now += 2.0
        first = source.read()
        # Energy from before the first sample may sit in a batched counter's first step.
        assert first.watts is None and first.energy_j == pytest.approx(8.0)
        clock.now += 2.0
        reading = source.read()
        assert reading.watts == pytest.approx(4.0)  # (3 J + 5 J) / 2 s
        assert reading.components == pytest.approx({"CPU": 1.5, "GPU": 2.5})
        assert reading.energy_j == pytest.approx(16.0)
        assert subscription.released == [2, 3, 4]  # each sample is released once read
        source.close()
        assert subscription.closed and subscription.released == [2, 3, 4]

    def test_not_macos(self) -> None:
        """IOReport is unavailable off macOS."""
        assert IOReportSource(platform="linux").probe() == Availability.no("not macOS")


class Counters:
    """IOReport as the library behaves: cumulative counters per channel, samples are snapshots,
    a delta is the difference of two snapshots. `rails` maps a channel to (unit, units per tick,
    ticks between publishes); `tick()` advances one second."""

    def __init__(self, rails: dict[str, tuple[str, float, int]]) -> None:
        self.rails = rails
        self.accrued = dict.fromkeys(rails, 0.0)  # energy so far, published or not
        self.published = dict(self.accrued)
        self.seconds = 0
        self.snapshots: dict[int, dict[str, float]] = {}
        self.next_ref = 0
        self.released: list[int] = []
        self.fail_delta = 0
        self.corrupt: dict[str, float] = {}  # channel → the delta the next read reports (INT64_MIN: unreadable)
        self.reported: dict[str, float] = {}
        self.closed = False

    def tick(self) -> None:
        self.seconds += 1
        for name, (_, per_second, every) in self.rails.items():
            self.accrued[name] += per_second
            if self.seconds % every == 0:
                self.published[name] = self.accrued[name]

    def sample(self) -> int:
        self.next_ref += 1
        self.snapshots[self.next_ref] = dict(self.published)
        return self.next_ref

    def delta_channels(self, before: int, after: int) -> list[tuple[str, str, float]]:
        if self.fail_delta:
            self.fail_delta -= 1
            raise OSError("IOReportCreateSamplesDelta failed")
        corrupt, self.corrupt = self.corrupt, {}
        return [
            (name, unit, corrupt.get(name, self.snapshots[after][name] - self.snapshots[before][name]))
            for name, (unit, _, _) in self.rails.items()
        ]

    def readings(self, ref: int) -> list[tuple[str, str, float, float | None]]:
        """The raw sample: cumulative counters without driver timestamps (the fallback path)."""
        if self.fail_delta:
            self.fail_delta -= 1
            raise OSError("IOReport sample unreadable")
        corrupt, self.corrupt = self.corrupt, {}
        out: list[tuple[str, str, float, float | None]] = []
        for name, (unit, _, _) in self.rails.items():
            value = self.snapshots[ref][name]
            if name in corrupt:
                bad = corrupt[name]
                value = bad if bad == INT64_MIN else self.reported.get(name, 0.0) + bad
            else:
                self.reported[name] = value
            out.append((name, unit, value, None))
        return out

    def release(self, ref: int) -> None:
        self.released.append(ref)

    def close(self) -> None:
        self.closed = True

    @property
    def live(self) -> set[int]:
        return set(self.snapshots) - set(self.released)


# A 10 W CPU whose mJ counter publishes every 2 s, beside a continuous 5 W GPU in nJ (all-smi #410).
BATCHED = {
    "CPU Energy": ("mJ", 10_000.0, 2),
    "GPU Energy": ("nJ", 5e9, 1),
    "ANE0": ("mJ", 0.0, 2),
    "DRAM0": ("mJ", 1_000.0, 2),
}


def ioreport_over(counters: Counters) -> tuple[IOReportSource, ManualClock]:
    clock = ManualClock(0.0)
    return IOReportSource(platform="darwin", clock=clock, subscribe=lambda: as_subscription(counters)), clock


def advance(source: IOReportSource, clock: ManualClock, counters: Counters, seconds: int) -> list[PowerReading]:
    readings = []
    for _ in range(seconds):
        counters.tick()
        clock.now += 1.0
        readings.append(source.read())
    return readings


class TestIOReportBatches:
    def test_batched_mj_beside_continuous_nj_reads_the_true_total(self) -> None:
        """A batched mJ counter beside a continuous nJ one reads the true 16 W, not 6 and 26 W."""
        counters = Counters(BATCHED)
        source, clock = ioreport_over(counters)
        source.read()
        readings = advance(source, clock, counters, 12)
        settled = [r.watts for r in readings[4:]]
        # One delta per tick over the tick read 6, 26, 6, 26 W here.
        assert settled == pytest.approx([16.0] * len(settled), rel=0.05)
        assert readings[-1].components == pytest.approx({"CPU": 10.0, "GPU": 5.0, "DRAM": 1.0})
        assert all(r.watts is None for r in readings[:3])  # each rail needs two moves for a span
        assert readings[-1].energy_j == pytest.approx(16.0 * 12)  # every published joule counted

    def test_a_rail_that_stops_reads_zero_after_the_quiet_window(self) -> None:
        """A rail that stops is held between batches and reads zero after its quiet window."""
        counters = Counters({"GPU Energy": ("nJ", 5e9, 1), "ANE0": ("mJ", 2_000.0, 2)})
        source, clock = ioreport_over(counters)
        source.read()
        assert advance(source, clock, counters, 6)[-1].components["ANE"] == pytest.approx(2.0)
        counters.rails["ANE0"] = ("mJ", 0.0, 2)
        readings = advance(source, clock, counters, 5)
        assert readings[1].components["ANE"] == pytest.approx(2.0)  # between batches: held
        assert readings[-1].components["ANE"] == 0.0 and readings[-1].watts == pytest.approx(5.0)

    def test_sampler_peaks_and_energy_come_from_the_corrected_series(self) -> None:
        """The sampler's peak and mean watts come from the corrected readings, not doubled ticks."""
        counters = Counters(BATCHED)
        source, clock = ioreport_over(counters)
        sampler = Sampler(Unreadable(), Unreadable(), [source], clock=clock, wall_clock=clock)
        sampler.tick()
        for _ in range(12):
            counters.tick()
            clock.now += 1.0
            sampler.tick()
        peaks = sampler.peaks(4.0, 12.0)
        assert peaks is not None
        assert peaks.watts_peak == pytest.approx(16.0, rel=0.05)  # not the 26 W of a doubled tick
        # The counters' delta: whole batches here; a span's ends may each be one batch off.
        assert peaks.watts_mean == pytest.approx(16.0, rel=0.05)


class Unreadable:
    name = "unreadable"

    def read(self) -> NoReturn:
        raise OSError("not in this test")


class TestIOReportFrozenCpu:
    def test_cpu_and_dram_stuck_at_zero_label_the_figure_by_what_counts(self) -> None:
        """CPU and DRAM counters stuck at zero relabel the figure 'GPU only', with a note why."""
        counters = Counters(
            {
                "CPU Energy": ("mJ", 0.0, 2),
                "GPU Energy": ("nJ", 5e9, 1),
                "ANE0": ("mJ", 0.0, 2),
                "DRAM0": ("mJ", 0.0, 2),
            }
        )
        source, clock = ioreport_over(counters)
        source.read()
        early = advance(source, clock, counters, 3)[-1]
        assert early.scope == FULL_SCOPE and not early.note  # too soon to tell
        reading = advance(source, clock, counters, 5)[-1]
        assert reading.scope == source.scope == "GPU only"
        assert "CPU and DRAM" in reading.note and "macOS 27" in reading.note
        assert reading.watts == pytest.approx(5.0) and set(reading.components) == {"GPU"}

    def test_the_label_returns_when_the_cpu_counter_moves_again(self) -> None:
        """The full label returns once the CPU counter moves again."""
        counters = Counters({"CPU Energy": ("mJ", 0.0, 2), "GPU Energy": ("nJ", 5e9, 1), "DRAM0": ("mJ", 0.0, 2)})
        source, clock = ioreport_over(counters)
        source.read()
        assert advance(source, clock, counters, 8)[-1].scope == "GPU only"
        counters.rails["CPU Energy"] = ("mJ", 3_000.0, 2)
        assert advance(source, clock, counters, 2)[-1].scope == FULL_SCOPE

    def test_a_busy_batched_cpu_is_not_frozen(self) -> None:
        """A batched CPU counter that moves every other tick is never taken for frozen."""
        counters = Counters(BATCHED)
        source, clock = ioreport_over(counters)
        source.read()
        assert all(r.scope == FULL_SCOPE and not r.note for r in advance(source, clock, counters, 20))


class TestIOReportBadValues:
    @pytest.mark.parametrize(
        ("value", "why"),
        [
            (float(INT64_MIN), "INT64_MIN"),
            (-4_000.0, "stepped back"),
            (float(2**63 - 1), "more than any Apple Silicon rail"),  # a delta against INT64_MIN, overflowed
        ],
    )
    def test_the_interval_is_dropped_and_energy_stays_sound(self, value: float, why: str) -> None:
        """A counter value no delta can be drops its interval with a note; energy never falls."""
        counters = Counters(BATCHED)
        source, clock = ioreport_over(counters)
        source.read()
        before = advance(source, clock, counters, 6)[-1]
        assert before.energy_j is not None
        counters.corrupt = {"CPU Energy": value}
        dropped = advance(source, clock, counters, 1)[0]
        assert dropped.watts is None and dropped.energy_j is None
        assert "interval dropped" in dropped.note and why in dropped.note
        after = advance(source, clock, counters, 6)
        assert all(r.energy_j is not None and r.energy_j >= before.energy_j for r in after)
        assert after[-1].watts == pytest.approx(16.0, rel=0.05)


class TestIOReportFailedTick:
    def test_a_failed_delta_keeps_the_previous_sample(self) -> None:
        """A failed delta keeps the previous sample, so the next delta spans both ticks."""
        counters = Counters({"GPU Energy": ("nJ", 5e9, 1)})
        source, clock = ioreport_over(counters)
        source.read()
        advance(source, clock, counters, 2)
        counters.fail_delta = 1
        counters.tick()
        clock.now += 1.0
        with pytest.raises(PowerReadError, match="sample unreadable"):
            source.read()
        after = advance(source, clock, counters, 1)[0]
        # The delta spans the failed tick too: 10 J over 2 s, not 5 J over 2 s.
        assert after.watts == pytest.approx(5.0)
        assert after.energy_j == pytest.approx(20.0)
        source.close()
        assert counters.live == set() and counters.closed  # the failed tick's sample was released too


# --- SMC ----------------------------------------------------------------------------------------


class TestSmc:
    def test_key_and_type_codes(self) -> None:
        """SMC keys encode to and decode from four-character codes; other lengths are refused."""
        assert encode_key("PSTR") == 0x50535452
        assert encode_key("flt ") == 0x666C7420
        assert decode_key(0x50535452) == "PSTR"
        with pytest.raises(ValueError):
            encode_key("PST")

    def test_flt_is_little_endian_float32(self) -> None:
        """SMC 'flt ' values are little-endian float32; other types are unsupported."""
        assert decode_value(encode_key("flt "), struct.pack("<f", 45.9) + b"\0" * 28) == pytest.approx(45.9, rel=1e-6)
        with pytest.raises(ValueError, match="unsupported"):
            decode_value(encode_key("ui32"), b"\0\0\0\1")

    def test_struct_matches_the_c_layout(self) -> None:
        """SmcKeyData has the C struct's size and field offsets."""
        assert ctypes.sizeof(SmcKeyData) == 80
        assert SmcKeyData.key_info.offset == 28
        assert SmcKeyData.data8.offset == 42
        assert SmcKeyData.bytes.offset == 48

    def test_requests(self) -> None:
        """Key-info and read requests carry the key, the command and the data size."""
        info_request = key_info_request("PSTR")
        assert info_request.key == 0x50535452 and info_request.data8 == CMD_READ_KEYINFO == 9
        info = SmcKeyInfo(4, encode_key("flt "), 0)
        read = read_request("PSTR", info)
        assert read.data8 == CMD_READ_BYTES == 5 and read.key_info.data_size == 4

    def test_not_macos(self) -> None:
        """The SMC source is unavailable off macOS."""
        assert SmcSource(platform="linux").probe() == Availability.no("not macOS")

    def test_key_info_is_asked_once_per_key(self) -> None:
        """A key's info is asked of the SMC once; later reads only read bytes."""
        commands: list[int] = []

        def call(request: SmcKeyData) -> SmcKeyData:
            commands.append(request.data8)
            response = SmcKeyData()
            response.key_info = SmcKeyInfo(4, encode_key("flt "), 0)
            response.bytes[:4] = list(struct.pack("<f", 12.5))
            return response

        reader = SmcKeyReader(call)
        assert [reader.read_key("PSTR") for _ in range(3)] == [12.5] * 3
        assert commands == [CMD_READ_KEYINFO, CMD_READ_BYTES, CMD_READ_BYTES, CMD_READ_BYTES]


class FakeSmc:
    def __init__(self, pstr: float) -> None:
        self.pstr = pstr
        self.closed = False

    def read_key(self, key: str) -> float:
        return self.pstr

    def close(self) -> None:
        self.closed = True


def as_connection(fake: FakeSmc) -> SmcConnection:
    """A fake as SmcSource's connect hook returns it: the hook is typed to the real ctypes class."""
    return cast(SmcConnection, fake)


class TestSmcFloor:
    def soc(self, **components: float) -> FakeSource:
        source = FakeSource("ioreport", FULL_SCOPE, {"cpu", "gpu", "ane", "dram"}, watts=sum(components.values()))
        source.components = components
        return source

    def test_pstr_below_the_soc_shows_the_soc(self) -> None:
        """A PSTR below CPU + GPU + ANE shows that sum with a note; a higher PSTR stands."""
        smc = FakeSmc(3.0)
        floor = self.soc(CPU=2.0, GPU=4.0, ANE=0.5, DRAM=1.0)
        source = SmcSource("darwin", floor=floor, connect=lambda: as_connection(smc))
        reading = source.read()
        assert reading.watts == pytest.approx(6.5)  # CPU + GPU + ANE; DRAM is not in macmon's floor
        assert reading.components == {"PSTR": 3.0, "CPU + GPU + ANE": 6.5}
        assert "PSTR read 3.0 W" in reading.note
        smc.pstr = 20.0
        assert source.read().watts == 20.0
        source.close()
        assert smc.closed and floor.closed

    def test_without_a_floor_reading_pstr_stands_and_says_why(self) -> None:
        """Without an IOReport floor PSTR stands alone and the note says the floor is missing."""
        floor = FakeSource("ioreport", FULL_SCOPE, {"cpu"}, available=False)
        source = SmcSource("darwin", floor=floor, connect=lambda: as_connection(FakeSmc(9.0)))
        reading = source.read()
        assert reading.watts == 9.0 and "ioreport missing" in reading.note
        assert any("max(PSTR" in line for line in source.explain())


# --- NVML ---------------------------------------------------------------------------------------


class FakeNVMLError(Exception):
    pass


class FakeLibraryMismatch(Exception):
    """pynvml's NVMLLibraryMismatchError: an Exception, not an NVMLError."""


class FakeNvml:
    """The parts of pynvml the readers use."""

    NVMLError = FakeNVMLError
    NVMLLibraryMismatchError = FakeLibraryMismatch

    def __init__(
        self,
        energy_mj: list[int] | None = None,
        power_mw: list[int] | None = None,
        init_error: str | None = None,
        mismatch: set[str] | None = None,
        missing: set[str] | None = None,
        reserved: int = 0,
    ) -> None:
        self.energy_mj = energy_mj
        self.power_mw = power_mw or [0] * len(energy_mj or [])
        self.init_error = init_error
        self.mismatch = mismatch or set()  # functions that raise NVMLLibraryMismatchError
        self.missing = missing or set()  # functions the driver lacks (NVMLError_FunctionNotFound)
        self.reserved = reserved  # memory the driver reserves: in v1's "used", not in v2's
        self.inits = self.shutdowns = 0

    def _check(self, function: str) -> None:
        if function in self.mismatch:
            raise FakeLibraryMismatch(f"Unversioned function called: {function}")
        if function in self.missing:
            raise FakeNVMLError("Function Not Found")

    def nvmlInit(self) -> None:
        if self.init_error:
            raise FakeNVMLError(self.init_error)
        self.inits += 1

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.power_mw)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        self._check("nvmlDeviceGetTotalEnergyConsumption")
        if self.energy_mj is None:
            raise FakeNVMLError("Not Supported")
        return self.energy_mj[handle]

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return self.power_mw[handle]

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return b"NVIDIA H100 80GB HBM3"

    nvmlMemory_v2 = 0x02000028

    def nvmlDeviceGetMemoryInfo(self, handle: int, version: int | None = None) -> SimpleNamespace:
        if version is None:
            self._check("nvmlDeviceGetMemoryInfo")
            return SimpleNamespace(used=10 * 2**30 + self.reserved, total=80 * 2**30, free=70 * 2**30 - self.reserved)
        assert version == self.nvmlMemory_v2
        self._check("nvmlDeviceGetMemoryInfo_v2")
        free = 70 * 2**30 - self.reserved
        return SimpleNamespace(version=version, total=80 * 2**30, reserved=self.reserved, free=free, used=10 * 2**30)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=40 + 20 * handle, memory=5)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> list[SimpleNamespace]:
        self._check("nvmlDeviceGetComputeRunningProcesses")
        return self._processes()

    def nvmlDeviceGetComputeRunningProcesses_v2(self, handle: int) -> list[SimpleNamespace]:
        self._check("nvmlDeviceGetComputeRunningProcesses_v2")
        return self._processes()

    def _processes(self) -> list[SimpleNamespace]:
        return [
            SimpleNamespace(pid=4242, usedGpuMemory=8 * 2**30),
            SimpleNamespace(pid=7, usedGpuMemory=2**30),
            SimpleNamespace(pid=4243, usedGpuMemory=None),
        ]


class TestNvml:
    def test_energy_counter_path(self) -> None:
        """With a total energy counter NVML watts are the joules over the interval."""
        clock = ManualClock()
        nvml = FakeNvml(energy_mj=[1_000_000, 2_000_000])
        source = NvmlPowerSource(NvmlLibrary(nvml), clock=clock)
        assert source.probe() == Availability.ok("total energy counter")
        assert source.read().watts is None
        clock.now += 1.5
        nvml.energy_mj = [1_100_000, 2_050_000]
        reading = source.read()
        assert reading.watts == pytest.approx(100.0)  # 150 J over 1.5 s
        assert reading.energy_j == pytest.approx(150.0) and reading.scope == "GPU"

    def test_an_implausible_jump_is_dropped_and_the_answer_estimates_it(self) -> None:
        """A GPU counter's one-off jump drops one interval (None, not the total); the answer keeps 300 W."""
        clock = ManualClock(0.0)
        nvml = FakeNvml(energy_mj=[0])
        source = NvmlPowerSource(NvmlLibrary(nvml), clock=clock)
        readings = []
        for second, energy_mj in enumerate([0, 300_000, 600_000, 2**40, 1_200_000, 1_500_000]):
            clock.now = float(second)
            nvml.energy_mj = [energy_mj]
            readings.append((clock.now, source.read()))
        dropped = readings[3][1]
        assert dropped.watts is None and dropped.energy_j is None and "interval dropped" in dropped.note
        assert readings[4][1].watts == pytest.approx(300.0)
        assert span_energy(readings) == pytest.approx((1500.0, 5.0))

    def test_a_counter_that_fell_reads_again_from_its_new_value(self) -> None:
        """A GPU counter that fell (a driver reload) drops that interval and reads on from the new value."""
        clock = ManualClock(0.0)
        nvml = FakeNvml(energy_mj=[5_000_000])
        source = NvmlPowerSource(NvmlLibrary(nvml), clock=clock)
        source.read()
        watts = []
        for energy_mj in [5_100_000, 0, 100_000, 200_000]:
            clock.now += 1.0
            nvml.energy_mj = [energy_mj]
            watts.append(source.read().watts)
        assert watts == [pytest.approx(100.0), None, pytest.approx(100.0), pytest.approx(100.0)]

    def test_power_usage_path_when_there_is_no_counter(self) -> None:
        """Without an energy counter NVML sums each GPU's power usage and has no energy."""
        source = NvmlPowerSource(NvmlLibrary(FakeNvml(power_mw=[250_000, 100_500])))
        assert source.probe() == Availability.ok("power usage")
        reading = source.read()
        assert reading.watts == pytest.approx(350.5) and reading.energy_j is None
        assert reading.components == {"gpu0": 250.0, "gpu1": 100.5}

    def test_no_device_no_driver_not_installed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No device, no driver and no nvidia-ml-py each give their own reason."""
        assert NvmlPowerSource(NvmlLibrary(FakeNvml(power_mw=[]))).probe() == Availability.no("no NVIDIA device")
        no_driver = NvmlPowerSource(NvmlLibrary(FakeNvml(init_error="Driver Not Loaded"))).probe()
        assert no_driver == Availability.no("no NVIDIA driver (Driver Not Loaded)")
        monkeypatch.setattr(nvml_module, "driver_missing", lambda: None)  # a driver, but no nvidia-ml-py
        monkeypatch.setattr(nvml_module, "_shared", None)  # not what another test's NVML found
        monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
        assert NvmlPowerSource().probe() == Availability.no(NOT_INSTALLED)
        with pytest.raises(PowerReadError, match="not installed"):
            NvmlPowerSource().read()

    @pytest.mark.parametrize(
        ("platform", "why"),
        [("linux", "no NVIDIA driver (NVML Shared Library Not Found)"), ("darwin", "no NVIDIA driver on macOS")],
    )
    def test_without_the_driver_library_pynvml_is_not_imported(
        self, monkeypatch: pytest.MonkeyPatch, platform: str, why: str
    ) -> None:
        """Without NVIDIA's driver library the reason names it and pynvml is not imported."""

        def no_library(name: str) -> None:
            raise OSError(f"{name}: cannot open shared object file")

        monkeypatch.setattr(nvml_module.sys, "platform", platform)
        monkeypatch.setattr(nvml_module.ctypes, "CDLL", no_library)
        monkeypatch.setitem(sys.modules, "pynvml", None)  # an import would say "not installed" instead
        assert NvmlLibrary().open() == Availability.no(why)

    def test_gpu_memory_utilisation_and_per_process_vram(self) -> None:
        """The GPU reading adds both cards' memory, averages their load and gives VRAM per asked pid."""
        gpu = NvmlGpu(NvmlLibrary(FakeNvml(power_mw=[1, 1])))
        reading = gpu.read({4242, 4243})
        assert reading.name == "2 × NVIDIA H100 80GB HBM3"
        assert reading.memory_used == 20 * 2**30 and reading.memory_total == 160 * 2**30
        assert reading.util_pct == pytest.approx(50.0)
        assert reading.process_memory == {4242: 16 * 2**30}  # pid 7 is not asked for; 4243 has no figure
        assert reading.processes_memory == 16 * 2**30 and reading.notes == ()

    def test_a_library_mismatch_in_the_process_list_leaves_memory_and_load(self) -> None:
        """A library mismatch in the process list keeps memory and load, with a note."""
        nvml = FakeNvml(
            power_mw=[1],
            mismatch={"nvmlDeviceGetComputeRunningProcesses"},
            missing={"nvmlDeviceGetComputeRunningProcesses_v2"},  # an older driver would have it: see below
        )
        reading = NvmlGpu(NvmlLibrary(nvml)).read({4242})
        assert reading.memory_used == 10 * 2**30 and reading.util_pct == pytest.approx(40.0)
        assert reading.process_memory == {}
        assert reading.notes == (
            "gpu0 per-process VRAM n/a: FakeLibraryMismatch: Unversioned function called: "
            "nvmlDeviceGetComputeRunningProcesses",
        )

    def test_memory_used_leaves_out_what_the_driver_reserves(self) -> None:
        """GPU memory used is v2's (an idle A10 uses 1 MiB, not v1's 527 MiB with the reserve)."""
        reading = NvmlGpu(NvmlLibrary(FakeNvml(power_mw=[1], reserved=526 * 2**20))).read(())
        assert reading.memory_used == 10 * 2**30 and reading.memory_total == 80 * 2**30

    def test_memory_falls_back_to_v1_on_a_driver_without_v2(self) -> None:
        """A driver without nvmlDeviceGetMemoryInfo_v2 reads v1's memory instead of none."""
        nvml = FakeNvml(power_mw=[1], reserved=2**20, missing={"nvmlDeviceGetMemoryInfo_v2"})
        gpu = NvmlGpu(NvmlLibrary(nvml))
        assert gpu.read(()).memory_used == 10 * 2**30 + 2**20
        assert gpu.read(()).memory_used == 10 * 2**30 + 2**20

    def test_a_process_list_without_v3_is_read_with_v2(self) -> None:
        """A driver without the _v3 process list gives per-process VRAM through _v2, with no note."""
        nvml = FakeNvml(power_mw=[1], mismatch={"nvmlDeviceGetComputeRunningProcesses"})
        gpu = NvmlGpu(NvmlLibrary(nvml))
        for _ in range(2):  # the second read goes straight to _v2
            reading = gpu.read({4242})
            assert reading.process_memory == {4242: 8 * 2**30} and reading.notes == ()

    def test_a_library_mismatch_in_the_energy_counter_falls_back_to_power(self) -> None:
        """A library mismatch in the energy counter falls back to power usage."""
        source = NvmlPowerSource(
            NvmlLibrary(FakeNvml(energy_mj=[5], power_mw=[70_000], mismatch={"nvmlDeviceGetTotalEnergyConsumption"}))
        )
        assert source.probe() == Availability.ok("power usage")
        assert source.read().watts == pytest.approx(70.0)

    def test_nvml_is_initialised_once_per_process_and_shut_down_at_exit(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """NVML is initialised once per process, shut down once at exit, and not reused after."""
        fake = FakeNvml(power_mw=[1])
        exits: list[object] = []
        monkeypatch.setitem(sys.modules, "pynvml", fake)
        monkeypatch.setattr(nvml_module, "driver_missing", lambda: None)  # this machine may have no driver
        monkeypatch.setattr(nvml_module, "_shared", None)
        monkeypatch.setattr(nvml_module, "atexit", SimpleNamespace(register=exits.append))
        power, gpu = NvmlPowerSource(), NvmlGpu()
        assert power.probe().available and gpu.probe().available
        gpu.read(())
        assert power.library is gpu.library is shared_library()
        assert fake.inits == 1 and exits == [shared_library().shutdown]
        shared_library().shutdown()
        shared_library().shutdown()
        assert fake.shutdowns == 1
        assert not gpu.probe().available  # after shutdown the handles are gone, not reused

    def test_a_failed_init_registers_no_shutdown(self) -> None:
        """A failed NVML init registers no shutdown at exit."""
        exits: list[object] = []
        library = NvmlLibrary(FakeNvml(init_error="Driver Not Loaded"), at_exit=exits.append)
        assert not library.open().available and exits == []


# --- command ------------------------------------------------------------------------------------


class TestCommand:
    def test_first_number_is_watts(self) -> None:
        """The first number a power command prints is the wall watts."""
        source = CommandSource([sys.executable, "-c", "print('plug: 42.5 W (230 V)')"])
        assert source.read() == PowerReading(42.5, None, "wall (command)")

    @pytest.mark.parametrize(("text", "watts"), [("17", 17.0), ("  .5\n", 0.5), ("1e2 W", 100.0)])
    def test_parse_watts(self, text: str, watts: float) -> None:
        """Integers, leading-dot decimals and exponents parse as watts."""
        assert parse_watts(text) == watts

    def test_garbage_output(self) -> None:
        """A command that prints no number, or a negative one, is a read error that quotes it."""
        source = CommandSource(["x"], run=lambda argv, **kw: subprocess.CompletedProcess(argv, 0, "offline\n", ""))
        with pytest.raises(PowerReadError, match="printed no number: 'offline'"):
            source.read()
        negative = CommandSource(["x"], run=lambda argv, **kw: subprocess.CompletedProcess(argv, 0, "-3", ""))
        with pytest.raises(PowerReadError, match="not a power"):
            negative.read()

    def test_failure_gives_exit_status_and_stderr(self) -> None:
        """A failing power command is unavailable with its exit status and stderr."""
        source = CommandSource([sys.executable, "-c", "import sys; sys.exit('plug unreachable')"])
        assert source.probe() == Availability.no("power command exited with 1: plug unreachable")

    def test_timeout(self) -> None:
        """A power command past its timeout is a read error naming the timeout."""

        def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess:
            assert kwargs["timeout"] == 0.5
            raise subprocess.TimeoutExpired(argv, 0.5)

        with pytest.raises(PowerReadError, match=r"timed out after 0\.5 s"):
            CommandSource("plug --watts", timeout=0.5, run=run).read()

    def test_missing_program(self, tmp_path: Path) -> None:
        """A power command that does not exist is a read error: could not run."""
        with pytest.raises(PowerReadError, match="could not run"):
            CommandSource(str(tmp_path / "no-such-command")).read()


# --- registry and selection ---------------------------------------------------------------------


class FakeSource(PowerSource):
    def __init__(
        self,
        name: str,
        scope: str,
        covers: set[str],
        available: bool = True,
        watts: float | None = 10.0,
        energy_j: float | None = None,
    ) -> None:
        self.name, self.scope, self.covers = name, scope, frozenset(covers)
        self.available, self.watts, self.energy_j = available, watts, energy_j
        self.components: dict[str, float] = {}
        self.closed = False

    def probe(self) -> Availability:
        return Availability(self.available, "" if self.available else f"{self.name} missing")

    def read(self) -> PowerReading:
        if not self.available:
            raise PowerReadError(f"{self.name} missing")
        return PowerReading(self.watts, self.energy_j, self.scope, self.components)

    def close(self) -> None:
        self.closed = True


class TestRegistry:
    def test_platform_lists(self) -> None:
        """Each platform lists its power sources in order of preference; Windows has none."""
        names = lambda sources: [s.name for s in sources]  # noqa: E731
        assert names(build_sources(PowerOptions(), "darwin")) == ["smc", "ioreport"]
        assert names(build_sources(PowerOptions(command="plug", powermetrics=True), "darwin")) == [
            "command",
            "smc",
            "ioreport",
            "powermetrics",
        ]
        assert names(build_sources(PowerOptions(), "linux")) == ["nvml", "rapl", "hwmon", "battery"]
        assert build_sources(PowerOptions(), "win32") == []

    def test_first_available_probes_everything(self) -> None:
        """Every source is probed and the first available one is chosen."""
        a, b = FakeSource("a", "A", {"system"}, available=False), FakeSource("b", "B", {"system"})
        chosen, results = first_available([a, b])
        assert chosen is b and results == [("a", Availability.no("a missing")), ("b", Availability.ok())]

    def test_components_are_summed_and_labelled(self) -> None:
        """Sources for separate components are summed, with a scope naming each part."""
        gpu = FakeSource("nvml", "GPU", {"nvidia"}, watts=200.0, energy_j=50.0)
        package = FakeSource("rapl", "package", {"cpu"}, watts=40.0, energy_j=8.0)
        battery = FakeSource("battery", "battery", {"system"})
        chosen, _ = select_power([package, gpu, battery])
        assert isinstance(chosen, SummedSource)
        assert chosen.scope == "package + GPU" and chosen.name == "rapl+nvml"
        reading = chosen.read()
        assert reading.watts == pytest.approx(240.0) and reading.energy_j == pytest.approx(58.0)

    def test_sum_has_no_energy_unless_every_part_counts(self) -> None:
        """A sum has no energy unless every part has an energy counter."""
        chosen, _ = select_power(
            [FakeSource("rapl", "package", {"cpu"}, energy_j=3.0), FakeSource("hwmon", "GPU (amdgpu)", {"amdgpu"})]
        )
        assert chosen is not None and chosen.read().energy_j is None

    def test_whole_system_source_is_never_summed(self) -> None:
        """A whole-system source is chosen alone, never summed with parts."""
        wall = FakeSource("command", "wall (command)", {"system"})
        chosen, _ = select_power([wall, FakeSource("rapl", "package", {"cpu"})])
        assert chosen is wall

    def test_overlapping_components_are_not_summed(self) -> None:
        """Sources covering the same components are not summed; the first one wins."""
        ioreport = FakeSource("ioreport", "CPU + GPU + ANE + DRAM", {"cpu", "gpu", "ane", "dram"})
        powermetrics = FakeSource("powermetrics", "CPU + GPU + ANE", {"cpu", "gpu", "ane"})
        chosen, _ = select_power([ioreport, powermetrics])
        assert chosen is ioreport

    def test_sources_not_chosen_are_closed(self) -> None:
        """Sources that are not chosen are closed; the chosen one stays open."""
        smc = FakeSource("smc", "system (SMC PSTR)", {"system"})
        ioreport = FakeSource("ioreport", FULL_SCOPE, {"cpu", "gpu", "ane", "dram"})
        chosen, _ = select_power([smc, ioreport])
        assert chosen is smc and not smc.closed
        assert ioreport.closed  # its subscription, opened by the probe, is not left open

    def test_parts_of_a_sum_stay_open(self) -> None:
        """The parts of a sum stay open; sources left out are closed."""
        package = FakeSource("rapl", "package", {"cpu"})
        gpu = FakeSource("nvml", "GPU", {"nvidia"})
        battery = FakeSource("battery", "battery", {"system"})
        select_power([package, gpu, battery])
        assert not package.closed and not gpu.closed and battery.closed

    def test_darwin_smc_owns_an_ioreport_floor(self) -> None:
        """On macOS the SMC source carries an IOReport floor, and its scope says so."""
        smc = build_sources(PowerOptions(), "darwin")[0]
        assert smc.scope == "system (max of SMC PSTR, CPU + GPU + ANE)"

    def test_summed_sources_explain_each_part(self) -> None:
        """A sum explains itself with one line per part."""
        chosen, _ = select_power([FakeSource("rapl", "package", {"cpu"}), FakeSource("nvml", "GPU", {"nvidia"})])
        assert chosen is not None
        lines = chosen.explain()
        assert lines[0].startswith("sum of 2") and lines[1].startswith("  rapl: package") and "nvml" in lines[2]

    def test_nothing_available(self) -> None:
        """With no source available nothing is chosen, and each probe's reason is kept."""
        chosen, results = select_power([FakeSource("rapl", "package", {"cpu"}, available=False)])
        assert chosen is None and results == [("rapl", Availability.no("rapl missing"))]


@pytest.mark.parametrize(
    ("platform", "absent"),
    [("linux", {"smc", "ioreport", "powermetrics"}), ("darwin", {"rapl", "hwmon", "battery"})],
)
def test_the_app_starts_without_the_other_platforms_readers(platform: str, absent: set[str]) -> None:
    """Building one platform's power sources, app and CLI imported, loads no other platform's readers."""
    code = (
        "import sys, tui.app, tui.cli.main\n"
        "from tui.core.sampling.power.registry import build_sources\n"
        f"build_sources(platform={platform!r})\n"
        "print(' '.join(m.rsplit('.', 1)[-1] for m in sys.modules if m.startswith('tui.core.sampling.power.')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(run.stdout.split())
    assert "base" in loaded  # the probe saw the package
    assert not loaded & absent
