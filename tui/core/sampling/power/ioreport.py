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
from typing import Any

from .base import Availability, PowerReadError, PowerReading, PowerSource

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


class BadCounter(ValueError):
    """A channel value that cannot be energy: the interval it belongs to is dropped."""


INT64_MIN = -(2**63)  # what IOReportSimpleGetIntegerValue returns for an unreadable value
# No Apple Silicon rail draws this; a bigger step is a corrupt value (an int64 overflow of a
# delta taken against INT64_MIN), not energy.
MAX_RAIL_WATTS = 1000.0


def rail_joules(channels: Iterable[tuple[str, str, float]]) -> dict[str, float]:
    """Joules per rail from (channel name, unit label, value) deltas; other channels are ignored.

    Raises BadCounter for a value no energy delta can have: negative (a counter that stepped
    back) or INT64_MIN (unreadable).
    """
    totals: dict[str, float] = {}
    for name, unit, value in channels:
        rail = rail_of(name)
        if rail is None:
            continue
        if value == INT64_MIN:
            raise BadCounter(f"{name!r} unreadable (INT64_MIN)")
        if value < 0:
            raise BadCounter(f"{name!r} stepped back by {-value:g} {unit.strip()}")
        totals[rail] = totals.get(rail, 0.0) + to_joules(value, unit)
    return totals


RAILS = ("CPU", "GPU", "ANE", "DRAM")
FULL_SCOPE = " + ".join(RAILS)
# macOS 27 publishes the mJ channels (CPU, ANE, DRAM) in ~2 s batches: a rail whose counter
# has not moved for longer than this is idle, not between batches.
QUIET_S = 3.0
# CPU and DRAM both exactly still this long is the macOS 27 stalled-counter fault (macmon #76):
# a running CPU never spends 6 s without a millijoule.
FROZEN_S = 6.0
FROZEN_RAILS = ("CPU", "DRAM")


class _Rail:
    """One rail's counter: when it last moved and the watts that move gave."""

    def __init__(self, moved_at: float) -> None:
        self.moved_at = moved_at
        self.primed = False  # True once `moved_at` starts a span of known length
        self.watts: float | None = None


class RailMeter:
    """Watts per rail, each over the time since its counter last moved.

    A counter that publishes every 2 s reads 0 on one tick and two ticks' energy on the
    next; dividing by the tick would read 0, 2×, 0, 2×. A rail's first move (after the start or
    a dropped interval) carries energy from before we looked, so it only starts the next span.
    """

    def __init__(self, started: float) -> None:
        self.started = started
        self.rails: dict[str, _Rail] = {}
        self.present: set[str] = set()  # rails whose channels exist on this chip

    def update(self, now: float, joules: Mapping[str, float]) -> None:
        self.present |= joules.keys()
        for name, energy in joules.items():
            rail = self.rails.get(name)
            if energy <= 0:
                if rail is not None and now - rail.moved_at > QUIET_S:
                    rail.watts = 0.0
                continue
            if rail is None:
                rail = self.rails[name] = _Rail(now)
            elif rail.primed and now > rail.moved_at:
                rail.watts = energy / (now - rail.moved_at)
            rail.moved_at, rail.primed = now, True

    def drop(self) -> None:
        """An interval was lost: the next move of every rail has a span of unknown length."""
        for rail in self.rails.values():
            rail.primed = False

    def frozen(self, now: float) -> bool:
        """CPU (and DRAM, where it exists) have not moved for FROZEN_S."""
        if "CPU" not in self.present:
            return False
        still = [self._still_for(name, now) for name in FROZEN_RAILS if name in self.present]
        return min(still) >= FROZEN_S

    def _still_for(self, name: str, now: float) -> float:
        rail = self.rails.get(name)
        return now - (rail.moved_at if rail is not None else self.started)

    def counting(self, now: float) -> list[str]:
        """The rails the figure really sums: those that have moved, less frozen ones."""
        frozen = self.frozen(now)
        return [name for name in RAILS if name in self.rails and not (frozen and name in FROZEN_RAILS)]

    def watts(self, now: float) -> tuple[float | None, dict[str, float]]:
        """The total and each counting rail; total None while a moving rail has no span yet."""
        parts: dict[str, float] = {}
        for name in self.counting(now):
            watts = self.rails[name].watts
            if watts is None:
                return None, {}
            parts[name] = watts
        return (sum(parts.values()) if parts else 0.0), parts


_UTF8 = 0x08000100  # kCFStringEncodingUTF8


class IOReportSubscription:
    """A subscription to the "Energy Model" group (macOS only); owns and releases its CF objects."""

    def __init__(self) -> None:
        cf = ctypes.CDLL("/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation")
        ior = ctypes.CDLL("/usr/lib/libIOReport.dylib")
        # Every pointer-returning function gets restype c_void_p: the int default truncates pointers.
        prototypes: list[tuple[Any, type | None, list[type]]] = [
            (cf.CFStringCreateWithCString, c_void_p, [c_void_p, ctypes.c_char_p, c_uint32]),
            (cf.CFStringGetCString, ctypes.c_bool, [c_void_p, ctypes.c_char_p, c_long, c_uint32]),
            (cf.CFDictionaryGetCount, c_long, [c_void_p]),
            (cf.CFDictionaryCreateMutableCopy, c_void_p, [c_void_p, c_long, c_void_p]),
            (cf.CFDictionaryGetValue, c_void_p, [c_void_p, c_void_p]),
            (cf.CFArrayGetCount, c_long, [c_void_p]),
            (cf.CFArrayGetValueAtIndex, c_void_p, [c_void_p, c_long]),
            (cf.CFRelease, None, [c_void_p]),
            (ior.IOReportCopyChannelsInGroup, c_void_p, [c_void_p, c_void_p, c_uint64, c_uint64, c_uint64]),
            (
                ior.IOReportCreateSubscription,
                c_void_p,
                [c_void_p, c_void_p, ctypes.POINTER(c_void_p), c_uint64, c_void_p],
            ),
            (ior.IOReportCreateSamples, c_void_p, [c_void_p, c_void_p, c_void_p]),
            (ior.IOReportCreateSamplesDelta, c_void_p, [c_void_p, c_void_p, c_void_p]),
            (ior.IOReportChannelGetChannelName, c_void_p, [c_void_p]),
            (ior.IOReportChannelGetUnitLabel, c_void_p, [c_void_p]),
            (ior.IOReportSimpleGetIntegerValue, c_int64, [c_void_p, c_int32]),
        ]
        for function, restype, argtypes in prototypes:
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
        ref: int = self._ior.IOReportCreateSamples(self._subscription, self._subscribed, None)
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
    """CPU + GPU + ANE + DRAM energy; watts per rail over the time since its counter moved."""

    name = "ioreport"
    covers = frozenset({"cpu", "gpu", "ane", "dram"})

    def __init__(
        self,
        platform: str = sys.platform,
        clock: Callable[[], float] = time.monotonic,
        subscribe: Callable[[], IOReportSubscription] = IOReportSubscription,
    ) -> None:
        self._platform = platform
        self._clock = clock
        self._subscribe = subscribe
        self._subscription: IOReportSubscription | None = None
        self._previous: int | None = None
        self._previous_t = 0.0
        self._meter: RailMeter | None = None
        self._total_j = 0.0
        self.scope = FULL_SCOPE  # narrowed to the rails that count while CPU and DRAM are frozen

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
        except (OSError, AttributeError) as exc:
            raise PowerReadError(f"IOReport read failed: {exc}") from None
        now = self._clock()
        previous, since = self._previous, self._previous_t
        if previous is None or self._meter is None:
            self._previous, self._previous_t, self._meter = current, now, RailMeter(now)
            return PowerReading(None, self._total_j, self.scope)
        try:
            channels = subscription.delta_channels(previous, current)
        except (OSError, AttributeError) as exc:
            # Keep the older sample: the next delta then covers this tick too, and no energy is lost.
            subscription.release(current)
            raise PowerReadError(f"IOReport read failed: {exc}") from None
        subscription.release(previous)
        self._previous, self._previous_t = current, now
        try:
            joules = rail_joules(channels)
            _check_plausible(joules, now - since)
        except ValueError as exc:  # BadCounter, or a unit this code does not know
            self._meter.drop()
            return PowerReading(None, None, self.scope, note=f"interval dropped: {exc}")
        self._total_j += sum(joules.values())
        self._meter.update(now, joules)
        return self._reading(now)

    def _reading(self, now: float) -> PowerReading:
        assert self._meter is not None
        watts, parts = self._meter.watts(now)
        note = ""
        if self._meter.frozen(now):
            counted = " + ".join(self._meter.counting(now)) or "no rail"
            self.scope = f"{counted} only"
            note = (
                f"CPU and DRAM energy have read exactly 0 for over {FROZEN_S:.0f} s (the macOS 27 IOReport "
                f"fault): the figure counts {counted} only"
            )
        else:
            self.scope = FULL_SCOPE
        return PowerReading(watts, self._total_j, self.scope, parts, note)

    def explain(self) -> list[str]:
        return [
            f'{self.scope} from IOReport "Energy Model" channels: CPU = "CPU Energy" ("DIE_n_CPU Energy" on '
            'Ultra), GPU = "GPU Energy", ANE = ANE*, DRAM = DRAM*, each in its own unit (mJ, uJ, nJ)',
            f"each rail's watts = its energy over the time since its counter last moved (macOS 27 publishes mJ "
            f"channels in ~2 s batches); a rail still for {QUIET_S:.0f} s reads 0 W",
            "energy = the counters' sum; an interval with a negative, INT64_MIN or impossible value is dropped",
        ]

    def close(self) -> None:
        if self._subscription is not None:
            if self._previous is not None:
                self._subscription.release(self._previous)
                self._previous = None
            self._subscription.close()
            self._subscription = None


def _check_plausible(joules: Mapping[str, float], seconds: float) -> None:
    for rail, energy in joules.items():
        if seconds > 0 and energy / seconds > MAX_RAIL_WATTS:
            raise BadCounter(f"{rail} read {energy / seconds:.0f} W, more than any Apple Silicon rail")
