"""The protocol of one 911 center as typed, immutable data.

A protocol is authored as a YAML file (see `crisisdesk/protocols/mecc.yaml` and
docs/protocol-authoring.md) or stored as a version row in the database; both are parsed by
`parse_protocol` from a plain mapping, so this module does no I/O. Parsing validates everything a
decision depends on and raises `ProtocolError` listing every problem, so a broken protocol is refused
before it can be published rather than failing on a live call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from crisisdesk.domain.reasons import DISPATCH_REASONS, FALLBACK_REASONS, Reason

# The reasons a screening question may carry, by kind: a "yes" to an exclusion is a safety reason;
# a "no" to the consent question is the caller declining.
EXCLUSION_REASONS = frozenset(DISPATCH_REASONS) - {
    Reason.CALL_TYPE_EMERGENCY_ONLY,
    Reason.SCREENING_INCOMPLETE,
}
CONSENT_REASONS = frozenset({Reason.CALLER_DECLINED})

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPACES = re.compile(r"\s+")


class Scope(StrEnum):
    IN_SCOPE = "in_scope"  # may go to the social worker when screening allows
    NOT_IN_SCOPE = "not_in_scope"  # handled by police / fire / EMS as usual
    EMERGENCY_ONLY = "emergency_only"  # an emergency by nature: never transferred, whatever the answers


class QuestionKind(StrEnum):
    EXCLUSION = "exclusion"  # a "yes" keeps the call with police / fire / EMS
    CONSENT = "consent"  # a "no" means the caller declined the social worker


class ProtocolError(ValueError):
    """A protocol document is invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid protocol: " + "; ".join(problems))


def normalise_call_type(name: str) -> str:
    """The key a call-type name is matched on: CAD systems pad and re-case names freely."""
    return _SPACES.sub(" ", name).strip().casefold()


@dataclass(frozen=True)
class CallType:
    name: str
    apco: str
    scope: Scope
    note: str = ""

    @property
    def key(self) -> str:
        return normalise_call_type(self.name)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: QuestionKind
    reason: Reason
    help: str = ""


@dataclass(frozen=True)
class FallbackOption:
    id: str
    label: str
    instructions: str = ""


@dataclass(frozen=True)
class OpeningHours:
    """Open on `days` from `opens` (inclusive) to `closes` (exclusive), local wall-clock time."""

    days: frozenset[int]  # 0 = Monday, as date.weekday()
    opens: time
    closes: time


@dataclass(frozen=True)
class CalendarSpec:
    timezone: str
    hours: tuple[OpeningHours, ...]
    holiday_country: str | None = "US"
    holiday_subdivision: str | None = None
    holiday_categories: tuple[str, ...] = ("public",)
    closures: frozenset[date] = frozenset()  # extra closed days (the City's own closures)
    open_dates: frozenset[date] = frozenset()  # open although a holiday falls on them

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Protocol:
    center: str
    name: str
    version: str
    calendar: CalendarSpec
    questions: tuple[Question, ...]
    fallback_options: tuple[FallbackOption, ...]
    fallbacks: Mapping[Reason, tuple[str, ...]]
    call_types: tuple[CallType, ...]
    transfer_timeout_seconds: int = 90
    # An escalation back to 911 that no telecommunicator acknowledged within this many seconds
    # alerts the supervisor.
    escalation_ack_seconds: int = 60
    _by_key: Mapping[str, CallType] = field(default_factory=dict, repr=False, compare=False)

    def find_call_type(self, name: str) -> CallType | None:
        return self._by_key.get(normalise_call_type(name))

    def option(self, option_id: str) -> FallbackOption:
        for opt in self.fallback_options:
            if opt.id == option_id:
                return opt
        raise KeyError(option_id)

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    def all_clear_answers(self) -> dict[str, bool]:
        """The answers under which no question stands in the way of a transfer (demo data, load tests)."""
        return {q.id: q.kind is QuestionKind.CONSENT for q in self.questions}


def _mapping(value: Any, where: str, problems: list[str]) -> Mapping[str, Any]:
    """`value` as a mapping; anything else (a string, a list) is a problem, reported once."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where}: must be a mapping of key: value, not {type(value).__name__}")
        return {}
    return value


def _list(value: Any, where: str, problems: list[str]) -> list[Any]:
    """`value` as a list; a bare string where a list belongs is refused instead of read letter by letter."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list, e.g. [a, b], not {type(value).__name__}")
        return []
    return value


def _hhmm(value: Any, where: str, problems: list[str]) -> time:
    try:
        hours, minutes = str(value).split(":")
        if str(value) == "24:00":
            return time(23, 59, 59, 999999)
        return time(int(hours), int(minutes))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a HH:MM time")
        return time(0, 0)


def _date(value: Any, where: str, problems: list[str]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not an ISO date")
        return None


def _parse_calendar(doc: Mapping[str, Any], problems: list[str]) -> CalendarSpec:
    tz_name = str(doc.get("timezone", ""))
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone: {tz_name!r} is not an IANA time zone")
        tz_name = "UTC"
    cal = _mapping(doc.get("service_calendar"), "service_calendar", problems)
    hours: list[OpeningHours] = []
    for i, raw_block in enumerate(_list(cal.get("hours"), "service_calendar.hours", problems)):
        where = f"service_calendar.hours[{i}]"
        block = _mapping(raw_block, where, problems)
        days = set()
        for d in _list(block.get("days"), f"{where}.days", problems):
            if str(d).lower() not in WEEKDAYS:
                problems.append(f"{where}.days: {d!r} is not one of {', '.join(WEEKDAYS)}")
            else:
                days.add(WEEKDAYS.index(str(d).lower()))
        if not days:
            problems.append(f"{where}.days: at least one day is required")
        opens = _hhmm(block.get("open"), f"{where}.open", problems)
        closes = _hhmm(block.get("close"), f"{where}.close", problems)
        if closes <= opens:
            problems.append(f"{where}: close must be after open (overnight blocks: split them at midnight)")
        hours.append(OpeningHours(frozenset(days), opens, closes))
    if not hours:
        problems.append("service_calendar.hours: at least one block of opening hours is required")
    hol = _mapping(cal.get("holidays"), "service_calendar.holidays", problems)
    categories = tuple(str(c) for c in _list(hol.get("categories"), "holidays.categories", problems)) or (
        "public",
    )
    if hol.get("country"):
        try:
            # Build the table once so an unknown country, subdivision or category is refused now,
            # not on the first live call.
            holidays_lib.country_holidays(
                str(hol["country"]), subdiv=hol.get("subdivision"), categories=categories, years=2026
            )
        except (NotImplementedError, ValueError, KeyError) as exc:
            problems.append(f"service_calendar.holidays: {exc}")
    closures = {
        d
        for i, v in enumerate(_list(cal.get("closures"), "closures", problems))
        if (d := _date(v, f"closures[{i}]", problems))
    }
    open_dates = {
        d
        for i, v in enumerate(_list(cal.get("open_dates"), "open_dates", problems))
        if (d := _date(v, f"open_dates[{i}]", problems))
    }
    return CalendarSpec(
        timezone=tz_name,
        hours=tuple(hours),
        holiday_country=hol.get("country"),
        holiday_subdivision=hol.get("subdivision"),
        holiday_categories=categories,
        closures=frozenset(closures),
        open_dates=frozenset(open_dates),
    )


def parse_protocol(doc: Mapping[str, Any]) -> Protocol:
    """Build a `Protocol` from its document form, or raise `ProtocolError` with every problem."""
    problems: list[str] = []
    for key in ("center", "name", "version"):
        if not str(doc.get(key) or "").strip():
            problems.append(f"{key}: required")
    calendar = _parse_calendar(doc, problems)

    questions: list[Question] = []
    for i, raw_q in enumerate(_list(doc.get("screening"), "screening", problems)):
        where = f"screening[{i}]"
        q = _mapping(raw_q, where, problems)
        if not q:
            continue
        try:
            kind = QuestionKind(str(q.get("kind")))
        except ValueError:
            problems.append(f"{where}.kind: {q.get('kind')!r} must be exclusion or consent")
            continue
        reason_code = q.get("reason") or (
            q.get("id") if kind is QuestionKind.EXCLUSION else "caller_declined"
        )
        allowed = EXCLUSION_REASONS if kind is QuestionKind.EXCLUSION else CONSENT_REASONS
        try:
            reason = Reason(str(reason_code))
        except ValueError:
            problems.append(f"{where}.reason: {reason_code!r} is not a known reason code")
            continue
        if reason not in allowed:
            problems.append(
                f"{where}.reason: {reason.value!r} cannot be the reason of a {kind.value} question "
                f"(use one of {sorted(r.value for r in allowed)})"
            )
            continue
        if not q.get("id") or not q.get("text"):
            problems.append(f"{where}: id and text are required")
            continue
        questions.append(Question(str(q["id"]), str(q["text"]), kind, reason, str(q.get("help") or "")))
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        problems.append("screening: question ids must be unique")
    if not any(q.kind is QuestionKind.EXCLUSION for q in questions):
        problems.append("screening: at least one safety (exclusion) question is required")

    options: list[FallbackOption] = []
    for i, raw_o in enumerate(_list(doc.get("fallback_options"), "fallback_options", problems)):
        o = _mapping(raw_o, f"fallback_options[{i}]", problems)
        if o.get("id") in (None, ""):
            problems.append(f"fallback_options[{i}]: id is required")
            continue
        options.append(
            FallbackOption(str(o["id"]), str(o.get("label") or o["id"]), str(o.get("instructions") or ""))
        )
    option_ids = {o.id for o in options}
    fallbacks: dict[Reason, tuple[str, ...]] = {}
    for reason_code, opts in _mapping(doc.get("fallbacks"), "fallbacks", problems).items():
        try:
            reason = Reason(str(reason_code))
        except ValueError:
            problems.append(f"fallbacks.{reason_code}: not a known reason code")
            continue
        # YAML reads an unquoted 988 as a number: compare option ids as text on both sides.
        refs = tuple(str(o) for o in _list(opts, f"fallbacks.{reason_code}", problems))
        for ref in refs:
            if ref not in option_ids:
                problems.append(f"fallbacks.{reason_code}: {ref!r} is not in fallback_options")
        fallbacks[reason] = refs
    for reason in FALLBACK_REASONS:
        if not fallbacks.get(reason):
            problems.append(f"fallbacks.{reason.value}: at least one fallback option is required")

    call_types: list[CallType] = []
    seen: dict[str, str] = {}
    for i, raw_ct in enumerate(_list(doc.get("call_types"), "call_types", problems)):
        where = f"call_types[{i}]"
        ct = _mapping(raw_ct, where, problems)
        if not ct:
            continue
        name = str(ct.get("name") or "").strip()
        try:
            scope = Scope(str(ct.get("scope")))
        except ValueError:
            problems.append(f"{where}.scope: {ct.get('scope')!r} must be one of {[s.value for s in Scope]}")
            continue
        if not name or not ct.get("apco"):
            problems.append(f"{where}: name and apco are required")
            continue
        call_type = CallType(name, str(ct["apco"]), scope, str(ct.get("note") or ""))
        if call_type.key in seen:
            problems.append(f"{where}: {name!r} matches {seen[call_type.key]!r} once trimmed and case-folded")
            continue
        seen[call_type.key] = name
        call_types.append(call_type)
    if not call_types:
        problems.append("call_types: at least one call type is required")

    timeout = doc.get("transfer_timeout_seconds", 90)
    if not isinstance(timeout, int) or not 10 <= timeout <= 600:
        problems.append("transfer_timeout_seconds: a whole number of seconds between 10 and 600")
        timeout = 90
    ack = doc.get("escalation_ack_seconds", 60)
    if not isinstance(ack, int) or isinstance(ack, bool) or not 5 <= ack <= 600:
        problems.append("escalation_ack_seconds: a whole number of seconds between 5 and 600")
        ack = 60
    if problems:
        raise ProtocolError(problems)
    return Protocol(
        center=str(doc["center"]).strip(),
        name=str(doc["name"]).strip(),
        version=str(doc["version"]).strip(),
        calendar=calendar,
        questions=tuple(questions),
        fallback_options=tuple(options),
        fallbacks=fallbacks,
        call_types=tuple(call_types),
        transfer_timeout_seconds=timeout,
        escalation_ack_seconds=ack,
        _by_key={ct.key: ct for ct in call_types},
    )
