"""Apple Silicon CPU/GPU/ANE/DRAM energy from IOReport's "Energy Model" group, without root.

Channel selection and unit conversion are pure and tested against real channel lists; only
`IOReportSubscription` touches the private library, and only on macOS.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from ctypes import c_int32, c_int64, c_long, c_uint32, c_uint64, c_void_p

from .base import Availability, CounterRate, PowerReadError, PowerReading, PowerSource

JOULES_PER_UNIT = {"mJ": 1e-3, "uJ": 1e-6, "µJ": 1e-6, "nJ": 1e-9}


def rail_of(channel: str) -> str | None:
    """The rail a channel belongs to, by exact rules; None for the hundreds of per-core channels.

    A loose `"CPU" in name` match would also sum MCPU0_0, PCPU1_SRAM, ... and read several
    times the real power.
    """
    if channel == "GPU Energy":
        return "GPU"
    if channel.endswith("CPU Energy"):  # "CPU Energy", or "DIE_0_CPU Energy" on Ultra chips
        return "CPU"
    if channel.startswith("ANE"):
        return "ANE"
    if channel.startswith("DRAM"):
        return "DRAM"
    return None


def to_joules(value: float, unit: str) -> float:
    """A channel value in joules, honouring its unit label (labels may carry spaces)."""
    scale = JOULES_PER_UNIT.get(unit.strip())
    if scale is None:
        raise ValueError(f"unknown IOReport energy unit {unit!r}")
    return value * scale


def rail_joules(channels: Iterable[tuple[str, str, float]]) -> dict[str, float]:
    """Joules per rail from (channel name, unit label, value) deltas; other channels are ignored."""
    totals: dict[str, float] = {}
    for name, unit, value in channels:
        rail = rail_of(name)
        if rail is not None:
            totals[rail] = totals.get(rail, 0.0) + to_joules(value, unit)
    return totals


_UTF8 = 0x08000100  # kCFStringEncodingUTF8


class IOReportSubscription:
    """A subscription to the "Energy Model" group (macOS only); owns and releases its CF objects."""

    def __init__(self) -> None:
        cf = ctypes.CDLL("/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation")
        ior = ctypes.CDLL("/usr/lib/libIOReport.dylib")
        # Every pointer-returning function gets restype c_void_p: the int default truncates pointers.
        for function, restype, argtypes in [
            (cf.CFStringCreateWithCString, c_void_p, [c_void_p, ctypes.c_char_p, c_uint32]),
            (cf.CFStringGetCString, ctypes.c_bool, [c_void_p, ctypes.c_char_p, c_long, c_uint32]),
            (cf.CFDictionaryGetCount, c_long, [c_void_p]),
            (cf.CFDictionaryCreateMutableCopy, c_void_p, [c_void_p, c_long, c_void_p]),
            (cf.CFDictionaryGetValue, c_void_p, [c_void_p, c_void_p]),
            (cf.CFArrayGetCount, c_long, [c_void_p]),
            (cf.CFArrayGetValueAtIndex, c_void_p, [c_void_p, c_long]),
            (cf.CFRelease, None, [c_void_p]),
            (ior.IOReportCopyChannelsInGroup, c_void_p, [c_void_p, c_void_p, c_uint64, c_uint64, c_uint64]),
            (ior.IOReportCreateSubscription, c_void_p,
             [c_void_p, c_void_p, ctypes.POINTER(c_void_p), c_uint64, c_void_p]),
            (ior.IOReportCreateSamples, c_void_p, [c_void_p, c_void_p, c_void_p]),
            (ior.IOReportCreateSamplesDelta, c_void_p, [c_void_p, c_void_p, c_void_p]),
            (ior.IOReportChannelGetChannelName, c_void_p, [c_void_p]),
            (ior.IOReportChannelGetUnitLabel, c_void_p, [c_void_p]),
            (ior.IOReportSimpleGetIntegerValue, c_int64, [c_void_p, c_int32]),
        ]:
            function.restype, function.argtypes = restype, argtypes
        self._cf, self._ior = cf, ior
        self._owned: list[int] = []

        group = self._own(cf.CFStringCreateWithCString(None, b"Energy Model", _UTF8))
        self._channels_key = self._own(cf.CFStringCreateWithCString(None, b"IOReportChannels", _UTF8))
        channels = self._own(ior.IOReportCopyChannelsInGroup(group, None, 0, 0, 0))
        if not channels:
            self.close()
            raise OSError("IOReport has no Energy Model group")
        mutable = self._own(cf.CFDictionaryCreateMutableCopy(None, cf.CFDictionaryGetCount(channels), channels))
        subscribed = c_void_p()
        self._subscription = self._own(ior.IOReportCreateSubscription(None, mutable, ctypes.byref(subscribed), 0, None))
        if not self._subscription:
            self.close()
            raise OSError("IOReportCreateSubscription failed")
        self._subscribed = self._own(subscribed.value)

    def _own(self, ref: int | None) -> int | None:
        if ref:
            self._owned.append(ref)
        return ref

    def sample(self) -> int:
        """A new samples dictionary; the caller releases it with release()."""
        ref = self._ior.IOReportCreateSamples(self._subscription, self._subscribed, None)
        if not ref:
            raise OSError("IOReportCreateSamples failed")
        return ref

    def release(self, ref: int) -> None:
        self._cf.CFRelease(ref)

    def delta_channels(self, before: int, after: int) -> list[tuple[str, str, float]]:
        """(name, unit, value) of the rail channels in the delta between two samples."""
        delta = self._ior.IOReportCreateSamplesDelta(before, after, None)
        if not delta:
            raise OSError("IOReportCreateSamplesDelta failed")
        try:
            items = self._cf.CFDictionaryGetValue(delta, self._channels_key)
            found = []
            for i in range(self._cf.CFArrayGetCount(items) if items else 0):
                item = self._cf.CFArrayGetValueAtIndex(items, i)
                name = self._string(self._ior.IOReportChannelGetChannelName(item))
                if rail_of(name) is not None:
                    unit = self._string(self._ior.IOReportChannelGetUnitLabel(item))
                    found.append((name, unit, float(self._ior.IOReportSimpleGetIntegerValue(item, 0))))
            return found
        finally:
            self._cf.CFRelease(delta)

    def _string(self, ref: int | None) -> str:
        if not ref:
            return ""
        buffer = ctypes.create_string_buffer(256)
        return buffer.value.decode() if self._cf.CFStringGetCString(ref, buffer, 256, _UTF8) else ""

    def close(self) -> None:
        while self._owned:
            self._cf.CFRelease(self._owned.pop())


class IOReportSource(PowerSource):
    """CPU + GPU + ANE + DRAM energy: one delta per tick over the measured monotonic interval."""

    name = "ioreport"
    scope = "CPU + GPU + ANE + DRAM"
    covers = frozenset({"cpu", "gpu", "ane", "dram"})

    def __init__(
        self,
        platform: str = sys.platform,
        clock: Callable[[], float] = time.monotonic,
        subscribe: Callable[[], IOReportSubscription] = IOReportSubscription,
    ) -> None:
        self._platform = platform
        self._subscribe = subscribe
        self._rate = CounterRate(clock)
        self._subscription: IOReportSubscription | None = None
        self._previous: int | None = None

    def probe(self) -> Availability:
        if self._platform != "darwin":
            return Availability.no("not macOS")
        try:
            self._open()
        except (OSError, AttributeError) as exc:
            return Availability.no(f"IOReport unavailable: {exc}")
        return Availability.ok()

    def _open(self) -> IOReportSubscription:
        if self._subscription is None:
            self._subscription = self._subscribe()
        return self._subscription

    def read(self) -> PowerReading:
        if self._platform != "darwin":
            raise PowerReadError("not macOS")
        try:
            subscription = self._open()
            current = subscription.sample()
            previous, self._previous = self._previous, current
            joules: Mapping[str, float] | None = None
            if previous is not None:
                try:
                    joules = rail_joules(subscription.delta_channels(previous, current))
                finally:
                    subscription.release(previous)
        except (OSError, AttributeError, ValueError) as exc:
            raise PowerReadError(f"IOReport read failed: {exc}") from None
        watts = self._rate.step(None if joules is None else sum(joules.values()))
        interval = self._rate.interval
        parts = {rail: j / interval for rail, j in joules.items()} if joules and interval else {}
        return PowerReading(watts, self._rate.total_j, self.scope, parts)

    def close(self) -> None:
        if self._subscription is not None:
            if self._previous is not None:
                self._subscription.release(self._previous)
                self._previous = None
            self._subscription.close()
            self._subscription = None
