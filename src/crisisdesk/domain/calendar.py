"""Service calendar: is the social worker's desk open at an instant, and when does it open next.

Opening hours are local wall-clock times in the protocol's time zone, half-open intervals
[open, close). Instants must be timezone-aware; they are converted to local time with zoneinfo, so
both DST change days behave (a 12:00-20:30 block is 8.5 hours on every day, and local times that do
not exist or repeat are handled by zoneinfo's PEP 495 rules). Holidays come from the maintained
`holidays` package ("as observed": a holiday on a weekend is observed on the nearby weekday) plus
the center's own closures and exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

import holidays as holidays_lib

from crisisdesk.domain.protocol import CalendarSpec
from crisisdesk.domain.reasons import Reason


class NaiveDatetimeError(ValueError):
    """Rules that depend on time refuse naive datetimes: the zone of a 911 call is never guessed."""


@dataclass(frozen=True)
class Availability:
    open: bool
    reason: Reason | None  # OUTSIDE_SERVICE_HOURS or HOLIDAY when closed
    holiday_name: str | None = None
    next_opening: datetime | None = None  # aware, in the calendar's zone; None when open


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveDatetimeError("a timezone-aware datetime is required")


class ServiceCalendar:
    """Answers open/closed questions for one `CalendarSpec`."""

    # Look this far ahead for the next opening; a calendar with no opening in a year is a mistake.
    HORIZON_DAYS = 366

    def __init__(self, spec: CalendarSpec):
        self.spec = spec
        self.tz = spec.tz

    @cached_property
    def _holidays(self) -> holidays_lib.HolidayBase | dict[date, str]:
        if not self.spec.holiday_country:
            return {}
        return holidays_lib.country_holidays(
            self.spec.holiday_country,
            subdiv=self.spec.holiday_subdivision,
            observed=True,
            categories=self.spec.holiday_categories,
        )

    def holiday_name(self, day: date) -> str | None:
        """Why the desk is closed all day on `day`, or None when it is a normal day."""
        if day in self.spec.open_dates:
            return None
        if day in self.spec.closures:
            return "Center closure"
        name = self._holidays.get(day)
        return str(name) if name else None

    def _blocks(self, day: date) -> list[tuple[datetime, datetime]]:
        """Opening intervals of a local date as aware datetimes (empty on a holiday)."""
        if self.holiday_name(day) is not None:
            return []
        out = []
        for block in self.spec.hours:
            if day.weekday() in block.days:
                start = datetime.combine(day, block.opens, tzinfo=self.tz)
                end = datetime.combine(day, block.closes, tzinfo=self.tz)
                out.append((start, end))
        return sorted(out)

    def is_open(self, at: datetime) -> Availability:
        _require_aware(at)
        local = at.astimezone(self.tz)
        # Compare as UTC instants so a block that spans a DST change has its true length.
        instant = local.timestamp()
        holiday = self.holiday_name(local.date())
        if holiday is None:
            for start, end in self._blocks(local.date()):
                if start.timestamp() <= instant < end.timestamp():
                    return Availability(open=True, reason=None)
        reason = Reason.HOLIDAY if holiday is not None and self._has_hours_on_weekday(local.date()) else None
        return Availability(
            open=False,
            reason=reason or Reason.OUTSIDE_SERVICE_HOURS,
            holiday_name=holiday,
            next_opening=self.next_opening(at),
        )

    def _has_hours_on_weekday(self, day: date) -> bool:
        """A holiday only explains a closure on a day the desk would otherwise be staffed."""
        return any(day.weekday() in block.days for block in self.spec.hours)

    def next_opening(self, at: datetime) -> datetime:
        """The first instant at or after `at` when the desk is open (local time of the calendar)."""
        _require_aware(at)
        local = at.astimezone(self.tz)
        instant = local.timestamp()
        for offset in range(self.HORIZON_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            for start, end in self._blocks(day):
                if end.timestamp() > instant:
                    # Through UTC so an opening inside a DST gap comes back as a real wall-clock time.
                    return (
                        start.astimezone(UTC).astimezone(self.tz) if start.timestamp() >= instant else local
                    )
        raise ValueError(f"the service calendar has no opening hours within {self.HORIZON_DAYS} days")
