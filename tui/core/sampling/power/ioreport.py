"""Apple Silicon CPU/GPU/ANE/DRAM energy from IOReport's "Energy Model" group, without root.

Channel selection and unit conversion are pure and tested against real channel lists; only
`IOReportSubscription` touches the private library, and only on macOS.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from ctypes import c_int32, c_int64, c_long, c_uint32, c_uint64, c_void_p
from dataclasses import dataclass
from typing import Any

from .base import Availability, PowerReadError, PowerReading, PowerSource

JOULES_PER_UNIT = {"mJ": 1e-3, "uJ": 1e-6, "µJ": 1e-6, "nJ": 1e-9}


def rail_of(channel: str) -> str | None:
    """The rail a channel belongs to, by exact rules; None for the hundreds of per-core channels.

    A loose `"CPU" in name` match would also sum MCPU0_0, PCPU1_SRAM, ... and read several
    times the real power. `GPU<n>` is only a fallback (see gpu_fallback_of).
    """
    if channel == "GPU Energy":
        return "GPU"
    if channel.endswith("CPU Energy"):  # "CPU Energy", or "DIE_0_CPU Energy" on Ultra chips
        return "CPU"
    for rail in ("ANE", "DRAM"):
        if _block_channel(channel, rail):
            return rail
    return None


def gpu_fallback_of(channel: str) -> str | None:
    """ "GPU" for `GPU<n>`, which carries the GPU's energy on chips without "GPU Energy"."""
    rest = channel.removeprefix("GPU")
    return "GPU" if rest != channel and _digits(rest) else None


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _block_channel(channel: str, block: str) -> bool:
    """`block`, `block<n>` or `block<n>_<m>`: the block's own channel, not `ANE0_SRAM` or `ANE0DTL00`."""
    rest = channel.removeprefix(block)
    if rest == channel:
        return False
    if not rest:
        return True
    unit, underscore, instance = rest.partition("_")
    return _digits(unit) and (not underscore or _digits(instance))


def rail_channels(names: Iterable[str]) -> dict[str, str]:
    """The channels that feed a rail, each with its rail: `GPU<n>` only where no "GPU Energy" is."""
    names = list(names)
    chosen = {name: rail for name in names if (rail := rail_of(name)) is not None}
    if "GPU" not in chosen.values():
        chosen |= {name: rail for name in names if (rail := gpu_fallback_of(name)) is not None}
    return chosen


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


RAILS = ("CPU", "GPU", "ANE", "DRAM")
FULL_SCOPE = " + ".join(RAILS)
# Without the driver's timestamps a counter that has not moved for longer than this is idle,
# not between macOS 27's ~2 s batches.
QUIET_S = 3.0
# CPU or DRAM exactly still this long is the macOS 27 stalled-counter fault (macmon #76): a
# running CPU never spends 6 s without a millijoule.
FROZEN_S = 6.0
FROZEN_RAILS = ("CPU", "DRAM")
# A publication this soon after the last counted one is a split batch's tail (M5 Max: 9-26 ms
# after its batch): its energy and time fold into the next span instead of reading a spike.
MIN_SPAN_S = 0.05
# A channel that has not published for this long is dropped from the figure, not held.
STALE_S = 10.0
# A stamp further ahead of the read than this is not on our clock (or not a stamp at all).
MAX_STAMP_LEAD_S = 1.0


@dataclass(frozen=True)
class ChannelValue:
    """One channel of a raw sample: its cumulative counter and when the driver published it."""

    name: str
    unit: str
    value: float  # cumulative, in `unit`
    published: float | None = None  # seconds on the monotonic clock; None when the sample has no stamp


class _Channel:
    """One channel's counter: the publication its next span starts from, and the watts of the last span.

    With the driver's timestamps a span runs from one publication to the next. Without them a
    span runs between the reads at which the counter moved, and the first move (carrying energy
    from before we looked) only starts one.
    """

    def __init__(self, unit: str, value: float, published: float | None, now: float) -> None:
        self.unit = unit
        self.stamped = published is not None
        self.base_value, self.base_at = value, published if published is not None else now
        self.last_value, self.last_at = value, self.base_at
        self.primed = self.stamped
        self.moved_at = now  # when the value last changed, on the read clock
        self.moved = False  # without stamps: has the counter moved since we looked
        self.watts: float | None = None
        self.spans: deque[float] = deque(maxlen=32)  # the latest publication spans, for doctor

    def span(self, published: float | None, now: float) -> float:
        """The seconds the energy since the last read would be divided by: this channel's own span."""
        if self.stamped and published is not None and published > self.last_at:
            return published - self.base_at
        return now - (self.base_at if self.moved else self.moved_at)

    def observe(self, value: float, published: float | None, unit: str, now: float) -> None:
        moved = value != self.last_value
        if self.stamped and published is not None and (published != self.last_at or not moved):
            if published > self.last_at:
                self.spans.append(published - self.last_at)
            if published - self.base_at >= MIN_SPAN_S:
                self.watts = to_joules(value - self.base_value, unit) / (published - self.base_at)
                self.base_value, self.base_at = value, published
            self.last_at = published
        elif moved:
            if self.stamped:  # moved under a still stamp: this driver does not stamp publications
                self.stamped, self.primed = False, False
            if self.primed and now > self.base_at:
                self.watts = to_joules(value - self.base_value, unit) / (now - self.base_at)
            self.base_value, self.base_at, self.last_at = value, now, now
            self.primed = self.moved = True
        elif not self.stamped and self.moved and now - self.moved_at > QUIET_S:
            self.watts = 0.0
        if moved:
            self.moved_at = now
        self.last_value = value

    def live(self, now: float) -> bool:
        """Whether the channel counts: it published within STALE_S (stamped), or has moved (not)."""
        return now - self.last_at <= STALE_S if self.stamped else self.moved


class RailMeter:
    """Watts per rail, each channel timed by its own publications.

    A counter that publishes every ~2 s reads 0 on one tick and two ticks' energy on the next;
    dividing by the tick reads 0, 2x, 0, 2x, and dividing by the time between the ticks at
    which it moved still swings ±50 % on uneven spans. The driver stamps every publication, so
    each channel's watts are its energy over the time between its own publications, held
    between them.
    """

    def __init__(self, started: float) -> None:
        self.started = started
        self.channels: dict[str, _Channel] = {}
        self.rail_of: dict[str, str] = {}  # the channels that count, with their rail
        self.present: set[str] = set()  # rails whose channels exist on this chip

    def check(self, values: list[ChannelValue], now: float) -> float:
        """The joules of the counting channels since the last update; BadCounter for a value no counter can take."""
        chosen = rail_channels(v.name for v in values)
        total = 0.0
        for v in values:
            rail = chosen.get(v.name)
            if rail is None:
                continue
            if v.value == INT64_MIN:
                raise BadCounter(f"{v.name!r} unreadable (INT64_MIN)")
            channel = self.channels.get(v.name)
            if channel is None:
                continue
            delta = v.value - channel.last_value
            if delta < 0:
                raise BadCounter(f"{v.name!r} stepped back by {-delta:g} {v.unit.strip()}")
            energy = to_joules(delta, v.unit)
            seconds = channel.span(_usable(v.published, now), now)
            if energy and seconds > 0 and energy / seconds > MAX_RAIL_WATTS:
                raise BadCounter(f"{rail} read {energy / seconds:.0f} W, more than any Apple Silicon rail")
            total += energy
        return total

    def update(self, now: float, values: list[ChannelValue]) -> None:
        self.rail_of = rail_channels(v.name for v in values)
        self.present |= set(self.rail_of.values())
        for v in values:
            if v.name not in self.rail_of:
                continue
            published = _usable(v.published, now)
            channel = self.channels.get(v.name)
            if channel is None:
                self.channels[v.name] = _Channel(v.unit, v.value, published, now)
            else:
                channel.observe(v.value, published, v.unit, now)

    def frozen(self, now: float) -> list[str]:
        """The rails stuck by the macOS 27 fault: CPU still for FROZEN_S, and DRAM with it if still too.

        CPU alone is enough (a running CPU never spends 6 s without a millijoule), even while
        DRAM moves.
        """
        if "CPU" not in self.present or self._still_for("CPU", now) < FROZEN_S:
            return []
        return [name for name in FROZEN_RAILS if name in self.present and self._still_for(name, now) >= FROZEN_S]

    def _still_for(self, rail: str, now: float) -> float:
        return now - max((c.moved_at for _, c in self._of(rail)), default=self.started)

    def _of(self, rail: str) -> list[tuple[str, _Channel]]:
        return [(name, self.channels[name]) for name, r in self.rail_of.items() if r == rail and name in self.channels]

    def stale(self, now: float) -> list[str]:
        """The rails whose stamped channels have all stopped publishing for STALE_S."""
        out = []
        for rail in RAILS:
            channels = [c for _, c in self._of(rail)]
            if channels and all(c.stamped and not c.live(now) for c in channels):
                out.append(rail)
        return out

    def counting(self, now: float) -> list[str]:
        """The rails the figure really sums: those with a live channel, less frozen ones."""
        frozen = self.frozen(now)
        return [name for name in RAILS if name not in frozen and any(c.live(now) for _, c in self._of(name))]

    def cadence(self) -> list[str]:
        """Each counting channel with its unit and how often it publishes, for doctor."""
        out = []
        for name in self.rail_of:
            channel = self.channels.get(name)
            if channel is None:
                continue
            if not channel.stamped:
                how = "no driver timestamps: timed by the reads at which it moved"
            elif channel.spans:
                short, long = min(channel.spans), max(channel.spans)
                how = f"publishes every {_ms(short)}" + (f"–{_ms(long)}" if long - short >= 0.0005 else "")
            else:
                how = "no publication seen yet"
            out.append(f"{name} ({channel.unit}, {how})")
        return out

    def watts(self, now: float) -> tuple[float | None, dict[str, float]]:
        """The total and each counting rail; None before any rail has a span, or while a live one has none yet."""
        parts: dict[str, float] = {}
        for name in self.counting(now):
            total = 0.0
            for _, channel in self._of(name):
                if not channel.live(now):
                    continue
                if channel.watts is None:
                    return None, {}
                total += channel.watts
            parts[name] = total
        return (sum(parts.values()) if parts else None), parts


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _usable(published: float | None, now: float) -> float | None:
    """A driver stamp, or None where it cannot be one on our clock (too far ahead of the read)."""
    return published if published is not None and published <= now + MAX_STAMP_LEAD_S else None


_UTF8 = 0x08000100  # kCFStringEncodingUTF8
# XNU's IOReportElement (IOReportTypes.h): provider_id, channel_id, channel_type (8 bytes each),
# then the mach_absolute_time of the element's last update.
_STAMP_OFFSET = 24


class _Timebase(ctypes.Structure):
    _fields_ = [("numer", c_uint32), ("denom", c_uint32)]


def rail_indices(names: list[str]) -> list[int]:
    """The positions of the channels to subscribe to: those rail_channels picks, in order."""
    chosen = rail_channels(names)
    return [i for i, name in enumerate(names) if name in chosen]


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
            (cf.CFArrayCreateMutable, c_void_p, [c_void_p, c_long, c_void_p]),
            (cf.CFArrayAppendValue, None, [c_void_p, c_void_p]),
            (cf.CFDictionarySetValue, None, [c_void_p, c_void_p, c_void_p]),
            (cf.CFDataGetLength, c_long, [c_void_p]),
            (cf.CFDataGetBytePtr, c_void_p, [c_void_p]),
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
        self._raw_key = self._own(cf.CFStringCreateWithCString(None, b"RawElements", _UTF8))
        mutable = self._own(cf.CFDictionaryCreateMutableCopy(None, cf.CFDictionaryGetCount(channels), channels))
        # Only the rail channels: the group holds ~364, and every sample would copy them all.
        items = cf.CFDictionaryGetValue(mutable, self._channels_key)
        every = [cf.CFArrayGetValueAtIndex(items, i) for i in range(cf.CFArrayGetCount(items) if items else 0)]
        callbacks = ctypes.addressof(c_void_p.in_dll(cf, "kCFTypeArrayCallBacks"))
        wanted = self._own(cf.CFArrayCreateMutable(None, 0, callbacks))
        for index in rail_indices([self._string(ior.IOReportChannelGetChannelName(item)) for item in every]):
            cf.CFArrayAppendValue(wanted, every[index])
        cf.CFDictionarySetValue(mutable, self._channels_key, wanted)
        info = _Timebase()
        ctypes.CDLL("/usr/lib/libSystem.dylib").mach_timebase_info(ctypes.byref(info))
        self._tick_s = info.numer / info.denom / 1e9 if info.denom else 1e-9
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

    def readings(self, sample: int) -> list[tuple[str, str, float, float | None]]:
        """(name, unit, cumulative value, driver's publication time in s) of the rail channels in a raw sample."""
        items = self._cf.CFDictionaryGetValue(sample, self._channels_key)
        found: list[tuple[str, str, float, float | None]] = []
        for i in range(self._cf.CFArrayGetCount(items) if items else 0):
            item = self._cf.CFArrayGetValueAtIndex(items, i)
            name = self._string(self._ior.IOReportChannelGetChannelName(item))
            if rail_of(name) is None and gpu_fallback_of(name) is None:
                continue
            unit = self._string(self._ior.IOReportChannelGetUnitLabel(item))
            value = float(self._ior.IOReportSimpleGetIntegerValue(item, 0))
            found.append((name, unit, value, self._published(item)))
        return found

    def _published(self, item: int) -> float | None:
        """The element's mach_absolute_time stamp in seconds (time.monotonic's clock on macOS)."""
        raw = self._cf.CFDictionaryGetValue(item, self._raw_key)
        if not raw or self._cf.CFDataGetLength(raw) < _STAMP_OFFSET + 8:
            return None
        ticks = c_uint64.from_address(self._cf.CFDataGetBytePtr(raw) + _STAMP_OFFSET).value
        return ticks * self._tick_s if ticks else None

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
            sample = subscription.sample()
        except (OSError, AttributeError) as exc:
            raise PowerReadError(f"IOReport read failed: {exc}") from None
        now = self._clock()
        try:
            raw = subscription.readings(sample)
        except (OSError, AttributeError) as exc:
            # The counters are cumulative: the next read's values cover this tick too.
            raise PowerReadError(f"IOReport read failed: {exc}") from None
        finally:
            subscription.release(sample)
        values = [ChannelValue(*channel) for channel in raw]
        if self._meter is None:
            self._meter = RailMeter(now)
            self._meter.update(now, values)
            return PowerReading(None, self._total_j, self.scope)
        try:
            joules = self._meter.check(values, now)
        except ValueError as exc:  # BadCounter, or a unit this code does not know
            # Each channel keeps its last good value: the next read's delta covers this one too.
            return PowerReading(None, None, self.scope, note=f"interval dropped: {exc}")
        self._total_j += joules
        self._meter.update(now, values)
        return self._reading(now)

    def _reading(self, now: float) -> PowerReading:
        assert self._meter is not None
        watts, parts = self._meter.watts(now)
        frozen, stale = self._meter.frozen(now), self._meter.stale(now)
        notes = []
        if frozen:
            verb = "have" if len(frozen) > 1 else "has"
            since = f"over {FROZEN_S:.0f} s (the macOS 27 IOReport fault)"
            notes.append(f"{' and '.join(frozen)} energy {verb} read exactly 0 for {since}")
        if stale:
            notes.append(
                f"{' and '.join(stale)} {'have' if len(stale) > 1 else 'has'} not published for {STALE_S:.0f} s"
            )
        note = ""
        if notes:
            counted = " + ".join(self._meter.counting(now)) or "no rail"
            self.scope = f"{counted} only"
            note = f"{'; '.join(notes)}: the figure counts {counted} only"
        else:
            self.scope = FULL_SCOPE
        return PowerReading(watts, self._total_j, self.scope, parts, note)

    def explain(self) -> list[str]:
        lines = [
            f'{self.scope} from IOReport "Energy Model" channels: CPU = "CPU Energy" ("DIE_n_CPU Energy" on '
            'Ultra), GPU = "GPU Energy" (else GPU<n>), ANE = ANE, ANE<n>, ANE<n>_<m>, DRAM likewise, each in its '
            "own unit (mJ, uJ, nJ)",
            "each channel's watts = its energy over the time between its own publications (the driver's "
            f"timestamps), held between them; a tail under {MIN_SPAN_S * 1000:.0f} ms joins the next span; "
            f"a channel silent for {STALE_S:.0f} s is dropped",
            "energy = the counters' sum; an interval with a negative, INT64_MIN or impossible value is dropped",
        ]
        if self._meter is not None:
            lines.append("subscribed: " + (", ".join(self._meter.cadence()) or "no rail channel"))
        return lines

    def close(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
