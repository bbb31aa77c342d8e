"""Opening hours of directory services (Open Referral HSDS 3.0 schedules): open now, open at, next opening.

Semantics implemented (HSDS 3.0 `schedule` follows RFC 5545 recurrence fields):
- A rule opens at `opens_at` and closes at `closes_at`, local wall-clock time of the directory's zone
  (America/Chicago for MECC; HSDS's numeric `timezone` offset is ignored because a fixed offset is
  wrong for half of every year). Intervals are half-open [opens, closes).
- `closes_at` earlier than `opens_at` is an overnight rule: it closes the next morning. Equal times
  mean 24 hours from `opens_at`. A `closes_at` of 23:59 or 23:59:59 means midnight (end of day).
- Which days a rule occurs on: `freq` WEEKLY with `byday` (MO..SU; no byday = the weekday of
  `dtstart`, or every day without dtstart); MONTHLY with `bymonthday` (1..31, negative counts from
  the month's end) or ordinal `byday` (1MO = first Monday, -1FR = last Friday); `interval` N means
  every Nth week / month counted from `dtstart`. Without `freq`: `byday` acts as WEEKLY, a rule
  with valid_from == valid_to is a one-day opening, anything else occurs daily.
- A rule occurs only on days inside [valid_from, valid_to] and [dtstart, until] (inclusive dates).
- A closure is a schedule with valid_from/valid_to and no hours and no day rule: nothing opens on
  those dates. Public holidays (the `holidays` package, as observed, for a configured country and
  subdivision) close a service only when it is marked closed_on_holidays.
- An opening that began the day before a holiday or closure runs to its end (an overnight shelter
  that opened on Wednesday evening does not throw people out at midnight on Thanksgiving).
- `open_24_7` services are open at every instant outside their closures (and holidays, if marked).
Instants must be timezone-aware; intervals are compared as UTC instants, so DST change days have
their true length and a local time inside the spring-forward gap is read as zoneinfo (PEP 495) does.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

RULES_VERSION = "hsds-schedules-1"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Look this far for the next opening (a yearly rule still shows), and merge back-to-back openings
# over at most this many days before calling a service "open around the clock".
HORIZON_DAYS = 400
MERGE_DAYS = 8
_TIME_WITH_OFFSET = re.compile(r"^(\d{1,2}:\d{2}(?::\d{2})?)(?:Z|[+-]\d{2}(?::?\d{2})?)$")


class ScheduleError(ValueError):
    """A schedule that cannot be read; `field` names the HSDS field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class NaiveDatetimeError(ValueError):
    """The zone of an instant is never guessed."""


class HoursState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


class HoursReason(enum.StrEnum):
    OPEN = "open"
    OPEN_24_7 = "open_24_7"
    OUTSIDE_HOURS = "outside_hours"
    HOLIDAY = "holiday"
    CLOSURE = "closure"
    HOURS_UNKNOWN = "hours_unknown"


@dataclass(frozen=True)
class Rule:
    """One HSDS schedule read into typed fields (see parse_rule)."""

    opens_at: time | None = None
    closes_at: time | None = None
    freq: str = ""
    interval: int = 1
    byday: tuple[tuple[int | None, int], ...] = ()  # (ordinal or None, weekday 0=Mon)
    bymonthday: tuple[int, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    dtstart: date | None = None
    until: date | None = None
    note: str = ""
    _first: date = field(init=False, repr=False, compare=False)
    _last: date = field(init=False, repr=False, compare=False)

    @property
    def is_closure(self) -> bool:
        return (
            self.opens_at is None
            and self.closes_at is None
            and not self.byday
            and not self.bymonthday
            and self.valid_from is not None
            and self.valid_to is not None
        )

    @property
    def has_hours(self) -> bool:
        return self.opens_at is not None and self.closes_at is not None

    def __post_init__(self) -> None:
        # The first and last day the rule may occur, computed once: search asks for every service.
        starts = [d for d in (self.valid_from, self.dtstart) if d is not None]
        ends = [d for d in (self.valid_to, self.until) if d is not None]
        object.__setattr__(self, "_first", max(starts) if starts else date.min)
        object.__setattr__(self, "_last", min(ends) if ends else date.max)

    def bounds_ok(self, day: date) -> bool:
        return self._first <= day <= self._last

    def occurs_on(self, day: date) -> bool:
        """Whether an opening of this rule starts on local date `day` (closures never occur)."""
        if not self.has_hours or not self.bounds_ok(day):
            return False
        freq = self.freq or ("WEEKLY" if self.byday else "")
        if freq == "WEEKLY":
            if self.interval > 1 and self.dtstart is not None:
                weeks = (_monday(day) - _monday(self.dtstart)).days // 7
                if weeks % self.interval:
                    return False
            if self.byday:
                return any(wd == day.weekday() for _, wd in self.byday)
            return self.dtstart is None or day.weekday() == self.dtstart.weekday()
        if freq == "MONTHLY":
            if self.interval > 1 and self.dtstart is not None:
                months = (day.year - self.dtstart.year) * 12 + day.month - self.dtstart.month
                if months % self.interval:
                    return False
            last = _month_length(day)
            if self.bymonthday:
                return any(day.day == (n if n > 0 else last + 1 + n) for n in self.bymonthday)
            if self.byday:
                return any(_nth_weekday_matches(day, n, wd, last) for n, wd in self.byday)
            return self.dtstart is None or day.day == self.dtstart.day
        if self.valid_from is not None and self.valid_from == self.valid_to:
            return day == self.valid_from
        return True

    def interval_on(self, day: date, tz: ZoneInfo) -> tuple[float, float]:
        """[start, end) of the opening that starts on `day`, as POSIX timestamps."""
        assert self.opens_at is not None and self.closes_at is not None
        start = datetime.combine(day, self.opens_at, tzinfo=tz)
        closes = self.closes_at
        if closes >= time(23, 59):  # "23:59" is how many directories write midnight
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        elif closes <= self.opens_at:
            end = datetime.combine(day + timedelta(days=1), closes, tzinfo=tz)
        else:
            end = datetime.combine(day, closes, tzinfo=tz)
        return start.timestamp(), end.timestamp()


@dataclass(frozen=True)
class Hours:
    """Everything that decides whether one service (at one location) is open."""

    rules: tuple[Rule, ...] = ()
    closed_on_holidays: bool = False
    open_24_7: bool = False

    @property
    def known(self) -> bool:
        return self.open_24_7 or any(r.has_hours for r in self.rules)


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays of a country / subdivision (empty country = no holidays)."""

    country: str = "US"
    subdivision: str | None = "MN"

    def name(self, day: date) -> str | None:
        if not self.country:
            return None
        return _holiday_table(self.country, self.subdivision, day.year).get(day)


@dataclass(frozen=True)
class OpenStatus:
    """Outcome + reason + the words shown: "open now until 17:00", "closed: holiday (Thanksgiving)"."""

    state: HoursState
    reason: HoursReason
    text: str
    until: datetime | None = None  # when an open service closes (None: around the clock)
    next_opening: datetime | None = None  # when a closed service opens (None: not within the horizon)
    holiday_name: str | None = None
    version: str = field(default=RULES_VERSION)

    @property
    def is_open(self) -> bool:
        return self.state is HoursState.OPEN


# --- reading HSDS fields ----------------------------------------------------------------------


def parse_time(value: object, field_name: str) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    text = str(value).strip()
    # HSDS allows a UTC offset suffix ("09:00-05:00", "14:00Z"); hours are read as local wall-clock
    # time because a fixed offset is wrong for half of every year in a zone with DST.
    match = _TIME_WITH_OFFSET.match(text)
    if match:
        text = match.group(1)
    for fmt in ("%H:%M:%S", "%H:%M"):
        try:
            return datetime.strptime(text, fmt).time()  # noqa: DTZ007 - a wall-clock time, no date
        except ValueError:
            continue
    if text in ("24:00", "24:00:00"):
        return time(23, 59, 59)
    raise ScheduleError(field_name, f"'{text}' is not a time of day (HH:MM or HH:MM:SS)")


def parse_date(value: object, field_name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ScheduleError(field_name, f"'{value}' is not a date (YYYY-MM-DD)") from None


def parse_byday(value: object) -> tuple[tuple[int | None, int], ...]:
    out = []
    for raw in str(value or "").replace(" ", "").upper().split(","):
        if not raw:
            continue
        code, prefix = raw[-2:], raw[:-2]
        if code not in WEEKDAYS:
            raise ScheduleError("byday", f"'{raw}' is not a day (MO, TU, WE, TH, FR, SA, SU, or 1MO, -1FR)")
        try:
            ordinal = int(prefix) if prefix not in ("", "+") else None
        except ValueError:
            raise ScheduleError("byday", f"'{raw}' has an unreadable ordinal") from None
        if ordinal is not None and not (1 <= abs(ordinal) <= 5):
            raise ScheduleError("byday", f"'{raw}': the ordinal must be 1..5 or -1..-5")
        out.append((ordinal, WEEKDAYS.index(code)))
    return tuple(out)


def parse_rule(fields: dict[str, object]) -> Rule:
    """Read one HSDS schedule (its raw field values) into a Rule; ScheduleError names the bad field."""
    freq = str(fields.get("freq") or "").strip().upper()
    if freq not in ("", "WEEKLY", "MONTHLY"):
        raise ScheduleError("freq", f"'{freq}' is not WEEKLY or MONTHLY")
    interval_raw = fields.get("interval")
    try:
        interval = int(float(str(interval_raw))) if interval_raw not in (None, "") else 1
    except ValueError:
        raise ScheduleError("interval", f"'{interval_raw}' is not a number") from None
    if interval < 1:
        raise ScheduleError("interval", "must be 1 or more")
    try:
        monthdays = tuple(
            int(x) for x in str(fields.get("bymonthday") or "").replace(" ", "").split(",") if x
        )
    except ValueError:
        raise ScheduleError(
            "bymonthday", f"'{fields.get('bymonthday')}' is not a list of day numbers"
        ) from None
    if any(not (1 <= abs(n) <= 31) for n in monthdays):
        raise ScheduleError("bymonthday", "day numbers must be 1..31 or -1..-31")
    rule = Rule(
        opens_at=parse_time(fields.get("opens_at"), "opens_at"),
        closes_at=parse_time(fields.get("closes_at"), "closes_at"),
        freq=freq,
        interval=interval,
        byday=parse_byday(fields.get("byday")),
        bymonthday=monthdays,
        valid_from=parse_date(fields.get("valid_from"), "valid_from"),
        valid_to=parse_date(fields.get("valid_to"), "valid_to"),
        dtstart=parse_date(fields.get("dtstart"), "dtstart"),
        until=parse_date(fields.get("until"), "until"),
        note=str(fields.get("description") or fields.get("notes") or ""),
    )
    if (rule.opens_at is None) != (rule.closes_at is None):
        missing = "closes_at" if rule.closes_at is None else "opens_at"
        raise ScheduleError(missing, "opens_at and closes_at must be given together")
    if rule.valid_from and rule.valid_to and rule.valid_to < rule.valid_from:
        raise ScheduleError("valid_to", "is before valid_from")
    return rule


# --- deciding ---------------------------------------------------------------------------------


def status_at(
    hours: Hours, at: datetime, tz: ZoneInfo, holidays: HolidayCalendar, *, is_now: bool = True
) -> OpenStatus:
    """Is the service open at instant `at`; if open until when, if closed why and when it opens next.

    `is_now` only changes the words: "open now until 17:00" versus "open until 17:00" for a
    question about another time. Times in the words are relative to `at` ("tomorrow 08:00").
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveDatetimeError("a timezone-aware datetime is required")
    if not hours.known:
        return OpenStatus(HoursState.UNKNOWN, HoursReason.HOURS_UNKNOWN, "hours not listed")
    instant = at.timestamp()
    today = at.astimezone(tz).date()
    current = _containing(hours, instant, today, tz, holidays)
    if current is not None:
        end = _merged_end(hours, current, today, tz, holidays)
        if end is None:
            return OpenStatus(HoursState.OPEN, HoursReason.OPEN_24_7, "open 24 hours")
        until = datetime.fromtimestamp(end, UTC).astimezone(tz)
        open_words = "open now until" if is_now else "open until"
        return OpenStatus(
            HoursState.OPEN, HoursReason.OPEN, f"{open_words} {_when(until, at, tz)}", until=until
        )
    closure = _closure_note(hours, today)
    holiday = holidays.name(today) if hours.closed_on_holidays else None
    nxt = next_opening(hours, at, tz, holidays)
    opens = f"opens {_when(nxt, at, tz)}" if nxt else "no opening in the next year"
    if closure is not None:
        return OpenStatus(
            HoursState.CLOSED, HoursReason.CLOSURE, f"closed: {closure}; {opens}", next_opening=nxt
        )
    if holiday is not None and _would_open(hours, today):
        return OpenStatus(
            HoursState.CLOSED,
            HoursReason.HOLIDAY,
            f"closed: holiday ({holiday}); {opens}",
            next_opening=nxt,
            holiday_name=holiday,
        )
    return OpenStatus(HoursState.CLOSED, HoursReason.OUTSIDE_HOURS, f"closed; {opens}", next_opening=nxt)


def is_open_at(hours: Hours, at: datetime, tz: ZoneInfo, holidays: HolidayCalendar) -> bool | None:
    """The fast path for filtering: True / False, or None when the hours are not listed."""
    if not hours.known:
        return None
    return _containing(hours, at.timestamp(), at.astimezone(tz).date(), tz, holidays) is not None


def next_opening(hours: Hours, at: datetime, tz: ZoneInfo, holidays: HolidayCalendar) -> datetime | None:
    """The first instant after `at` at which an opening starts (None: none within HORIZON_DAYS)."""
    instant = at.timestamp()
    first = at.astimezone(tz).date()
    for offset in range(HORIZON_DAYS + 1):
        day = first + timedelta(days=offset)
        starts = [s for s, _ in _intervals(hours, day, tz, holidays) if s > instant]
        if starts:
            return datetime.fromtimestamp(min(starts), UTC).astimezone(tz)
    return None


def describe(rule: Rule) -> str:
    """One line for people: "Mon, Tue 08:00-17:00", "Daily 22:00-07:00 (overnight)", "Closed Nov 27"."""
    if rule.is_closure:
        assert rule.valid_from is not None and rule.valid_to is not None
        span = f"{rule.valid_from:%b %-d}" + (
            f"-{rule.valid_to:%b %-d}" if rule.valid_to != rule.valid_from else ""
        )
        return f"Closed {span}" + (f" ({rule.note})" if rule.note else "")
    if not rule.has_hours:
        return rule.note or "Hours not listed"
    assert rule.opens_at is not None and rule.closes_at is not None
    if rule.bymonthday:
        days = "Monthly on day " + ", ".join(str(n) for n in rule.bymonthday)
    elif rule.byday:
        days = ", ".join((f"{_ordinal(n)} " if n is not None else "") + DAY_NAMES[wd] for n, wd in rule.byday)
    elif rule.valid_from is not None and rule.valid_from == rule.valid_to:
        days = f"{rule.valid_from:%a %b %-d}"
    else:
        days = "Daily"
    closes = "24:00" if rule.closes_at >= time(23, 59) else f"{rule.closes_at:%H:%M}"
    span = f"{rule.opens_at:%H:%M}-{closes}"
    if rule.opens_at == rule.closes_at:
        span = "24 hours"
    elif rule.closes_at < rule.opens_at:
        span += " (overnight)"
    return f"{days} {span}"


# --- internals --------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _holiday_table(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    table = holidays_lib.country_holidays(country, subdiv=subdivision, years=year, observed=True)
    return {day: str(name) for day, name in table.items()}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_length(day: date) -> int:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _nth_weekday_matches(day: date, n: int | None, weekday: int, last: int) -> bool:
    if day.weekday() != weekday:
        return False
    if n is None:
        return True
    if n > 0:
        return (day.day - 1) // 7 + 1 == n
    return (last - day.day) // 7 + 1 == -n


def _ordinal(n: int) -> str:
    if n < 0:
        return "last" if n == -1 else f"{-n}th-last"
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _closure_note(hours: Hours, day: date) -> str | None:
    for rule in hours.rules:
        if rule.is_closure and rule.bounds_ok(day):
            return rule.note or "closure"
    return None


def _day_closed(hours: Hours, day: date, holidays: HolidayCalendar) -> bool:
    if _closure_note(hours, day) is not None:
        return True
    return hours.closed_on_holidays and holidays.name(day) is not None


def _would_open(hours: Hours, day: date) -> bool:
    return hours.open_24_7 or any(r.occurs_on(day) for r in hours.rules)


def _intervals(hours: Hours, day: date, tz: ZoneInfo, holidays: HolidayCalendar) -> list[tuple[float, float]]:
    """Openings that start on local date `day` (none on a closure, or a holiday when it closes)."""
    if _day_closed(hours, day, holidays):
        return []
    if hours.open_24_7:
        start = datetime.combine(day, time(0), tzinfo=tz).timestamp()
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).timestamp()
        return [(start, end)]
    return [r.interval_on(day, tz) for r in hours.rules if r.occurs_on(day)]


def _containing(
    hours: Hours, instant: float, today: date, tz: ZoneInfo, holidays: HolidayCalendar
) -> tuple[float, float] | None:
    # An opening that contains the instant started today or yesterday (overnight / 24 h rules).
    for day in (today, today - timedelta(days=1)):
        for start, end in _intervals(hours, day, tz, holidays):
            if start <= instant < end:
                return start, end
    return None


def _merged_end(
    hours: Hours, current: tuple[float, float], today: date, tz: ZoneInfo, holidays: HolidayCalendar
) -> float | None:
    """Follow back-to-back openings; None when the service stays open for MERGE_DAYS days."""
    end = current[1]
    spans = [
        iv
        for d in range(-1, MERGE_DAYS + 1)
        for iv in _intervals(hours, today + timedelta(days=d), tz, holidays)
    ]
    changed = True
    while changed:
        changed = False
        for start, stop in spans:
            if start <= end < stop:
                end, changed = stop, True
    if end - current[0] >= MERGE_DAYS * 86400 - 3600:
        return None
    return end


def _when(moment: datetime, at: datetime, tz: ZoneInfo) -> str:
    local, ref = moment.astimezone(tz), at.astimezone(tz)
    if local.date() == ref.date():
        return f"{local:%H:%M}"
    if local.date() == ref.date() + timedelta(days=1):
        return f"tomorrow {local:%H:%M}" if local.time() != time(0) else "midnight"
    if (local.date() - ref.date()).days < 7:
        return f"{local:%a %H:%M}"
    return f"{local:%a %b %-d %H:%M}"
