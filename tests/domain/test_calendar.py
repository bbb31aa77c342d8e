"""The service calendar (`crisisdesk.domain.calendar`): hours, holidays as observed, DST gap and fold."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.domain.calendar import NaiveDatetimeError, ServiceCalendar
from crisisdesk.domain.protocol import CalendarSpec, OpeningHours
from crisisdesk.domain.reasons import Reason
from crisisdesk.protocols import load_protocol

CHI = ZoneInfo("America/Chicago")
MECC_SPEC = load_protocol().calendar
MECC = ServiceCalendar(MECC_SPEC)
EVERY_DAY = frozenset(range(7))
# Open every day of the week, including a 00:00-12:00 block so the DST gap (02:00-03:00 does not exist
# on 2026-03-08) and fold (01:00-02:00 happens twice on 2026-11-01) fall inside opening hours.
ROUND_THE_CLOCK = ServiceCalendar(
    CalendarSpec(
        timezone="America/Chicago",
        hours=(
            OpeningHours(EVERY_DAY, time(0, 0), time(12, 0)),
            OpeningHours(EVERY_DAY, time(13, 0), time(20, 30)),
        ),
        holiday_country=None,
    )
)


def chi(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, fold: int = 0
) -> datetime:
    """A wall-clock time in Chicago; fold=1 picks the second of two repeated times (PEP 495)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CHI, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


def as_utc(at: datetime | None) -> datetime:
    assert at is not None
    return at.astimezone(UTC)


# --- hour boundaries on a normal Wednesday (2026-11-25, CST = UTC-6) ---------------------------------

BOUNDARIES = [
    pytest.param(chi(2026, 11, 25, 11, 59, 59), False, id="local-1159-59-closed"),
    pytest.param(chi(2026, 11, 25, 12, 0, 0), True, id="local-1200-open"),
    pytest.param(chi(2026, 11, 25, 20, 29, 59), True, id="local-2029-59-open"),
    pytest.param(
        datetime(2026, 11, 25, 20, 29, 59, 999999, tzinfo=CHI), True, id="local-last-microsecond-open"
    ),
    pytest.param(chi(2026, 11, 25, 20, 30, 0), False, id="local-2030-closed"),
    pytest.param(utc(2026, 11, 25, 17, 59, 59), False, id="utc-1759-59-closed"),
    pytest.param(utc(2026, 11, 25, 18, 0, 0), True, id="utc-1800-open"),
    pytest.param(utc(2026, 11, 26, 2, 29, 59), True, id="utc-next-day-0229-59-open"),
    pytest.param(utc(2026, 11, 26, 2, 30, 0), False, id="utc-next-day-0230-closed"),
    pytest.param(datetime(2026, 11, 25, 12, 59, 59, tzinfo=offset(-5)), False, id="eastern-1259-59-closed"),
    pytest.param(datetime(2026, 11, 25, 13, 0, tzinfo=offset(-5)), True, id="eastern-1300-open"),
    pytest.param(datetime(2026, 11, 25, 23, 30, tzinfo=offset(5.5)), True, id="india-2330-open"),
    pytest.param(datetime(2026, 11, 26, 3, 29, 59, tzinfo=offset(1)), True, id="cet-next-day-0329-open"),
    pytest.param(datetime(2026, 11, 26, 3, 30, tzinfo=offset(1)), False, id="cet-next-day-0330-closed"),
    pytest.param(
        datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles")), True, id="pacific-open"
    ),
]


@pytest.mark.parametrize(("at", "is_open"), BOUNDARIES)
def test_hour_boundaries_on_a_normal_wednesday(at: datetime, is_open: bool) -> None:
    availability = MECC.is_open(at)
    assert availability.open is is_open
    if is_open:
        assert availability.reason is None
        assert availability.next_opening is None
    else:
        assert availability.reason is Reason.OUTSIDE_SERVICE_HOURS
        assert availability.holiday_name is None
        assert availability.next_opening is not None


# --- weekends and holidays ----------------------------------------------------------------------------

CLOSED_DAYS = [
    # (instant, reason, holiday name as the `holidays` package spells it, next opening, local)
    pytest.param(
        chi(2026, 11, 28, 14), Reason.OUTSIDE_SERVICE_HOURS, None, chi(2026, 11, 30, 12), id="saturday"
    ),
    pytest.param(
        chi(2026, 11, 29, 12, 30), Reason.OUTSIDE_SERVICE_HOURS, None, chi(2026, 11, 30, 12), id="sunday"
    ),
    pytest.param(
        chi(2026, 11, 26, 14), Reason.HOLIDAY, "Thanksgiving Day", chi(2026, 11, 27, 12), id="thanksgiving"
    ),
    pytest.param(
        chi(2026, 11, 26, 9),
        Reason.HOLIDAY,
        "Thanksgiving Day",
        chi(2026, 11, 27, 12),
        id="thanksgiving-morning",
    ),
    pytest.param(
        chi(2026, 11, 26, 21),
        Reason.HOLIDAY,
        "Thanksgiving Day",
        chi(2026, 11, 27, 12),
        id="thanksgiving-night",
    ),
    # Independence Day 2026 is Saturday July 4: observed on Friday July 3.
    pytest.param(
        chi(2026, 7, 3, 13),
        Reason.HOLIDAY,
        "Independence Day (observed)",
        chi(2026, 7, 6, 12),
        id="independence-observed-friday",
    ),
    # The holiday itself falls on a weekend: the desk is closed because it is the weekend.
    pytest.param(
        chi(2026, 7, 4, 13),
        Reason.OUTSIDE_SERVICE_HOURS,
        "Independence Day",
        chi(2026, 7, 6, 12),
        id="independence-day-saturday",
    ),
    pytest.param(
        chi(2026, 6, 19, 15),
        Reason.HOLIDAY,
        "Juneteenth National Independence Day",
        chi(2026, 6, 22, 12),
        id="juneteenth-friday",
    ),
    pytest.param(
        chi(2026, 12, 25, 13), Reason.HOLIDAY, "Christmas Day", chi(2026, 12, 28, 12), id="christmas"
    ),
    pytest.param(
        chi(2027, 1, 1, 13), Reason.HOLIDAY, "New Year's Day", chi(2027, 1, 4, 12), id="new-year-2027"
    ),
    pytest.param(
        chi(2026, 11, 11, 13), Reason.HOLIDAY, "Veterans Day", chi(2026, 11, 12, 12), id="veterans-day"
    ),
]


@pytest.mark.parametrize(("at", "reason", "holiday", "next_opening"), CLOSED_DAYS)
def test_weekends_and_holidays_are_closed(
    at: datetime, reason: Reason, holiday: str | None, next_opening: datetime
) -> None:
    availability = MECC.is_open(at)
    assert availability.open is False
    assert availability.reason is reason
    assert availability.holiday_name == holiday
    assert as_utc(availability.next_opening) == as_utc(next_opening)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        pytest.param(date(2026, 7, 2), None, id="thursday-before"),
        pytest.param(date(2026, 7, 3), "Independence Day (observed)", id="observed-friday"),
        pytest.param(date(2026, 7, 4), "Independence Day", id="saturday-itself"),
        pytest.param(date(2026, 11, 26), "Thanksgiving Day", id="thanksgiving"),
        pytest.param(date(2026, 11, 27), None, id="day-after-thanksgiving-is-not-federal"),
        pytest.param(date(2026, 12, 24), None, id="christmas-eve-is-not-federal"),
    ],
)
def test_holiday_name(day: date, name: str | None) -> None:
    assert MECC.holiday_name(day) == name


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(chi(2026, 7, 2, 13), id="thursday-before-observed"),
        pytest.param(chi(2026, 7, 6, 12), id="monday-after"),
        pytest.param(chi(2026, 11, 27, 12), id="friday-after-thanksgiving"),
    ],
)
def test_days_around_holidays_are_open(at: datetime) -> None:
    assert MECC.is_open(at).open is True


# --- next opening -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(chi(2026, 11, 25, 8), chi(2026, 11, 25, 12), id="before-opening-same-day"),
        pytest.param(chi(2026, 11, 25, 0, 0), chi(2026, 11, 25, 12), id="midnight-same-day"),
        pytest.param(chi(2026, 11, 24, 20, 30), chi(2026, 11, 25, 12), id="exactly-at-close"),
        pytest.param(chi(2026, 11, 20, 20, 30), chi(2026, 11, 23, 12), id="friday-close-across-weekend"),
        pytest.param(chi(2026, 11, 21, 10), chi(2026, 11, 23, 12), id="saturday-across-weekend"),
        pytest.param(chi(2026, 11, 25, 20, 30), chi(2026, 11, 27, 12), id="across-thanksgiving"),
        pytest.param(chi(2026, 12, 24, 20, 30), chi(2026, 12, 28, 12), id="across-christmas-and-weekend"),
        pytest.param(chi(2026, 7, 2, 21), chi(2026, 7, 6, 12), id="across-observed-holiday-and-weekend"),
        pytest.param(utc(2026, 11, 25, 14), chi(2026, 11, 25, 12), id="utc-input"),
        pytest.param(chi(2026, 11, 25, 12), chi(2026, 11, 25, 12), id="at-opening-is-itself"),
        pytest.param(chi(2026, 11, 25, 15, 45), chi(2026, 11, 25, 15, 45), id="while-open-is-itself"),
    ],
)
def test_next_opening(at: datetime, expected: datetime) -> None:
    found = MECC.next_opening(at)
    assert as_utc(found) == as_utc(expected)
    assert found.tzinfo == CHI  # reported in the calendar's zone, whatever the input's zone


def test_next_opening_of_a_calendar_that_never_opens_raises() -> None:
    never = ServiceCalendar(
        CalendarSpec(
            "America/Chicago", (OpeningHours(frozenset(), time(12), time(13)),), holiday_country=None
        )
    )
    with pytest.raises(ValueError, match="no opening hours within 366 days"):
        never.next_opening(chi(2026, 11, 25, 12))


# --- DST: MECC's Monday/Friday around the two change Sundays ------------------------------------------

DST_WEEKDAYS = [
    # Spring forward on Sunday 2026-03-08: Friday is CST (UTC-6), Monday is CDT (UTC-5).
    pytest.param(utc(2026, 3, 6, 17, 59, 59), False, id="spring-fri-1159-cst"),
    pytest.param(utc(2026, 3, 6, 18, 0), True, id="spring-fri-1200-cst"),
    pytest.param(utc(2026, 3, 7, 2, 29, 59), True, id="spring-fri-2029-cst"),
    pytest.param(utc(2026, 3, 7, 2, 30), False, id="spring-fri-2030-cst"),
    pytest.param(chi(2026, 3, 8, 12), False, id="spring-sunday-noon"),
    pytest.param(utc(2026, 3, 9, 16, 59, 59), False, id="spring-mon-1159-cdt"),
    pytest.param(utc(2026, 3, 9, 17, 0), True, id="spring-mon-1200-cdt"),
    pytest.param(utc(2026, 3, 10, 1, 29, 59), True, id="spring-mon-2029-cdt"),
    pytest.param(utc(2026, 3, 10, 1, 30), False, id="spring-mon-2030-cdt"),
    # Fall back on Sunday 2026-11-01: Friday is CDT (UTC-5), Monday is CST (UTC-6).
    pytest.param(utc(2026, 10, 30, 16, 59, 59), False, id="fall-fri-1159-cdt"),
    pytest.param(utc(2026, 10, 30, 17, 0), True, id="fall-fri-1200-cdt"),
    pytest.param(utc(2026, 10, 31, 1, 29, 59), True, id="fall-fri-2029-cdt"),
    pytest.param(utc(2026, 10, 31, 1, 30), False, id="fall-fri-2030-cdt"),
    pytest.param(chi(2026, 11, 1, 1, 30, fold=1), False, id="fall-sunday-repeated-hour"),
    pytest.param(utc(2026, 11, 2, 17, 59, 59), False, id="fall-mon-1159-cst"),
    pytest.param(utc(2026, 11, 2, 18, 0), True, id="fall-mon-1200-cst"),
    pytest.param(utc(2026, 11, 3, 2, 29, 59), True, id="fall-mon-2029-cst"),
    pytest.param(utc(2026, 11, 3, 2, 30), False, id="fall-mon-2030-cst"),
]


@pytest.mark.parametrize(("at", "is_open"), DST_WEEKDAYS)
def test_mecc_hours_on_the_weekdays_around_dst_changes(at: datetime, is_open: bool) -> None:
    assert MECC.is_open(at).open is is_open


@pytest.mark.parametrize(
    ("closed_at", "opens_at", "elapsed"),
    [
        # Friday 20:30 CST to Monday 12:00 CDT: one hour less than a normal weekend.
        pytest.param(
            chi(2026, 3, 6, 20, 30), utc(2026, 3, 9, 17), timedelta(hours=62, minutes=30), id="spring-weekend"
        ),
        # Friday 20:30 CDT to Monday 12:00 CST: one hour more.
        pytest.param(
            chi(2026, 10, 30, 20, 30),
            utc(2026, 11, 2, 18),
            timedelta(hours=64, minutes=30),
            id="fall-weekend",
        ),
        pytest.param(
            chi(2026, 11, 20, 20, 30),
            utc(2026, 11, 23, 18),
            timedelta(hours=63, minutes=30),
            id="normal-weekend",
        ),
    ],
)
def test_next_opening_across_a_dst_weekend(
    closed_at: datetime, opens_at: datetime, elapsed: timedelta
) -> None:
    found = MECC.next_opening(closed_at)
    assert as_utc(found) == opens_at
    assert as_utc(found) - as_utc(closed_at) == elapsed
    assert (found.hour, found.minute) == (12, 0)  # noon on the wall clock either side of the change


def test_a_weekday_block_is_eight_and_a_half_hours_on_both_sides_of_each_change() -> None:
    for day in (date(2026, 3, 6), date(2026, 3, 9), date(2026, 10, 30), date(2026, 11, 2)):
        opens = MECC.next_opening(datetime.combine(day, time(6), tzinfo=CHI))
        closes = opens + timedelta(hours=8, minutes=30)
        assert MECC.is_open(closes - timedelta(microseconds=1)).open
        assert not MECC.is_open(closes).open


# --- DST: a calendar open 7 days, so the gap and the fold fall inside opening hours --------------------

GAP_AND_FOLD = [
    # Spring forward, Sunday 2026-03-08: 02:00 CST jumps to 03:00 CDT (08:00Z).
    pytest.param(utc(2026, 3, 8, 5, 59, 59), False, id="gap-day-saturday-night"),
    pytest.param(utc(2026, 3, 8, 6, 0), True, id="gap-day-0000-cst"),
    pytest.param(utc(2026, 3, 8, 7, 59, 59), True, id="gap-last-second-before"),
    pytest.param(utc(2026, 3, 8, 8, 0), True, id="gap-boundary-0300-cdt"),
    pytest.param(chi(2026, 3, 8, 2, 30), True, id="gap-nonexistent-local-0230"),
    pytest.param(utc(2026, 3, 8, 16, 59, 59), True, id="gap-day-1159-cdt"),
    pytest.param(utc(2026, 3, 8, 17, 0), False, id="gap-day-1200-cdt"),
    pytest.param(utc(2026, 3, 8, 18, 0), True, id="gap-day-1300-cdt"),
    pytest.param(utc(2026, 3, 9, 1, 30), False, id="gap-day-2030-cdt"),
    # Fall back, Sunday 2026-11-01: 01:00-02:00 happens at 06:00Z (CDT) and again at 07:00Z (CST).
    pytest.param(utc(2026, 11, 1, 4, 59, 59), False, id="fold-day-saturday-night"),
    pytest.param(utc(2026, 11, 1, 5, 0), True, id="fold-day-0000-cdt"),
    pytest.param(chi(2026, 11, 1, 1, 30, fold=0), True, id="fold-first-0130-cdt"),
    pytest.param(chi(2026, 11, 1, 1, 30, fold=1), True, id="fold-second-0130-cst"),
    pytest.param(utc(2026, 11, 1, 17, 59, 59), True, id="fold-day-1159-cst"),
    pytest.param(utc(2026, 11, 1, 18, 0), False, id="fold-day-1200-cst"),
    pytest.param(utc(2026, 11, 1, 19, 0), True, id="fold-day-1300-cst"),
]


@pytest.mark.parametrize(("at", "is_open"), GAP_AND_FOLD)
def test_gap_and_fold_inside_opening_hours(at: datetime, is_open: bool) -> None:
    assert ROUND_THE_CLOCK.is_open(at).open is is_open


def test_utc_instant_at_the_gap_boundary_is_three_oclock_local() -> None:
    local = utc(2026, 3, 8, 8, 0).astimezone(CHI)
    assert (local.hour, local.utcoffset()) == (3, timedelta(hours=-5))
    # One second earlier is 01:59:59 CST: 02:xx never appears on the wall clock.
    earlier = utc(2026, 3, 8, 7, 59, 59).astimezone(CHI)
    assert (earlier.hour, earlier.minute, earlier.utcoffset()) == (1, 59, timedelta(hours=-6))


def test_the_two_repeated_instants_are_an_hour_apart_in_utc() -> None:
    first, second = chi(2026, 11, 1, 1, 30, fold=0), chi(2026, 11, 1, 1, 30, fold=1)
    assert as_utc(first) == utc(2026, 11, 1, 6, 30)
    assert as_utc(second) == utc(2026, 11, 1, 7, 30)
    # Both are inside the open block: next_opening is the instant itself, fold kept.
    assert as_utc(ROUND_THE_CLOCK.next_opening(second)) == utc(2026, 11, 1, 7, 30)


@pytest.mark.parametrize(
    ("day_start_utc", "morning", "afternoon"),
    [
        pytest.param(
            utc(2026, 3, 8, 6), timedelta(hours=11), timedelta(hours=7, minutes=30), id="spring-gap-day"
        ),
        pytest.param(
            utc(2026, 11, 1, 5), timedelta(hours=13), timedelta(hours=7, minutes=30), id="fall-fold-day"
        ),
        pytest.param(
            utc(2026, 11, 8, 6), timedelta(hours=12), timedelta(hours=7, minutes=30), id="normal-sunday"
        ),
    ],
)
def test_block_durations_in_utc(day_start_utc: datetime, morning: timedelta, afternoon: timedelta) -> None:
    """00:00-12:00 lasts 11 h on the gap day and 13 h on the fold day; 13:00-20:30 is always 7.5 h."""
    tick = timedelta(microseconds=1)
    cal = ROUND_THE_CLOCK
    assert cal.is_open(day_start_utc).open
    morning_end = day_start_utc + morning
    assert cal.is_open(morning_end - tick).open
    closed = cal.is_open(morning_end)
    assert not closed.open
    afternoon_start = as_utc(closed.next_opening)
    assert afternoon_start - morning_end == timedelta(hours=1)
    assert cal.is_open(afternoon_start + afternoon - tick).open
    assert not cal.is_open(afternoon_start + afternoon).open


def test_a_block_closing_inside_the_repeated_hour_closes_at_its_first_occurrence() -> None:
    """Blocks are half-open intervals on the UTC line: 00:00-01:30 ends at the first 01:30 (CDT)."""
    cal = ServiceCalendar(
        CalendarSpec(
            "America/Chicago", (OpeningHours(EVERY_DAY, time(0), time(1, 30)),), holiday_country=None
        )
    )
    assert cal.is_open(chi(2026, 11, 1, 1, 29, fold=0)).open
    assert not cal.is_open(chi(2026, 11, 1, 1, 30, fold=0)).open
    assert not cal.is_open(chi(2026, 11, 1, 1, 15, fold=1)).open  # the repeated 01:15 (CST) is later


def test_regression_next_opening_inside_the_gap_is_a_real_wall_clock_time() -> None:
    """FAILS today: a block opening at 02:30 on 2026-03-08 opens at 08:30Z (03:30 CDT, PEP 495 fold=0),
    but next_opening returns the non-existent wall time 02:30-06:00, which a screen would show as 02:30."""
    cal = ServiceCalendar(
        CalendarSpec(
            "America/Chicago", (OpeningHours(EVERY_DAY, time(2, 30), time(12)),), holiday_country=None
        )
    )
    found = cal.next_opening(utc(2026, 3, 8, 7, 0))
    assert as_utc(found) == utc(2026, 3, 8, 8, 30)
    assert found.isoformat() == as_utc(found).astimezone(CHI).isoformat()


# --- naive datetimes --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["is_open", "next_opening"])
def test_naive_datetimes_are_refused(method: str) -> None:
    naive = datetime(2026, 11, 25, 13, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(NaiveDatetimeError):
        getattr(MECC, method)(naive)


def test_naive_datetime_error_is_a_value_error() -> None:
    assert issubclass(NaiveDatetimeError, ValueError)


# --- closures and open dates override holidays --------------------------------------------------------


def calendar_with(**changes: Any) -> ServiceCalendar:
    return ServiceCalendar(dataclasses.replace(MECC_SPEC, **changes))


@pytest.mark.parametrize(
    ("changes", "at", "is_open", "reason", "holiday"),
    [
        pytest.param(
            {"open_dates": frozenset({date(2026, 11, 26)})},
            chi(2026, 11, 26, 14),
            True,
            None,
            None,
            id="open-date-on-thanksgiving",
        ),
        pytest.param(
            {"open_dates": frozenset({date(2026, 7, 3)})},
            chi(2026, 7, 3, 13),
            True,
            None,
            None,
            id="open-date-on-observed-holiday",
        ),
        pytest.param(
            {"open_dates": frozenset({date(2026, 11, 26)})},
            chi(2026, 11, 26, 9),
            False,
            Reason.OUTSIDE_SERVICE_HOURS,
            None,
            id="open-date-keeps-the-hours",
        ),
        pytest.param(
            {"open_dates": frozenset({date(2026, 7, 4)})},
            chi(2026, 7, 4, 13),
            False,
            Reason.OUTSIDE_SERVICE_HOURS,
            None,
            id="open-date-on-a-weekend-has-no-hours",
        ),
        pytest.param(
            {"closures": frozenset({date(2026, 11, 27)})},
            chi(2026, 11, 27, 13),
            False,
            Reason.HOLIDAY,
            "Center closure",
            id="closure-on-a-weekday",
        ),
        pytest.param(
            {"closures": frozenset({date(2026, 11, 26)})},
            chi(2026, 11, 26, 13),
            False,
            Reason.HOLIDAY,
            "Center closure",
            id="closure-on-a-holiday-names-the-closure",
        ),
        pytest.param(
            {"closures": frozenset({date(2026, 11, 28)})},
            chi(2026, 11, 28, 13),
            False,
            Reason.OUTSIDE_SERVICE_HOURS,
            "Center closure",
            id="closure-on-a-weekend",
        ),
        pytest.param(
            {"holiday_country": None},
            chi(2026, 11, 26, 14),
            True,
            None,
            None,
            id="no-holiday-country",
        ),
    ],
)
def test_closures_and_open_dates(
    changes: dict[str, Any], at: datetime, is_open: bool, reason: Reason | None, holiday: str | None
) -> None:
    availability = calendar_with(**changes).is_open(at)
    assert availability.open is is_open
    assert availability.reason is reason
    assert availability.holiday_name == holiday


def test_next_opening_skips_closures() -> None:
    cal = calendar_with(closures=frozenset({date(2026, 11, 27), date(2026, 11, 30)}))
    assert as_utc(cal.next_opening(chi(2026, 11, 25, 21))) == as_utc(chi(2026, 12, 1, 12))


def test_next_opening_uses_open_dates() -> None:
    cal = calendar_with(open_dates=frozenset({date(2026, 11, 26)}))
    assert as_utc(cal.next_opening(chi(2026, 11, 25, 21))) == as_utc(chi(2026, 11, 26, 12))
