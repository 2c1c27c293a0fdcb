"""Whole-system DC power from the Apple SMC key `PSTR` (watts), without root.

The request/response struct and key/value codecs are pure and tested anywhere; only
`SmcConnection` touches IOKit, and only on macOS.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from collections.abc import Callable
from ctypes import c_uint8, c_uint16, c_uint32, c_void_p

from .base import Availability, PowerReadError, PowerReading, PowerSource, probe_safely

KERNEL_INDEX_SMC = 2  # IOConnectCallStructMethod selector of AppleSMC
CMD_READ_BYTES = 5
CMD_READ_KEYINFO = 9


class SmcVersion(ctypes.Structure):
    _fields_ = [
        ("major", c_uint8),
        ("minor", c_uint8),
        ("build", c_uint8),
        ("reserved", c_uint8),
        ("release", c_uint16),
    ]


class SmcPLimitData(ctypes.Structure):
    _fields_ = [
        ("version", c_uint16),
        ("length", c_uint16),
        ("cpu_plimit", c_uint32),
        ("gpu_plimit", c_uint32),
        ("mem_plimit", c_uint32),
    ]


class SmcKeyInfo(ctypes.Structure):
    _fields_ = [("data_size", c_uint32), ("data_type", c_uint32), ("data_attributes", c_uint8)]


class SmcKeyData(ctypes.Structure):
    """The C-aligned SMCKeyData_t the AppleSMC user client exchanges (80 bytes)."""

    _fields_ = [
        ("key", c_uint32),
        ("vers", SmcVersion),
        ("plimit_data", SmcPLimitData),
        ("key_info", SmcKeyInfo),
        ("result", c_uint8),
        ("status", c_uint8),
        ("data8", c_uint8),
        ("data32", c_uint32),
        ("bytes", c_uint8 * 32),
    ]


def encode_key(key: str) -> int:
    """A four-character SMC key or type code as the big-endian uint32 the SMC uses."""
    raw = key.encode("ascii")
    if len(raw) != 4:
        raise ValueError(f"SMC keys are four characters: {key!r}")
    return int.from_bytes(raw, "big")


def decode_key(code: int) -> str:
    """The four characters of a uint32 key or type code."""
    return code.to_bytes(4, "big").decode("ascii", errors="replace")


def decode_value(data_type: int, data: bytes) -> float:
    """A value read from the SMC; only `flt ` (little-endian float32) is used by PSTR."""
    if data_type != encode_key("flt ") or len(data) < 4:
        raise ValueError(f"unsupported SMC type {decode_key(data_type)!r} ({len(data)} bytes)")
    (value,) = struct.unpack("<f", bytes(data[:4]))
    return float(value)


def key_info_request(key: str) -> SmcKeyData:
    """The request asking for a key's type and size."""
    request = SmcKeyData()
    request.key = encode_key(key)
    request.data8 = CMD_READ_KEYINFO
    return request


def read_request(key: str, info: SmcKeyInfo) -> SmcKeyData:
    """The request reading a key's bytes, given its key info."""
    request = SmcKeyData()
    request.key = encode_key(key)
    request.key_info.data_size = info.data_size
    request.data8 = CMD_READ_BYTES
    return request


class SmcKeyReader:
    """Reads keys through an SMC call, asking each key's type and size only once.

    The key info never changes while the machine runs; asking it every tick doubled the calls.
    """

    def __init__(self, call: Callable[[SmcKeyData], SmcKeyData]) -> None:
        self._call = call
        self._info: dict[str, SmcKeyInfo] = {}

    def read_key(self, key: str) -> float:
        info = self._info.get(key)
        if info is None:
            info = self._info[key] = self._call(key_info_request(key)).key_info
        response = self._call(read_request(key, info))
        return decode_value(info.data_type, bytes(response.bytes)[: info.data_size])


class SmcConnection:
    """An open connection to the AppleSMC user client (macOS only)."""

    def __init__(self) -> None:
        iokit = ctypes.CDLL("/System/Library/Frameworks/IOKit.framework/IOKit")
        libsystem = ctypes.CDLL("/usr/lib/libSystem.dylib")
        iokit.IOServiceMatching.restype = c_void_p
        iokit.IOServiceMatching.argtypes = [ctypes.c_char_p]
        iokit.IOServiceGetMatchingServices.argtypes = [c_uint32, c_void_p, ctypes.POINTER(c_uint32)]
        iokit.IOIteratorNext.restype = c_uint32
        iokit.IOIteratorNext.argtypes = [c_uint32]
        iokit.IORegistryEntryGetName.argtypes = [c_uint32, ctypes.c_char_p]
        iokit.IOServiceOpen.argtypes = [c_uint32, c_uint32, c_uint32, ctypes.POINTER(c_uint32)]
        iokit.IOConnectCallStructMethod.argtypes = [
            c_uint32,
            c_uint32,
            c_void_p,
            ctypes.c_size_t,
            c_void_p,
            ctypes.POINTER(ctypes.c_size_t),
        ]
        iokit.IOServiceClose.argtypes = [c_uint32]
        iokit.IOObjectRelease.argtypes = [c_uint32]
        self._iokit = iokit

        iterator = c_uint32()
        # IOServiceGetMatchingServices consumes the matching dictionary; 0 is kIOMainPortDefault.
        if iokit.IOServiceGetMatchingServices(0, iokit.IOServiceMatching(b"AppleSMC"), ctypes.byref(iterator)) != 0:
            raise OSError("AppleSMC service not found")
        service = 0
        try:
            # Apple Silicon publishes several AppleSMC services; the keys live on AppleSMCKeysEndpoint.
            while candidate := iokit.IOIteratorNext(iterator):
                name = ctypes.create_string_buffer(128)
                iokit.IORegistryEntryGetName(candidate, name)
                if name.value == b"AppleSMCKeysEndpoint":
                    if service:
                        iokit.IOObjectRelease(service)
                    service = candidate
                    break
                if service:
                    iokit.IOObjectRelease(candidate)
                else:
                    service = candidate
        finally:
            iokit.IOObjectRelease(iterator)
        if not service:
            raise OSError("AppleSMC service not found")
        connection = c_uint32()
        task = c_uint32.in_dll(libsystem, "mach_task_self_")
        status = iokit.IOServiceOpen(service, task, 0, ctypes.byref(connection))
        iokit.IOObjectRelease(service)
        if status != 0:
            raise OSError(f"IOServiceOpen(AppleSMC) failed: {status:#x}")
        self._connection = connection.value
        self._keys = SmcKeyReader(self._call)

    def _call(self, request: SmcKeyData) -> SmcKeyData:
        response = SmcKeyData()
        size = ctypes.c_size_t(ctypes.sizeof(response))
        status = self._iokit.IOConnectCallStructMethod(
            self._connection,
            KERNEL_INDEX_SMC,
            ctypes.byref(request),
            ctypes.sizeof(request),
            ctypes.byref(response),
            ctypes.byref(size),
        )
        if status != 0 or response.result != 0:
            raise OSError(f"SMC call for {decode_key(request.key)!r} failed: kern {status:#x}, smc {response.result}")
        return response

    def read_key(self, key: str) -> float:
        return self._keys.read_key(key)

    def close(self) -> None:
        if self._connection:
            self._iokit.IOServiceClose(self._connection)
            self._connection = 0


class SmcSource(PowerSource):
    """System power from SMC `PSTR`: closest to a wall meter (which adds PSU loss).

    PSTR sometimes reads below what the SoC alone draws (macmon takes the larger of the two);
    since the whole system cannot draw less than its CPU + GPU + ANE, the figure is the larger of
    PSTR and those rails from `floor` (an IOReport source this one owns), when it reads.
    """

    name = "smc"
    KEY = "PSTR"
    FLOOR_RAILS = ("CPU", "GPU", "ANE")

    def __init__(
        self,
        platform: str = sys.platform,
        floor: PowerSource | None = None,
        connect: Callable[[], SmcConnection] = SmcConnection,
    ) -> None:
        self._platform = platform
        self._connect = connect
        self._connection: SmcConnection | None = None
        self._floor = floor
        self._floor_state: Availability | None = None
        self.scope = "system (SMC PSTR)" if floor is None else "system (max of SMC PSTR, CPU + GPU + ANE)"

    def probe(self) -> Availability:
        if self._platform != "darwin":
            return Availability.no("not macOS")
        try:
            self._read_pstr()
        except PowerReadError as exc:
            return Availability.no(str(exc))
        return Availability.ok()

    def _read_pstr(self) -> float:
        if self._platform != "darwin":
            raise PowerReadError("not macOS")
        try:
            if self._connection is None:
                self._connection = self._connect()
            return self._connection.read_key(self.KEY)
        except (OSError, ValueError, AttributeError) as exc:  # AttributeError: a missing IOKit symbol
            raise PowerReadError(f"SMC {self.KEY} unreadable: {exc}") from None

    def read(self) -> PowerReading:
        pstr = self._read_pstr()
        soc, why = self._floor_watts()
        if soc is None or soc <= pstr:
            return PowerReading(pstr, None, self.scope, {"PSTR": pstr}, why)
        note = f"PSTR read {pstr:.1f} W, below CPU + GPU + ANE: showing {soc:.1f} W"
        return PowerReading(soc, None, self.scope, {"PSTR": pstr, "CPU + GPU + ANE": soc}, note)

    def _floor_watts(self) -> tuple[float | None, str]:
        """CPU + GPU + ANE watts from the floor source, or None and why not."""
        if self._floor is None:
            return None, ""
        if self._floor_state is None:
            self._floor_state = probe_safely(self._floor)
        if not self._floor_state.available:
            return None, f"PSTR alone: {self._floor.name} {self._floor_state.why}"
        try:
            reading = self._floor.read()
        except PowerReadError as exc:
            return None, f"PSTR alone this tick: {exc}"
        if reading.watts is None:
            return None, reading.note
        return sum(reading.components.get(rail, 0.0) for rail in self.FLOOR_RAILS), reading.note

    def explain(self) -> list[str]:
        lines = [
            f"system: SMC key {self.KEY} (whole-system DC watts) read each tick; energy is the trapezoid "
            "integral of the figure"
        ]
        if self._floor is not None:
            lines.append(
                f"shown as max(PSTR, CPU + GPU + ANE from {self._floor.name}), as macmon does: PSTR "
                "sometimes reads below the SoC alone"
            )
        return lines

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._floor is not None:
            self._floor.close()
