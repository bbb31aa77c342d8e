"""Opening hours of directory services (domain.schedules): table-driven, America/Chicago, MN holidays.

Reference dates: 2025-11-27 is Thanksgiving (Thursday); DST began 2025-03-09 02:00 and ended
2025-11-02 02:00 in America/Chicago.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.domain.schedules import (
    HolidayCalendar,
    Hours,
    HoursReason,
    HoursState,
    NaiveDatetimeError,
    Rule,
    ScheduleError,
    describe,
    is_open_at,
    next_opening,
    parse_rule,
    status_at,
)

TZ = ZoneInfo("America/Chicago")
MN = HolidayCalendar("US", "MN")
NONE = HolidayCalendar("", None)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ, fold=fold)


def rule(**fields: object) -> Rule:
    return parse_rule(dict(fields))


OFFICE = Hours(
    (rule(freq="WEEKLY", byday="MO,TU,WE,TH,FR", opens_at="08:00", closes_at="17:00"),),
    closed_on_holidays=True,
)
OFFICE_NO_HOLIDAYS = Hours(OFFICE.rules)
SHELTER = Hours((rule(opens_at="19:00", closes_at="07:00"),), closed_on_holidays=True)  # daily, overnight
SHELTER_ALWAYS = Hours(SHELTER.rules)
NIGHT_22_06 = Hours((rule(opens_at="22:00", closes_at="06:00"),))
CRISIS_LINE = Hours(open_24_7=True)
DAILY_24H = Hours((rule(opens_at="00:00", closes_at="00:00"),))
UNTIL_2359 = Hours((rule(opens_at="08:00", closes_at="23:59"),))
FIRST_SATURDAY = Hours((rule(freq="MONTHLY", byday="1SA", opens_at="10:00", closes_at="14:00"),))
LAST_FRIDAY = Hours((rule(freq="MONTHLY", byday="-1FR", opens_at="09:00", closes_at="12:00"),))
LAST_DAY = Hours((rule(freq="MONTHLY", bymonthday="-1", opens_at="09:00", closes_at="12:00"),))
EVERY_OTHER_TUESDAY = Hours(
    (rule(freq="WEEKLY", interval=2, dtstart="2025-11-04", byday="TU", opens_at="13:00", closes_at="15:00"),)
)
SUMMER = Hours(
    (rule(byday="SA", opens_at="09:00", closes_at="12:00", valid_from="2025-06-01", valid_to="2025-08-31"),)
)
WINTER_BREAK = Hours(
    (
        *OFFICE_NO_HOLIDAYS.rules,
        rule(valid_from="2025-12-24", valid_to="2025-12-26", description="Winter break"),
    )
)
SPRING_GAP = Hours((rule(byday="SU", opens_at="02:30", closes_at="10:00"),))


CASES = [
    # (name, hours, instant, state, reason, text)
    ("office open mid-morning", OFFICE, local(2025, 11, 25, 10), "open", "open", "open now until 17:00"),
    ("office last second", OFFICE, local(2025, 11, 25, 16, 59, 59), "open", "open", "open now until 17:00"),
    (
        "office closes at 17:00",
        OFFICE,
        local(2025, 11, 25, 17),
        "closed",
        "outside_hours",
        "closed; opens tomorrow 08:00",
    ),
    (
        "office before opening",
        OFFICE,
        local(2025, 11, 25, 7, 59),
        "closed",
        "outside_hours",
        "closed; opens 08:00",
    ),
    (
        "office friday evening",
        OFFICE,
        local(2025, 11, 28, 18),
        "closed",
        "outside_hours",
        "closed; opens Mon 08:00",
    ),
    (
        "office thanksgiving",
        OFFICE,
        local(2025, 11, 27, 10),
        "closed",
        "holiday",
        "closed: holiday (Thanksgiving Day); opens tomorrow 08:00",
    ),
    (
        "office ignoring holidays",
        OFFICE_NO_HOLIDAYS,
        local(2025, 11, 27, 10),
        "open",
        "open",
        "open now until 17:00",
    ),
    (
        "office saturday (not a holiday reason)",
        OFFICE,
        local(2025, 11, 29, 10),
        "closed",
        "outside_hours",
        "closed; opens Mon 08:00",
    ),
    ("shelter evening", SHELTER, local(2025, 11, 25, 23), "open", "open", "open now until tomorrow 07:00"),
    ("shelter after midnight", SHELTER, local(2025, 11, 26, 3), "open", "open", "open now until 07:00"),
    ("shelter daytime", SHELTER, local(2025, 11, 26, 12), "closed", "outside_hours", "closed; opens 19:00"),
    # The night that began on Wednesday runs into Thanksgiving; the Thanksgiving night does not open.
    ("shelter night into holiday", SHELTER, local(2025, 11, 27, 3), "open", "open", "open now until 07:00"),
    (
        "shelter holiday evening",
        SHELTER,
        local(2025, 11, 27, 20),
        "closed",
        "holiday",
        "closed: holiday (Thanksgiving Day); opens tomorrow 19:00",
    ),
    (
        "shelter open on holidays",
        SHELTER_ALWAYS,
        local(2025, 11, 27, 20),
        "open",
        "open",
        "open now until tomorrow 07:00",
    ),
    ("crisis line", CRISIS_LINE, local(2025, 11, 27, 3), "open", "open_24_7", "open 24 hours"),
    (
        "daily 00:00-00:00 is around the clock",
        DAILY_24H,
        local(2025, 7, 4, 12),
        "open",
        "open_24_7",
        "open 24 hours",
    ),
    (
        "23:59 means midnight",
        UNTIL_2359,
        local(2025, 11, 25, 23, 59, 30),
        "open",
        "open",
        "open now until midnight",
    ),
    ("first saturday", FIRST_SATURDAY, local(2025, 12, 6, 11), "open", "open", "open now until 14:00"),
    (
        "second saturday",
        FIRST_SATURDAY,
        local(2025, 12, 13, 11),
        "closed",
        "outside_hours",
        "closed; opens Sat Jan 3 10:00",
    ),
    ("last friday", LAST_FRIDAY, local(2025, 11, 28, 10), "open", "open", "open now until 12:00"),
    (
        "not the last friday",
        LAST_FRIDAY,
        local(2025, 11, 21, 10),
        "closed",
        "outside_hours",
        "closed; opens Fri Nov 28 09:00",
    ),
    ("last day of february", LAST_DAY, local(2026, 2, 28, 10), "open", "open", "open now until 12:00"),
    (
        "every other tuesday: on",
        EVERY_OTHER_TUESDAY,
        local(2025, 11, 18, 14),
        "open",
        "open",
        "open now until 15:00",
    ),
    (
        "every other tuesday: off week",
        EVERY_OTHER_TUESDAY,
        local(2025, 11, 11, 14),
        "closed",
        "outside_hours",
        "closed; opens Tue Nov 18 13:00",
    ),
    ("summer hours in july", SUMMER, local(2025, 7, 5, 10), "open", "open", "open now until 12:00"),
    (
        "summer hours in september",
        SUMMER,
        local(2025, 9, 6, 10),
        "closed",
        "outside_hours",
        "closed; no opening in the next year",
    ),
    (
        "summer hours before june",
        SUMMER,
        local(2025, 5, 24, 10),
        "closed",
        "outside_hours",
        "closed; opens Sat Jun 7 09:00",
    ),
    (
        "own closure",
        WINTER_BREAK,
        local(2025, 12, 24, 10),
        "closed",
        "closure",
        "closed: Winter break; opens Mon 08:00",
    ),
    ("hours not listed", Hours(), local(2025, 11, 25, 10), "unknown", "hours_unknown", "hours not listed"),
    # DST: the night of the spring-forward change is 7 real hours; of the fall-back change 9.
    (
        "spring forward night still open",
        NIGHT_22_06,
        local(2025, 3, 9, 5, 30),
        "open",
        "open",
        "open now until 06:00",
    ),
    (
        "spring forward night closed at 06:00 CDT",
        NIGHT_22_06,
        local(2025, 3, 9, 6),
        "closed",
        "outside_hours",
        "closed; opens 22:00",
    ),
    (
        "fall back: first 01:30 (CDT)",
        NIGHT_22_06,
        local(2025, 11, 2, 1, 30, fold=0),
        "open",
        "open",
        "open now until 06:00",
    ),
    (
        "fall back: second 01:30 (CST)",
        NIGHT_22_06,
        local(2025, 11, 2, 1, 30, fold=1),
        "open",
        "open",
        "open now until 06:00",
    ),
]


@pytest.mark.parametrize(("name", "hours", "at", "state", "reason", "text"), CASES, ids=[c[0] for c in CASES])
def test_status_at(name: str, hours: Hours, at: datetime, state: str, reason: str, text: str) -> None:
    status = status_at(hours, at, TZ, MN)
    assert (status.state, status.reason, status.text) == (HoursState(state), HoursReason(reason), text)
    assert is_open_at(hours, at, TZ, MN) == (None if state == "unknown" else state == "open")
    # The same instant given in UTC gives the same answer: only the instant matters.
    assert status_at(hours, at.astimezone(UTC), TZ, MN).text == text


def test_until_and_next_opening_are_instants() -> None:
    status = status_at(OFFICE, local(2025, 11, 27, 10), TZ, MN)
    assert status.holiday_name == "Thanksgiving Day"
    assert status.next_opening == local(2025, 11, 28, 8)
    open_status = status_at(SHELTER, local(2025, 11, 25, 23), TZ, MN)
    assert open_status.until == local(2025, 11, 26, 7)


def test_dst_nights_have_their_true_length() -> None:
    spring = status_at(NIGHT_22_06, local(2025, 3, 8, 23), TZ, NONE)
    assert spring.until is not None
    # Aware datetimes of one zone subtract as wall clocks in Python: compare in UTC.
    assert (spring.until.astimezone(UTC) - local(2025, 3, 8, 22).astimezone(UTC)).total_seconds() == 7 * 3600
    fall = status_at(NIGHT_22_06, local(2025, 11, 1, 23), TZ, NONE)
    assert fall.until is not None
    assert (fall.until.astimezone(UTC) - local(2025, 11, 1, 22).astimezone(UTC)).total_seconds() == 9 * 3600
    assert fall.until.astimezone(UTC) == datetime(2025, 11, 2, 12, tzinfo=UTC)  # 06:00 CST


def test_opening_inside_the_spring_gap_is_a_real_wall_clock_time() -> None:
    # 02:30 does not exist on 2025-03-09; zoneinfo reads it with the pre-change offset (03:30 CDT).
    opens = next_opening(SPRING_GAP, local(2025, 3, 9, 1), TZ, NONE)
    assert opens is not None
    assert opens.astimezone(UTC) == datetime(2025, 3, 9, 8, 30, tzinfo=UTC)
    assert opens.astimezone(TZ).time() == time(3, 30)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        status_at(OFFICE, datetime(2025, 11, 25, 10), TZ, MN)  # noqa: DTZ001 - the point of the test


def test_no_opening_within_the_horizon() -> None:
    past = Hours((rule(byday="MO", opens_at="09:00", closes_at="10:00", valid_to="2020-01-01"),))
    status = status_at(past, local(2025, 11, 25, 10), TZ, MN)
    assert status.state is HoursState.CLOSED
    assert status.next_opening is None
    assert status.text == "closed; no opening in the next year"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"freq": "DAILY", "opens_at": "09:00", "closes_at": "10:00"}, "freq"),
        ({"byday": "MO,XX", "opens_at": "09:00", "closes_at": "10:00"}, "byday"),
        ({"byday": "9MO", "opens_at": "09:00", "closes_at": "10:00"}, "byday"),
        ({"opens_at": "09:00"}, "closes_at"),
        ({"opens_at": "25:00", "closes_at": "26:00"}, "opens_at"),
        ({"valid_from": "2025-02-01", "valid_to": "2025-01-01"}, "valid_to"),
        ({"valid_from": "first of may"}, "valid_from"),
        ({"interval": 0, "opens_at": "09:00", "closes_at": "10:00"}, "interval"),
        ({"bymonthday": "32", "opens_at": "09:00", "closes_at": "10:00"}, "bymonthday"),
    ],
)
def test_unreadable_schedules_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_rule(fields)
    assert err.value.field == field


def test_times_with_an_offset_are_read_as_wall_clock() -> None:
    r = rule(opens_at="09:00-05:00", closes_at="17:00:00Z")
    assert (r.opens_at, r.closes_at) == (time(9), time(17))


def test_closure_rule_is_recognised() -> None:
    closure = rule(valid_from="2025-12-24", valid_to="2025-12-26", description="Winter break")
    assert closure.is_closure and not closure.has_hours
    assert closure.bounds_ok(date(2025, 12, 25)) and not closure.bounds_ok(date(2025, 12, 27))


@pytest.mark.parametrize(
    ("r", "text"),
    [
        (OFFICE.rules[0], "Mon, Tue, Wed, Thu, Fri 08:00-17:00"),
        (SHELTER.rules[0], "Daily 19:00-07:00 (overnight)"),
        (DAILY_24H.rules[0], "Daily 24 hours"),
        (UNTIL_2359.rules[0], "Daily 08:00-24:00"),
        (FIRST_SATURDAY.rules[0], "1st Sat 10:00-14:00"),
        (LAST_FRIDAY.rules[0], "last Fri 09:00-12:00"),
        (WINTER_BREAK.rules[-1], "Closed Dec 24-Dec 26 (Winter break)"),
    ],
)
def test_describe(r: Rule, text: str) -> None:
    assert describe(r) == text
