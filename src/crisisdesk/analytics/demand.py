"""Demand analysis of stored CAD history: the numbers a planning report needs.

Every function reads the store (store.py) through an SQL engine (DuckDB by default; pass
`engine=spark.SparkEngine(spark)` or use the wrappers in spark.py for Spark) and returns a small
frozen dataclass. "Eligible" means bh_class in_scope or conditional (callmap.ELIGIBLE_CLASSES),
decided at import; in_scope and conditional are also counted apart, because conditional call types
only sometimes reach the program (screening decides): eligible demand is an upper bound.

- `hour_of_week(store)`: calls per local hour of week (168 rows, Monday 00:00 first).
- `by_month(store)`: calls per local year and month.
- `coverage(store, {"MECC": spec, "MECC + Saturday": spec2})`: the share of eligible calls that fall
  inside each service calendar, and what each adds over the first (the baseline).
- `arrival_rates(store, calendar, center=...)`: eligible calls per hour for each hour of week, the
  input of staffing (Erlang C/A, simulation). With a calendar, only open time counts, both in the
  calls and in the hours observed, so a half-open hour (20:00-20:30) has a true per-hour rate.
- `repeats(store, days=30, key="address")`: calls whose address (or caller) key had an earlier call
  within `days` x 24 h, and how calls spread over keys.

Calendars and time. A calendar (domain.protocol.CalendarSpec) is expanded with ServiceCalendar's
rules (holidays as observed, closures, open dates) into its open intervals as UTC instants, once per
local date of the data; calls join to them in the engine (an equi-join on the UTC day plus a range
condition), so there is no per-call Python and results equal ServiceCalendar.is_open call by call,
DST days included. `zone="center"` (default) reads the calendar's hours as wall-clock times of each
call's center ("these hours, at that center"); `zone="calendar"` uses the calendar's own zone (one
desk serving several centers).

Sources with hour-level parts only (Toronto: year, month, day of week, hour) have no instants. Their
coverage is an expected value: a call in hour h of a weekday of a month counts by the share of that
local hour the calendar is open, averaged over the dates of that weekday in that month (holidays
included). Such results carry a note; repeats cannot be measured for them.
"""

# ruff: noqa: S608 - SQL is generated from profiles, call maps and calendars (never from request input);
# every value goes in through Dialect.lit.

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Literal

import pyarrow as pa

from crisisdesk.analytics.calendars import (
    Zone,
    _hour_windows,
    _overlap,
    _slot_exposure,
    _spec_for,
    _split_by_utc_day,
    open_intervals,
)
from crisisdesk.analytics.schema import (
    US_PER_DAY,
    US_PER_SECOND,
    ArrivalRates,
    ByMonth,
    Coverage,
    CoverageRow,
    HourOfWeek,
    HourOfWeekRow,
    MonthRow,
    RateRow,
    RepeatBucket,
    Repeats,
)
from crisisdesk.analytics.store import DuckDBEngine, Engine, Store, open_store
from crisisdesk.domain.protocol import CalendarSpec

__all__ = [
    "ArrivalRates",
    "ByMonth",
    "Coverage",
    "CoverageRow",
    "DemandError",
    "HourOfWeek",
    "HourOfWeekRow",
    "MonthRow",
    "RateRow",
    "RepeatBucket",
    "Repeats",
    "arrival_rates",
    "by_month",
    "coverage",
    "hour_of_week",
    "open_intervals",
    "repeats",
]

HOURS_OF_WEEK = 168
HOUR_ONLY_NOTE = (
    "{center}: only the hour of each call is known; calendar coverage is an expected value "
    "(share of each local hour open, averaged over the month's dates)"
)
REPEAT_BUCKETS = ("1", "2", "3-5", "6-10", "11+")


class DemandError(ValueError):
    """The analysis cannot answer as asked (e.g. arrival rates over several centers at once)."""


# --- engine plumbing -----------------------------------------------------------------------------------------


@contextmanager
def _session(store: Store | str | Path, engine: Engine | None) -> Iterator[tuple[Store, Engine]]:
    st = open_store(store)
    own = engine is None
    eng: Engine = engine or DuckDBEngine()
    try:
        eng.register_calls("calls", st.all_files())
        yield st, eng
    finally:
        if own:
            eng.close()


def _where(eng: Engine, center: str | None, *conditions: str) -> str:
    parts = [c for c in conditions if c]
    if center is not None:
        parts.append(f"center = {eng.dialect.lit(center)}")
    return ("WHERE " + " AND ".join(parts)) if parts else ""


def _center_notes(st: Store, centers: Sequence[str]) -> list[str]:
    info = st.centers()
    notes = []
    for c in centers:
        if c in info:
            notes += [f"{c}: {n}" for n in info[c].notes]
            if not info[c].callmap:
                notes.append(f"{c}: no call map: every call is 'unknown', so eligible demand is 0")
    return notes


def _centers(eng: Engine, center: str | None) -> list[str]:
    return [
        str(r[0]) for r in eng.rows(f"SELECT DISTINCT center FROM calls {_where(eng, center)} ORDER BY 1")
    ]


_COUNTS = (
    "count(*), sum(CASE WHEN eligible THEN 1 ELSE 0 END), "
    "sum(CASE WHEN bh_class = 'in_scope' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN bh_class = 'conditional' THEN 1 ELSE 0 END)"
)


# --- simple counts -----------------------------------------------------------------------------------------------


def hour_of_week(
    store: Store | str | Path, *, center: str | None = None, engine: Engine | None = None
) -> HourOfWeek:
    """Calls per local hour of week, all and eligible (168 rows, zero-filled)."""
    with _session(store, engine) as (st, eng):
        got = {
            (int(r[0]), int(r[1])): [int(x or 0) for x in r[2:]]
            for r in eng.rows(
                f"SELECT local_dow, local_hour, {_COUNTS} FROM calls {_where(eng, center)} GROUP BY 1, 2"
            )
        }
        rows = tuple(
            HourOfWeekRow(how, how // 24, how % 24, *got.get((how // 24, how % 24), [0, 0, 0, 0]))
            for how in range(HOURS_OF_WEEK)
        )
        return HourOfWeek(rows, tuple(_center_notes(st, _centers(eng, center))))


def by_month(
    store: Store | str | Path, *, center: str | None = None, engine: Engine | None = None
) -> ByMonth:
    """Calls per local (year, month), all and eligible."""
    with _session(store, engine) as (st, eng):
        rows = tuple(
            MonthRow(int(r[0]), int(r[1]), *[int(x or 0) for x in r[2:]])
            for r in eng.rows(
                f"SELECT local_year, local_month, {_COUNTS} FROM calls {_where(eng, center)} GROUP BY 1, 2 ORDER BY 1, 2"
            )
        )
        return ByMonth(rows, tuple(_center_notes(st, _centers(eng, center))))


@dataclass(frozen=True)
class _CenterSpan:
    center: str
    timezone: str
    first: date | None  # timestamped rows' local dates
    last: date | None
    months: tuple[tuple[int, int], ...]  # hour-only rows' (year, month)


def _spans(st: Store, eng: Engine, center: str | None) -> list[_CenterSpan]:
    info = st.centers()
    dated = {
        str(r[0]): (r[1], r[2])
        for r in eng.rows(
            f"SELECT center, min(local_date), max(local_date) FROM calls "
            f"{_where(eng, center, 'received_utc IS NOT NULL')} GROUP BY center"
        )
    }
    months: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in eng.rows(
        f"SELECT DISTINCT center, local_year, local_month FROM calls {_where(eng, center, 'received_utc IS NULL')} "
        "ORDER BY 1, 2, 3"
    ):
        months[str(r[0])].append((int(r[1]), int(r[2])))
    out = []
    for c in sorted(set(dated) | set(months)):
        if c not in info:
            raise DemandError(f"center {c} has rows but no entry in store.json: re-import it")
        first, last = dated.get(c, (None, None))
        out.append(_CenterSpan(c, info[c].timezone, first, last, tuple(months.get(c, ()))))
    return out


def _period(spans: Sequence[_CenterSpan]) -> tuple[date | None, date | None]:
    """First and last local date observed: dated rows' dates, and whole months of hour-only rows."""
    firsts = [s.first for s in spans if s.first] + [date(y, m, 1) for s in spans for y, m in s.months]
    lasts = [s.last for s in spans if s.last] + [
        list(_month_dates(y, m))[-1] for s in spans for y, m in s.months
    ]
    return min(firsts, default=None), max(lasts, default=None)


def _month_dates(year: int, month: int) -> Iterator[date]:
    day = date(year, month, 1)
    while day.month == month:
        yield day
        day += timedelta(days=1)


def _register_intervals(eng: Engine, specs: Sequence[tuple[int, str, CalendarSpec, date, date]]) -> None:
    """Table cal_intervals(cal, center, day, start_us, end_us) for (cal id, center, spec, first, last)."""
    cols: dict[str, list[int | str]] = {"cal": [], "center": [], "day": [], "start_us": [], "end_us": []}
    for cal_id, center, spec, first, last in specs:
        for day, s, e in _split_by_utc_day(open_intervals(spec, first, last)):
            cols["cal"].append(cal_id)
            cols["center"].append(center)
            cols["day"].append(day)
            cols["start_us"].append(s)
            cols["end_us"].append(e)
    eng.register(
        "cal_intervals",
        pa.table(
            {
                "cal": pa.array(cols["cal"], pa.int32()),
                "center": pa.array(cols["center"], pa.string()),
                "day": pa.array(cols["day"], pa.int64()),
                "start_us": pa.array(cols["start_us"], pa.int64()),
                "end_us": pa.array(cols["end_us"], pa.int64()),
            }
        ),
    )


def _in_open_time_sql(eng: Engine, center: str | None, group: Sequence[str] = ()) -> str:
    """Eligible calls inside cal_intervals, per calendar id (and `group` columns of calls c)."""
    d = eng.dialect
    us = d.epoch_us("c.received_utc")
    conditions = ["c.received_utc IS NOT NULL", "c.eligible"]
    if center is not None:
        conditions.append(f"c.center = {d.lit(center)}")
    cols = "".join(f", {g}" for g in group)
    return (
        f"SELECT i.cal{cols}, count(*) FROM calls c JOIN cal_intervals i ON i.center = c.center "
        f"AND i.day = {d.idiv(us, str(US_PER_DAY))} AND {us} >= i.start_us AND {us} < i.end_us "
        f"WHERE {' AND '.join(conditions)} GROUP BY i.cal{cols}"
    )


class _HourFractions:
    """Open share of local clock hours, per (year, month, weekday, hour), for hour-only sources."""

    def __init__(self, spec: CalendarSpec, center_zone: str, months: Sequence[tuple[int, int]]):
        self.open_us: dict[tuple[int, int, int, int], int] = defaultdict(int)
        self.len_us: dict[tuple[int, int, int, int], int] = defaultdict(int)
        self.fraction: dict[tuple[int, int, int, int], Fraction] = {}
        for y, m in months:
            dates = list(_month_dates(y, m))
            intervals = open_intervals(spec, dates[0] - timedelta(days=1), dates[-1] + timedelta(days=1))
            starts = [s for s, _ in intervals]
            sums: dict[tuple[int, int, int, int], list[Fraction]] = defaultdict(list)
            for day, h, lo, hi in _hour_windows(center_zone, dates[0], dates[-1]):
                slot = (y, m, day.weekday(), h)
                opened = _overlap(intervals, starts, lo, hi)
                self.open_us[slot] += opened
                self.len_us[slot] += hi - lo
                sums[slot].append(Fraction(opened, hi - lo) if hi > lo else Fraction(0))
            for slot, fs in sums.items():
                self.fraction[slot] = sum(fs, Fraction(0)) / len(fs)


def coverage(
    store: Store | str | Path,
    calendars: Mapping[str, CalendarSpec],
    *,
    center: str | None = None,
    zone: Zone = "center",
    engine: Engine | None = None,
) -> Coverage:
    """Share of eligible calls inside each calendar's open time; the first calendar is the baseline."""
    if not calendars:
        raise DemandError("give at least one calendar")
    names = list(calendars)
    with _session(store, engine) as (st, eng):
        spans = _spans(st, eng, center)
        specs = [
            (
                k,
                s.center,
                _spec_for(calendars[n], zone, s.timezone),
                s.first - timedelta(days=1),
                s.last + timedelta(days=1),
            )
            for k, n in enumerate(names)
            for s in spans
            if s.first is not None and s.last is not None
        ]
        _register_intervals(eng, specs)
        exact = {int(r[0]): int(r[1]) for r in eng.rows(_in_open_time_sql(eng, center))} if specs else {}
        (total,) = eng.rows(f"SELECT count(*) FROM calls {_where(eng, center, 'eligible')}")[0]
        hour_only = [s for s in spans if s.months]
        estimated: dict[int, Fraction] = defaultdict(Fraction)
        notes = _center_notes(st, [s.center for s in spans])
        for s in hour_only:
            counts = eng.rows(
                "SELECT local_year, local_month, local_dow, local_hour, count(*) FROM calls "
                f"{_where(eng, s.center, 'eligible', 'received_utc IS NULL')} GROUP BY 1, 2, 3, 4"
            )
            notes.append(HOUR_ONLY_NOTE.format(center=s.center))
            for k, n in enumerate(names):
                fr = _HourFractions(_spec_for(calendars[n], zone, s.timezone), s.timezone, s.months)
                for y, m, dw, h, cnt in counts:
                    estimated[k] += cnt * fr.fraction.get((int(y), int(m), int(dw), int(h)), Fraction(0))
        first, last = _period(spans)
        rows: list[CoverageRow] = []
        total = int(total)
        for k, n in enumerate(names):
            covered = exact.get(k, 0) + float(estimated[k])
            share = covered / total if total else 0.0
            if first is not None and last is not None:
                iv = open_intervals(calendars[n], first, last)
                weeks = ((last - first).days + 1) / 7
                per_week = sum(e - s for s, e in iv) / US_PER_SECOND / 3600 / weeks
            else:
                per_week = 0.0
            base = rows[0] if rows else None
            rows.append(
                CoverageRow(
                    calendar=n,
                    eligible_calls=total,
                    covered=covered,
                    share=share,
                    covered_exact=exact.get(k, 0),
                    covered_estimated=float(estimated[k]),
                    added_calls=covered - (base.covered if base else covered),
                    added_share=share - (base.share if base else share),
                    open_hours_per_week=per_week,
                )
            )
        return Coverage(tuple(rows), zone, tuple(notes))


# --- arrival rates -------------------------------------------------------------------------------------------------


def arrival_rates(
    store: Store | str | Path,
    calendar: CalendarSpec | None = None,
    *,
    center: str | None = None,
    calendar_name: str | None = None,
    zone: Zone = "center",
    engine: Engine | None = None,
) -> ArrivalRates:
    """Eligible calls per hour, for each local hour of week, over the observed period of one center.

    rate = calls in the slot / hours of the slot observed. The period runs from the first to the last
    local date with a call (timestamped sources) or over the months present (hour-only sources). With
    a calendar, both counts are restricted to its open time (holidays and DST-length hours included).
    A store holding several centers needs `center`.
    """
    with _session(store, engine) as (st, eng):
        spans = _spans(st, eng, center)
        if len(spans) != 1:
            found = ", ".join(s.center for s in spans) or "none"
            raise DemandError(f"arrival rates are per center: pass center= (centers here: {found})")
        span = spans[0]
        calls: dict[tuple[int, int], float] = defaultdict(float)
        exposure_us: dict[tuple[int, int], int] = defaultdict(int)
        notes = _center_notes(st, [span.center])
        spec = _spec_for(calendar, zone, span.timezone) if calendar is not None else None
        if span.first is not None and span.last is not None:
            if spec is not None:
                _register_intervals(
                    eng,
                    [(0, span.center, spec, span.first - timedelta(days=1), span.last + timedelta(days=1))],
                )
                for _cal, dw, h, n in eng.rows(
                    _in_open_time_sql(eng, span.center, ("c.local_dow", "c.local_hour"))
                ):
                    calls[(int(dw), int(h))] += int(n)
                intervals: list[tuple[int, int]] = open_intervals(
                    spec, span.first - timedelta(days=1), span.last + timedelta(days=1)
                )
            else:
                for dw, h, n in eng.rows(
                    "SELECT local_dow, local_hour, count(*) FROM calls "
                    f"{_where(eng, span.center, 'eligible', 'received_utc IS NOT NULL')} GROUP BY 1, 2"
                ):
                    calls[(int(dw), int(h))] += int(n)
                intervals = []
            for slot, us in _slot_exposure(
                span.timezone, span.first, span.last, intervals if spec is not None else None
            ).items():
                exposure_us[slot] += us
        if span.months:
            notes.append(HOUR_ONLY_NOTE.format(center=span.center))
            counts = eng.rows(
                "SELECT local_year, local_month, local_dow, local_hour, count(*) FROM calls "
                f"{_where(eng, span.center, 'eligible', 'received_utc IS NULL')} GROUP BY 1, 2, 3, 4"
            )
            if spec is not None:
                fr = _HourFractions(spec, span.timezone, span.months)
                expected: dict[tuple[int, int], Fraction] = defaultdict(Fraction)
                for y, m, dw, h, n in counts:
                    expected[(int(dw), int(h))] += n * fr.fraction.get(
                        (int(y), int(m), int(dw), int(h)), Fraction(0)
                    )
                for slot, value in expected.items():
                    calls[slot] += float(value)
                for (_y, _m, dw, h), us in fr.open_us.items():
                    exposure_us[(dw, h)] += us
            else:
                for _y, _m, dw, h, n in counts:
                    calls[(int(dw), int(h))] += int(n)
                for y, m in span.months:
                    ds = list(_month_dates(y, m))
                    for day, h, lo, hi in _hour_windows(span.timezone, ds[0], ds[-1]):
                        exposure_us[(day.weekday(), h)] += hi - lo
        rows = []
        for how in range(HOURS_OF_WEEK):
            slot = (how // 24, how % 24)
            hours = exposure_us.get(slot, 0) / US_PER_SECOND / 3600
            n = calls.get(slot, 0.0)
            rows.append(RateRow(how, slot[0], slot[1], n, hours, n / hours if hours else 0.0))
        first, last = _period([span])
        name = calendar_name if calendar_name is not None else ("calendar" if calendar is not None else None)
        return ArrivalRates(span.center, name, first, last, tuple(rows), tuple(notes))


# --- repeats -------------------------------------------------------------------------------------------------------


def repeats(
    store: Store | str | Path,
    days: int = 30,
    *,
    key: Literal["address", "caller"] = "address",
    eligible_only: bool = True,
    center: str | None = None,
    engine: Engine | None = None,
) -> Repeats:
    """Calls whose key (same center) had an earlier call at most `days` x 24 h before.

    Calls of a key are taken in time order; of several calls at the same instant all but one are
    repeats (which one does not change any count, so no tie-break is needed). Only calls with a key
    and an instant take part; the others are counted apart.
    """
    if key not in ("address", "caller"):
        raise DemandError("key is address or caller")
    if days < 1:
        raise DemandError("days must be at least 1")
    with _session(store, engine) as (st, eng):
        d = eng.dialect
        col = f"{key}_key"
        scope = "eligible" if eligible_only else ""
        window_us = days * US_PER_DAY
        centers = _centers(eng, center)
        # Keys never link centers; with one center in scope the key alone partitions (faster).
        part = "k" if len(centers) <= 1 else "center, k"
        bucket = (
            "CASE WHEN n = 1 THEN '1' WHEN n = 2 THEN '2' WHEN n <= 5 THEN '3-5' "
            "WHEN n <= 10 THEN '6-10' ELSE '11+' END"
        )
        sql = f"""
WITH k AS (SELECT center, {col} AS k, {d.epoch_us("received_utc")} AS us FROM calls
           {_where(eng, center, scope, f"{col} IS NOT NULL", "received_utc IS NOT NULL")}),
w AS (SELECT center, k, us - lag(us) OVER (PARTITION BY {part} ORDER BY us) AS gap FROM k),
per AS (SELECT {part}, count(*) AS n, sum(CASE WHEN gap <= {window_us} THEN 1 ELSE 0 END) AS r
        FROM w GROUP BY {part})
SELECT {bucket} AS b, count(*), sum(n), sum(r), sum(CASE WHEN r > 0 THEN 1 ELSE 0 END) FROM per GROUP BY 1"""
        got = {str(r[0]): [int(x or 0) for x in r[1:]] for r in eng.rows(sql)}
        (left_out,) = eng.rows(
            f"SELECT count(*) FROM calls {_where(eng, center, scope, f'({col} IS NULL OR received_utc IS NULL)')}"
        )[0]
        buckets = tuple(RepeatBucket(b, *got.get(b, [0, 0])[:2]) for b in REPEAT_BUCKETS)
        notes = _center_notes(st, centers)
        info = st.centers()
        for c in centers:
            if c in info and info[c].hour_only:
                notes.append(f"{c}: only the hour of each call is known: repeats cannot be measured")
        return Repeats(
            key=key,
            days=days,
            eligible_only=eligible_only,
            calls=sum(v[1] for v in got.values()),
            calls_without_key=int(left_out),
            distinct_keys=sum(v[0] for v in got.values()),
            repeat_calls=sum(v[2] for v in got.values()),
            repeat_keys=sum(v[3] for v in got.values()),
            buckets=buckets,
            notes=tuple(notes),
        )
