"""Availability of a service over a window, measured from the supervisor's samples.

The supervisor (services/supervisor.py) probes every service every few seconds: when, and
whether the service answered. Consecutive probes that saw the same are kept as one sample, from
the first (`at`) to the last (`until`). A sample stands for the time until the next one, but
for at most `covers_s` (a little more than the probe interval) past its last probe: a longer gap
means the supervisor itself was not running, and that time is "not observed", neither up nor
down. Availability is the time observed up over the time observed; an outage is a run of down
samples, from the first one to the next up sample (ongoing when none came yet).

Pure functions over plain values: no store, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    at: float                   # the first probe, seconds since the epoch
    up: bool
    covers_s: float             # the longest time past its last probe this sample may stand for
    until: float | None = None  # the last of its consecutive probes that saw the same (None: one probe)

    @property
    def last(self) -> float:
        return self.at if self.until is None else self.until


@dataclass(frozen=True)
class Outage:
    start: float
    end: float | None  # None: still down at the last sample
    down_s: float      # observed down time inside the window

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "down_s": round(self.down_s, 1)}


@dataclass(frozen=True)
class Availability:
    start: float
    end: float
    up_s: float
    observed_s: float
    outages: list[Outage] = field(default_factory=list)

    @property
    def window_s(self) -> float:
        return self.end - self.start

    @property
    def not_observed_s(self) -> float:
        return max(0.0, self.window_s - self.observed_s)

    @property
    def percent(self) -> float | None:
        """Share of the observed time the service was up; None when nothing was observed."""
        return round(100.0 * self.up_s / self.observed_s, 3) if self.observed_s > 0 else None

    @property
    def current_outage(self) -> Outage | None:
        return self.outages[-1] if self.outages and self.outages[-1].end is None else None

    def as_dict(self) -> dict:
        return {"window_s": round(self.window_s, 1), "percent": self.percent, "up_s": round(self.up_s, 1),
                "observed_s": round(self.observed_s, 1), "not_observed_s": round(self.not_observed_s, 1),
                "outages": [o.as_dict() for o in self.outages]}


def measure(samples: list[Sample], start: float, end: float) -> Availability:
    """Availability over [start, end) from `samples` (any order; samples before `start` count
    for the part of their span inside the window, so pass the last few before it too)."""
    ordered = sorted(samples, key=lambda s: s.at)
    up_s = observed_s = 0.0
    outages: list[Outage] = []
    down_from: float | None = None  # first sample of the current run of down samples
    down_in_window = 0.0
    for i, s in enumerate(ordered):
        if s.at >= end:
            break
        nxt = ordered[i + 1].at if i + 1 < len(ordered) else end
        span = max(0.0, min(nxt, s.last + s.covers_s, end) - max(s.at, start))
        observed_s += span
        if s.up:
            up_s += span
            if down_from is not None:
                if s.at >= start:
                    outages.append(Outage(down_from, s.at, down_in_window))
                down_from, down_in_window = None, 0.0
        else:
            if down_from is None:
                down_from = s.at
            down_in_window += span
    if down_from is not None:
        outages.append(Outage(down_from, None, down_in_window))
    return Availability(start, end, up_s, observed_s, outages)
