"""Host and engine facts: parsers on sample text, gathering from a fake root and fake commands."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tui.core.ollama.host import is_local, normalize_host
from tui.core.records.hostfacts import (
    clean_dmi,
    gather_host,
    parse_cpuinfo_model,
    parse_meminfo_total,
    parse_os_release,
)
from tui.core.records.schema import GpuInfo

X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
stepping\t: 8

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
"""

ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 108.00
CPU implementer\t: 0x41

Hardware\t: BCM2835
Revision\t: d04170
Model\t\t: Raspberry Pi 5 Model B Rev 1.0
"""

MEMINFO = "MemTotal:       65843012 kB\nMemFree:        1234 kB\n"

OS_RELEASE = 'NAME="Ubuntu"\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04.1 LTS"\n'


class TestParsers:
    def test_x86_model_name(self) -> None:
        """'model name', not the numeric 'model' line above it."""
        assert parse_cpuinfo_model(X86_CPUINFO) == "Intel(R) Xeon(R) Platinum 8480+"

    def test_arm_has_no_model_name(self) -> None:
        """ARM boards: fall back to 'Hardware'."""
        assert parse_cpuinfo_model(ARM_CPUINFO) == "BCM2835"
        assert parse_cpuinfo_model("") is None

    def test_meminfo_total_in_bytes(self) -> None:
        """MemTotal is in kB (KiB)."""
        assert parse_meminfo_total(MEMINFO) == 65843012 * 1024
        assert parse_meminfo_total("MemFree: 1 kB") is None

    def test_os_release(self) -> None:
        """PRETTY_NAME, else NAME and VERSION_ID."""
        assert parse_os_release(OS_RELEASE) == "Ubuntu 24.04.1 LTS"
        assert parse_os_release("NAME=Arch\nVERSION_ID=rolling\n") == "Arch rolling"
        assert parse_os_release("") is None

    @pytest.mark.parametrize(
        "raw,expected",
        [
            ("ThinkStation P620\n", "ThinkStation P620"),
            ("To Be Filled By O.E.M.\n", None),
            ("Raspberry Pi 5\x00", "Raspberry Pi 5"),
            (None, None),
        ],
    )
    def test_dmi_placeholders(self, raw: str | None, expected: str | None) -> None:
        """Firmware placeholders and device-tree NULs are dropped."""
        assert clean_dmi(raw) == expected


def fake_root(tmp_path: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


class TestGather:
    def test_linux_from_a_fake_root(self, tmp_path: Path) -> None:
        """Linux facts come from files under the injected root; GPU from the probe."""
        root = fake_root(
            tmp_path,
            {
                "proc/cpuinfo": X86_CPUINFO,
                "proc/meminfo": MEMINFO,
                "etc/os-release": OS_RELEASE,
                "sys/class/dmi/id/product_name": "ThinkStation P620\n",
            },
        )
        host = gather_host(system="Linux", root=root, gpu=lambda: GpuInfo("NVIDIA H100", 80 * 2**30))
        assert host.chip == "Intel(R) Xeon(R) Platinum 8480+"
        assert host.machine_model == "ThinkStation P620"
        assert host.os == "Ubuntu 24.04.1 LTS"
        assert host.ram_bytes == 65843012 * 1024
        assert host.gpu == GpuInfo("NVIDIA H100", 80 * 2**30)
        assert host.hostname == socket.gethostname() and host.cpu_cores

    def test_linux_device_tree_model_and_no_gpu(self, tmp_path: Path) -> None:
        """Without DMI the device-tree model names the board; no probe means gpu None."""
        root = fake_root(
            tmp_path,
            {
                "proc/cpuinfo": ARM_CPUINFO,
                "sys/firmware/devicetree/base/model": "Raspberry Pi 5 Model B Rev 1.0\x00",
            },
        )
        host = gather_host(system="Linux", root=root)
        assert host.machine_model == "Raspberry Pi 5 Model B Rev 1.0"
        assert host.gpu is None and host.os == "Linux"
        assert host.ram_bytes and host.ram_bytes > 0  # psutil fallback without /proc/meminfo

    def test_macos_from_sysctl(self) -> None:
        """macOS facts come from sysctl and sw_vers."""
        answers = {
            "sw_vers -productVersion": "15.1",
            "sysctl -n hw.model": "Mac14,14",
            "sysctl -n machdep.cpu.brand_string": "Apple M2 Ultra",
            "sysctl -n hw.memsize": "206158430208",
        }
        host = gather_host(system="Darwin", run=lambda argv: answers.get(" ".join(argv)))
        assert (host.os, host.machine_model, host.chip, host.ram_bytes) == (
            "macOS 15.1",
            "Mac14,14",
            "Apple M2 Ultra",
            206158430208,
        )

    def test_macos_commands_failing(self) -> None:
        """No sysctl answers: facts are None, RAM from psutil, nothing raises."""
        host = gather_host(system="Darwin", run=lambda argv: None)
        assert host.os == "macOS" and host.chip is None and host.ram_bytes


class TestEngine:
    @pytest.mark.parametrize(
        "url,remote",
        [
            ("http://127.0.0.1:11434", False),
            ("localhost:11434", False),
            ("http://[::1]:11434", False),
            ("http://0.0.0.0:11434", False),
            ("http://192.168.1.20:11434", True),
            ("https://gpu-box.example:443", True),
            (f"http://{socket.gethostname()}:11434", False),
        ],
    )
    def test_remote_detection(self, url: str, remote: bool) -> None:
        """Loopback and this machine's name are local; anything else is remote."""
        assert is_local(normalize_host(url)) is not remote
