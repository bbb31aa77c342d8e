"""Service calendars as intervals: the open intervals of a calendar over a date range (holidays and
DST as `domain.calendar.ServiceCalendar` decides them), and the hour-by-hour exposure the coverage
and arrival-rate analyses need. Pure Python over integers (microseconds since the epoch, UTC), so
DuckDB and Spark join against exactly the same numbers.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from crisisdesk.analytics.schema import (
    US_PER_DAY,
)
from crisisdesk.domain.calendar import ServiceCalendar
from crisisdesk.domain.protocol import CalendarSpec

Zone = Literal["center", "calendar"]  # whose clock a calendar is read on
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- intervals -----------------------------------------------------------------------------------------------------


def _us(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(microseconds=1)


def open_intervals(spec: CalendarSpec, first: date, last: date) -> list[tuple[int, int]]:
    """Open intervals [start, end) as UTC epoch microseconds, local dates first..last, merged.

    Same rules as ServiceCalendar.is_open: a block is open from its opening wall-clock time to its
    closing one on each listed weekday that is not a holiday or closure (open_dates override
    holidays); wall-clock times are read with fold=0, and instants are compared in UTC.
    """
    cal = ServiceCalendar(spec)
    tz = spec.tz
    raw: list[tuple[int, int]] = []
    day = first
    while day <= last:
        if cal.holiday_name(day) is None:
            for block in spec.hours:
                if day.weekday() in block.days:
                    start = _us(datetime.combine(day, block.opens, tzinfo=tz))
                    end = _us(datetime.combine(day, block.closes, tzinfo=tz))
                    if end > start:
                        raw.append((start, end))
        day += timedelta(days=1)
    raw.sort()
    merged: list[tuple[int, int]] = []
    for s, e in raw:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _split_by_utc_day(intervals: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int, int]]:
    """(utc day, start, end) pieces of each interval, cut at UTC midnight (the join key)."""
    for s, e in intervals:
        while s < e:
            day = s // US_PER_DAY
            cut = min(e, (day + 1) * US_PER_DAY)
            yield day, s, cut
            s = cut


def _overlap(intervals: Sequence[tuple[int, int]], starts: Sequence[int], lo: int, hi: int) -> int:
    """Microseconds of [lo, hi) inside the merged, sorted intervals."""
    total = 0
    i = max(bisect_left(starts, lo) - 1, 0)
    while i < len(intervals) and intervals[i][0] < hi:
        s, e = intervals[i]
        total += max(0, min(e, hi) - max(s, lo))
        i += 1
    return total


def _hour_windows(zone: str, first: date, last: date) -> Iterator[tuple[date, int, int, int]]:
    """(local date, local hour, start us, end us) of every local clock hour; DST hours are 0 or 2 h long."""
    tz = ZoneInfo(zone)
    day = first
    while day <= last:
        for h in range(24):
            start = datetime.combine(day, time(h), tzinfo=tz)
            end = (
                datetime.combine(day, time(h + 1), tzinfo=tz)
                if h < 23
                else datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            )
            yield day, h, _us(start), _us(end)
        day += timedelta(days=1)


def _slot_exposure(
    zone: str, first: date, last: date, intervals: Sequence[tuple[int, int]] | None
) -> dict[tuple[int, int], int]:
    """Microseconds observed per (weekday, local hour) over local dates first..last: whole hours, or
    only their open part when `intervals` (merged, sorted) is given. Same answer as summing
    _hour_windows, but days without a DST change take the fast path (hours are then 3600 s)."""
    tz = ZoneInfo(zone)
    out: dict[tuple[int, int], int] = defaultdict(int)
    starts = [s for s, _ in intervals] if intervals is not None else []
    hour = US_PER_DAY // 24
    day = first
    while day <= last:
        d0 = _us(datetime.combine(day, time(0), tzinfo=tz))
        d1 = _us(datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz))
        wd = day.weekday()
        if intervals is not None:
            i = max(bisect_left(starts, d0) - 1, 0)
            todays = []
            while i < len(intervals) and intervals[i][0] < d1:
                if intervals[i][1] > d0:
                    todays.append(intervals[i])
                i += 1
            if not todays:
                day += timedelta(days=1)
                continue
        if d1 - d0 == US_PER_DAY:
            windows = [(h, d0 + h * hour, d0 + (h + 1) * hour) for h in range(24)]
        else:
            windows = [(h, lo, hi) for _, h, lo, hi in _hour_windows(zone, day, day)]
        for h, lo, hi in windows:
            if intervals is None:
                out[(wd, h)] += hi - lo
            else:
                out[(wd, h)] += sum(max(0, min(e, hi) - max(s, lo)) for s, e in todays)
        day += timedelta(days=1)
    return out


def _spec_for(spec: CalendarSpec, zone: Zone, center_zone: str) -> CalendarSpec:
    if zone == "center" and spec.timezone != center_zone:
        return dataclasses.replace(spec, timezone=center_zone)
    return spec
