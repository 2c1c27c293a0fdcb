"""A macOS process's physical footprint: what Activity Monitor's "Memory" column shows.

RSS leaves out compressed and swapped pages and counts shared ones; the footprint is the
kernel's own charge to the process, read with libproc's `proc_pid_rusage` (RUSAGE_INFO_V2).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from ctypes import c_int, c_uint8, c_uint64, c_void_p

RUSAGE_INFO_V2 = 2
LIBSYSTEM = "/usr/lib/libSystem.B.dylib"

FootprintReader = Callable[[int], int]


class RusageInfoV2(ctypes.Structure):
    """`struct rusage_info_v2` from <sys/resource.h>."""

    _fields_ = [
        ("ri_uuid", c_uint8 * 16),
        ("ri_user_time", c_uint64),
        ("ri_system_time", c_uint64),
        ("ri_pkg_idle_wkups", c_uint64),
        ("ri_interrupt_wkups", c_uint64),
        ("ri_pageins", c_uint64),
        ("ri_wired_size", c_uint64),
        ("ri_resident_size", c_uint64),
        ("ri_phys_footprint", c_uint64),
        ("ri_proc_start_abstime", c_uint64),
        ("ri_proc_exit_abstime", c_uint64),
        ("ri_child_user_time", c_uint64),
        ("ri_child_system_time", c_uint64),
        ("ri_child_pkg_idle_wkups", c_uint64),
        ("ri_child_interrupt_wkups", c_uint64),
        ("ri_child_pageins", c_uint64),
        ("ri_child_elapsed_abstime", c_uint64),
        ("ri_diskio_bytesread", c_uint64),
        ("ri_diskio_byteswritten", c_uint64),
    ]


class PhysFootprint:
    """pid -> bytes of physical footprint; OSError where the kernel refuses (another user's process)."""

    def __init__(self, library: str = LIBSYSTEM) -> None:
        libsystem = ctypes.CDLL(library, use_errno=True)
        self._rusage = libsystem.proc_pid_rusage
        self._rusage.argtypes = [c_int, c_int, c_void_p]
        self._rusage.restype = c_int

    def __call__(self, pid: int) -> int:
        info = RusageInfoV2()
        if self._rusage(pid, RUSAGE_INFO_V2, ctypes.byref(info)) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"proc_pid_rusage({pid}) failed")
        return int(info.ri_phys_footprint)


def footprint_reader(platform: str = sys.platform) -> FootprintReader | None:
    """The footprint reader on macOS; None elsewhere (or where libproc cannot be loaded): use RSS."""
    if platform != "darwin":
        return None
    try:
        return PhysFootprint()
    except (OSError, AttributeError):
        return None
