"""Directory search: filters, open-at-a-time, distance, and the reasons each result matched.

Contract of `search(params)` (queries.search_directory wraps it with the permission check):
- only active services (status "active"); "temporarily closed" ones with include_inactive;
- needs: the service has at least one of the needs asked for;
- language: the service, its phones or one of its locations lists the language;
- insurance X: the service accepts X, or is no-cost;
- age: inside [minimum_age, maximum_age] where given (no limits listed = any age);
- gender / residency: the service lists no restriction of that kind, or lists the one asked for
  (residency matches `county:<county>`, `city:<city>` or `state:mn`);
- access: walk_in / appointment / phone / mobile tag;
- open_at: open at that instant at one of its locations (domain.schedules; hours not listed =
  excluded, since nobody can promise it is open); when no open filter is asked the status at
  `at` is still shown;
- near + within_km: the distance from the point to the nearest location with coordinates
  (haversine) is within the radius; with `near` alone results are sorted by that distance.
Results are ordered open first, then by distance, then by name; each carries its reasons, its
opening status, its staleness (not verified within `stale_days`) and the sample-data flag.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast

from crisisdesk.directory import models as m
from crisisdesk.directory.hsds import zone
from crisisdesk.directory.vocab import LANGUAGES, NEED_LABELS, TagKind, language_code
from crisisdesk.domain.schedules import (
    HolidayCalendar,
    Hours,
    OpenStatus,
    Rule,
    ScheduleError,
    describe,
    is_open_at,
    parse_rule,
    status_at,
)

EARTH_KM = 6371.0088
ID_LIST_MAX = 2000  # candidates passed to follow-up queries as a list of ids up to this many
SCHEDULE_FIELDS = (
    "freq",
    "interval",
    "byday",
    "bymonthday",
    "valid_from",
    "valid_to",
    "dtstart",
    "until",
    "opens_at",
    "closes_at",
    "description",
)
INSURANCE_LABELS = {
    "medicaid": "Medical Assistance (Medicaid)",
    "medicare": "Medicare",
    "private": "private insurance",
    "uninsured": "people without insurance",
    "no_cost": "no cost",
}
ACCESS_LABELS = {
    "walk_in": "walk-in",
    "appointment": "by appointment",
    "phone": "by phone",
    "mobile": "comes to you",
}


@dataclass(frozen=True)
class SearchParams:
    needs: tuple[str, ...] = ()
    open_at: datetime | None = None  # filter: open at this instant
    at: datetime | None = None  # instant the status is shown for (defaults to open_at or now)
    language: str = ""
    age: float | None = None
    insurance: str = ""
    gender: str = ""
    county: str = ""
    city: str = ""
    access: str = ""
    near: tuple[float, float] | None = None
    within_km: float | None = None
    text: str = ""
    include_inactive: bool = False
    limit: int = 50


@dataclass
class Site:
    location_id: int | None
    latitude: float | None = None
    longitude: float | None = None
    rules: list[Rule] = field(default_factory=list)
    distance_km: float | None = None


@dataclass
class Result:
    service: m.Service
    reasons: list[str]
    status: OpenStatus
    distance_km: float | None
    stale: bool
    verified_days: int | None
    hours: list[str]
    addresses: list[str]
    phones: list[str]
    languages: list[str]
    needs: list[str]
    eligibility: list[str]
    access: list[str]
    location_id: int | None = None


@dataclass
class SearchResult:
    results: list[Result]
    total: int
    at: datetime
    stale_days: int


def norm_place(value: str) -> str:
    return " ".join(value.strip().lower().split())


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def holidays() -> HolidayCalendar:
    return HolidayCalendar(
        getattr(settings, "DIRECTORY_HOLIDAY_COUNTRY", "US"),
        getattr(settings, "DIRECTORY_HOLIDAY_SUBDIVISION", "MN"),
    )


@lru_cache(maxsize=200_000)
def _rule(values: tuple[Any, ...]) -> Rule | None:
    """Schedules are parsed once per distinct content (pure), not once per search."""
    try:
        return parse_rule(dict(zip(SCHEDULE_FIELDS, values, strict=True)))
    except ScheduleError:
        return None  # imports reject unreadable schedules; a hand edit that broke one hides it


def _tagged(kind: str, values: Iterable[str]) -> Exists:
    return Exists(m.ServiceTag.objects.filter(service=OuterRef("pk"), kind=kind, value__in=list(values)))


def _any_tag(kind: str) -> Exists:
    return Exists(m.ServiceTag.objects.filter(service=OuterRef("pk"), kind=kind))


def candidates(p: SearchParams) -> QuerySet[m.Service]:
    """The SQL part of the search: every filter that is a column or a tag."""
    statuses = ["active", "temporarily closed"] if p.include_inactive else ["active"]
    qs = m.Service.objects.filter(status__in=statuses)
    if p.needs:
        qs = qs.filter(_tagged(TagKind.NEED, p.needs))
    if p.language:
        qs = qs.filter(
            _tagged(TagKind.LANGUAGE, [language_code(p.language, p.language) or p.language.lower()])
        )
    if p.insurance:
        qs = qs.filter(_tagged(TagKind.INSURANCE, [p.insurance, "no_cost"]))
    if p.access:
        qs = qs.filter(_tagged(TagKind.ACCESS, [p.access]))
    if p.gender:
        qs = qs.filter(~_any_tag(TagKind.GENDER) | _tagged(TagKind.GENDER, [p.gender]))
    places = [f"county:{norm_place(p.county)}" * bool(p.county), f"city:{norm_place(p.city)}" * bool(p.city)]
    if any(places):
        qs = qs.filter(
            ~_any_tag(TagKind.RESIDENCY) | _tagged(TagKind.RESIDENCY, [x for x in places if x] + ["state:mn"])
        )
    if p.age is not None:
        qs = qs.filter(Q(minimum_age__isnull=True) | Q(minimum_age__lte=p.age))
        qs = qs.filter(Q(maximum_age__isnull=True) | Q(maximum_age__gte=p.age))
    if p.text:
        qs = qs.filter(
            Q(name__icontains=p.text)
            | Q(description__icontains=p.text)
            | Q(organization__name__icontains=p.text)
        )
    if p.near is not None and p.within_km is not None:
        dlat = p.within_km / 111.0
        dlon = p.within_km / max(1e-6, 111.0 * math.cos(math.radians(p.near[0])))
        box = m.ServiceAtLocation.objects.filter(
            service=OuterRef("pk"),
            location__latitude__range=(p.near[0] - dlat, p.near[0] + dlat),
            location__longitude__range=(p.near[1] - dlon, p.near[1] + dlon),
        )
        qs = qs.filter(Exists(box))
    return qs


def _sites(scope: Any, everything: bool) -> dict[int, list[Site]]:
    """Each candidate's sites (service at location) with the rules that set its hours there.

    Hours at a site: the service_at_location's own schedules, else the service's, else the
    location's. A service offered at no location has one site with the service's schedules.
    `scope` is a list of service ids or a subquery; with `everything` (most of the directory is
    a candidate) the schedules are read in one scan instead of by the candidates' ids.
    """
    sal_rows = list(
        m.ServiceAtLocation.objects.filter(service_id__in=scope).values_list(
            "pk", "service_id", "location_id", "location__latitude", "location__longitude"
        )
    )
    # Times and dates are read as text: parse_rule reads text, and Django's converters cost more.
    text = {f"t_{f}": Cast(f, CharField()) for f in SCHEDULE_FIELDS}
    base = m.Schedule.objects.order_by().annotate(**text)
    columns = ("service_id", "service_at_location_id", "location_id", *text)
    if everything:
        rows = base.values_list(*columns)
    elif isinstance(scope, list):
        sal_ids = [r[0] for r in sal_rows]
        location_ids = list({r[2] for r in sal_rows})
        rows = base.filter(
            Q(service_id__in=scope) | Q(service_at_location_id__in=sal_ids) | Q(location_id__in=location_ids)
        ).values_list(*columns)
    else:
        sals = m.ServiceAtLocation.objects.filter(service_id__in=scope)
        rows = base.filter(
            Q(service_id__in=scope)
            | Q(service_at_location_id__in=sals.values("pk"))
            | Q(location_id__in=sals.values("location_id"))
        ).values_list(*columns)
    by_service: dict[int, list[Rule]] = {}
    by_sal: dict[int, list[Rule]] = {}
    by_location: dict[int, list[Rule]] = {}
    for service_id, sal_id, location_id, *values in rows:
        rule = _rule(tuple(values))
        if rule is None:
            continue
        if sal_id is not None:
            by_sal.setdefault(sal_id, []).append(rule)
        elif service_id is not None:
            by_service.setdefault(service_id, []).append(rule)
        elif location_id is not None:
            by_location.setdefault(location_id, []).append(rule)
    sites: dict[int, list[Site]] = {}
    for sal_id, service_id, location_id, lat, lon in sal_rows:
        rules = by_sal.get(sal_id) or by_service.get(service_id) or by_location.get(location_id) or []
        sites.setdefault(service_id, []).append(Site(location_id, lat, lon, rules))
    for service_id, rules in by_service.items():
        if service_id not in sites:
            sites[service_id] = [Site(None, rules=rules)]
    return sites


def search(p: SearchParams, *, now: datetime, stale_days: int | None = None) -> SearchResult:
    tz, cal = zone(), holidays()
    stale_days = stale_days if stale_days is not None else settings.DIRECTORY_STALE_DAYS
    at = p.at or p.open_at or now
    qs = candidates(p)
    rows = list(qs.values_list("pk", "name"))
    # Small candidate sets travel as id lists (index lookups); large ones as the subquery.
    scope: Any = [pk for pk, _ in rows] if len(rows) <= _id_list_max() else qs.values("pk")
    hour_tags: dict[int, set[str]] = {}
    for service_id, value in m.ServiceTag.objects.filter(
        service_id__in=scope, kind=TagKind.HOURS
    ).values_list("service_id", "value"):
        hour_tags.setdefault(service_id, set()).add(value)
    everything = len(rows) > _id_list_max() and len(rows) >= 0.6 * m.Service.objects.count()
    sites = _sites(scope, everything=everything)
    ranked: list[tuple[tuple[Any, ...], int, Site | None]] = []
    memo: dict[tuple[Any, ...], bool | None] = {}  # directories repeat hour patterns many times
    for service_id, name in rows:
        tags = hour_tags.get(service_id, set())
        its = sites.get(service_id) or [Site(None)]
        for site in its:
            if p.near is not None and site.latitude is not None and site.longitude is not None:
                site.distance_km = haversine_km(p.near, (site.latitude, site.longitude))
        best = min(its, key=lambda s: (s.distance_km is None, s.distance_km or 0.0))
        if p.within_km is not None and (best.distance_km is None or best.distance_km > p.within_km):
            continue
        # Open-first ordering needs the status of every candidate, not only of the shown page.
        opens = [_open(_hours(s, tags), memo, at, tz, cal) for s in its]
        is_open = any(o is True for o in opens)
        if is_open and not best_open(best, its, opens):
            best = next(s for s, o in zip(its, opens, strict=True) if o)
        if p.open_at is not None and not is_open:
            continue
        key = (not is_open, best.distance_km is None, best.distance_km or 0.0, name.lower())
        ranked.append((key, service_id, best))
    ranked.sort(key=lambda r: r[0])
    top = ranked[: p.limit]
    results = _details(p, top, hour_tags, at, now, stale_days)
    return SearchResult(results=results, total=len(ranked), at=at, stale_days=stale_days)


def _id_list_max() -> int:
    """SQLite before 3.32 allows 999 variables per statement; the schedule query uses 3 lists."""
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 32):
        return 300
    return ID_LIST_MAX


def _open(
    hours: Hours, memo: dict[tuple[Any, ...], bool | None], at: datetime, tz: Any, cal: HolidayCalendar
) -> bool | None:
    # Rules come from the _rule cache, so equal schedules are the same objects: key by identity
    # (hashing the dataclasses field by field costs more than evaluating them).
    key = (*map(id, hours.rules), hours.closed_on_holidays, hours.open_24_7)
    if key not in memo:
        memo[key] = is_open_at(hours, at, tz, cal)
    return memo[key]


def best_open(best: Site, sites: list[Site], opens: list[bool | None]) -> bool:
    """Whether the nearest site is itself open (else the first open site is shown)."""
    return any(s is best and o for s, o in zip(sites, opens, strict=True))


def _hours(site: Site, tags: set[str]) -> Hours:
    return Hours(
        tuple(site.rules), closed_on_holidays="closed_on_holidays" in tags, open_24_7="open_24_7" in tags
    )


def _details(
    p: SearchParams,
    top: list[tuple[tuple[Any, ...], int, Site | None]],
    hour_tags: dict[int, set[str]],
    at: datetime,
    now: datetime,
    stale_days: int,
) -> list[Result]:
    """Everything a result card shows, for the page of results only (a handful of queries)."""
    ids = [service_id for _, service_id, _ in top]
    services = m.Service.objects.select_related("organization").in_bulk(ids)
    tags: dict[int, dict[str, list[str]]] = {}
    for service_id, kind, value in m.ServiceTag.objects.filter(service_id__in=ids).values_list(
        "service_id", "kind", "value"
    ):
        tags.setdefault(service_id, {}).setdefault(kind, []).append(value)
    location_ids = {site.location_id for _, _, site in top if site and site.location_id}
    addresses: dict[int, list[str]] = {}
    for address in m.Address.objects.filter(location_id__in=location_ids):
        if address.address_type != "postal" or not addresses.get(address.location_id):
            addresses.setdefault(address.location_id, []).append(address.one_line())
    phones: dict[int, list[str]] = {}
    for service_id, number, ext, kind in m.Phone.objects.filter(service_id__in=ids).values_list(
        "service_id", "number", "extension", "type"
    ):
        label = (
            number + (f" ext. {int(ext)}" if ext else "") + (f" ({kind})" if kind and kind != "voice" else "")
        )
        phones.setdefault(service_id, []).append(label)
    tz, cal = zone(), holidays()
    today = now.astimezone(tz).date()
    out = []
    for _, service_id, site in top:
        service = services[service_id]
        stags = tags.get(service_id, {})
        hours = _hours(site or Site(None), hour_tags.get(service_id, set()))
        status = status_at(hours, at, tz, cal, is_now=abs((at - now).total_seconds()) < 60)
        verified = service.last_verified_at
        days = max(0, (today - verified.astimezone(tz).date()).days) if verified else None
        out.append(
            Result(
                service=service,
                reasons=_reasons(p, service, stags, status, site, at, now),
                status=status,
                distance_km=site.distance_km if site else None,
                stale=days is None or days > stale_days,
                verified_days=days,
                hours=_hour_lines(hours),
                addresses=addresses.get(site.location_id, []) if site and site.location_id else [],
                phones=phones.get(service_id, []),
                languages=[LANGUAGES.get(c, c) for c in sorted(stags.get(TagKind.LANGUAGE, []))],
                needs=[NEED_LABELS.get(n, n) for n in sorted(stags.get(TagKind.NEED, []))],
                eligibility=_eligibility(service, stags),
                access=[ACCESS_LABELS.get(a, a) for a in sorted(stags.get(TagKind.ACCESS, []))],
                location_id=site.location_id if site else None,
            )
        )
    return out


def _hour_lines(hours: Hours) -> list[str]:
    lines = ["Open 24 hours, every day"] if hours.open_24_7 else []
    lines += [describe(r) for r in hours.rules]
    if hours.closed_on_holidays:
        lines.append("Closed on public holidays")
    return lines or ["Hours not listed: call first"]


def _eligibility(service: m.Service, tags: dict[str, list[str]]) -> list[str]:
    out = []
    lo, hi = service.minimum_age, service.maximum_age
    if lo is not None or hi is not None:
        out.append(f"ages {_age_range(lo, hi)}")
    if tags.get(TagKind.GENDER):
        out.append("only " + ", ".join(sorted(tags[TagKind.GENDER])))
    if tags.get(TagKind.RESIDENCY):
        out.append("residents of " + ", ".join(_place(r) for r in sorted(tags[TagKind.RESIDENCY])))
    paid = sorted(i for i in tags.get(TagKind.INSURANCE, []) if i != "no_cost")
    if paid:
        out.append("accepts " + ", ".join(INSURANCE_LABELS.get(i, i) for i in paid))
    if "no_cost" in tags.get(TagKind.INSURANCE, []):
        out.append("no cost")
    return out


def _age_range(lo: float | None, hi: float | None) -> str:
    return f"{_n(lo) if lo is not None else 0}" + (f"-{_n(hi)}" if hi is not None else "+")


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _place(code: str) -> str:
    scope, _, name = code.partition(":")
    label = name.title() if scope != "state" else name.upper()
    return f"{label} County" if scope == "county" else label


def _reasons(
    p: SearchParams,
    service: m.Service,
    tags: dict[str, list[str]],
    status: OpenStatus,
    site: Site | None,
    at: datetime,
    now: datetime,
) -> list[str]:
    """Why this result is here, one line per filter asked for (and nothing for filters not asked)."""
    out = [f"offers {NEED_LABELS.get(n, n).lower()}" for n in p.needs if n in tags.get(TagKind.NEED, [])]
    if p.open_at is not None:
        is_now = abs((p.open_at - now).total_seconds()) < 60
        out.append(
            status.text
            if is_now
            else f"open at {p.open_at.astimezone(zone()):%a %b %-d %H:%M}: {status.text}"
        )
    if p.language:
        code = language_code(p.language, p.language) or p.language.lower()
        out.append(f"serves {LANGUAGES.get(code, code)}")
    if p.age is not None:
        lo, hi = service.minimum_age, service.maximum_age
        out.append(
            f"age {_n(p.age)} is within ages {_age_range(lo, hi)}"
            if lo is not None or hi is not None
            else "no age limits listed"
        )
    if p.insurance:
        accepted = tags.get(TagKind.INSURANCE, [])
        out.append(
            f"accepts {INSURANCE_LABELS.get(p.insurance, p.insurance)}"
            if p.insurance in accepted
            else "no cost"
        )
    if p.gender:
        out.append(f"serves {p.gender}" if tags.get(TagKind.GENDER) else "no gender restriction listed")
    if p.county or p.city:
        listed = tags.get(TagKind.RESIDENCY, [])
        out.append(
            "residents of " + ", ".join(_place(r) for r in listed) if listed else "no residency rule listed"
        )
    if p.access:
        out.append(ACCESS_LABELS.get(p.access, p.access))
    if p.near is not None:
        out.append(
            f"{site.distance_km:.1f} km away"
            if site and site.distance_km is not None
            else "no coordinates listed"
        )
    if p.text:
        out.append(f"mentions '{p.text}'")
    return out


def stale_before(now: datetime, stale_days: int) -> datetime:
    """Listings verified before this instant (local midnight, `stale_days` days ago) are stale."""
    tz = zone()
    day = now.astimezone(tz).date() - timedelta(days=stale_days)
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)
