"""HSDS flat records <-> directory rows, and the checks every imported record must pass.

`check()` decides, for every flat record of an import, accept or reject, and gives every reason:
1. the record's table schema (HSDS 3.0 JSON Schema, formats included) and field meaning
   (schedules must be readable by domain.schedules, dates must be dates, coordinates in range,
   minimum_age <= maximum_age);
2. the same id twice in one file is merged when the copies agree and the later copy is rejected
   when they differ; across the files of one import a later file updates an earlier one;
3. references: every `<table>_id` a record gives must name a record accepted in this import or
   already in the directory; a record whose parent was rejected is rejected with that reason.
   (`link_id` of attributes, `resource_id` of metadata and `parent_*` ids are not checked: HSDS
   lets them point anywhere.) Crisis Desk also needs an address to name its location and a
   service_at_location to name its service and location.
Nothing is dropped silently: each rejected record has at least one Problem.

`row_values()` turns an accepted flat row into model field values plus `extra` (the fields that are
not typed columns, kept for a lossless export); `flat_tables()` reads the directory back as flat
HSDS rows. A converted value whose canonical text differs from what was imported (a time "10:00"
stored as 10:00:00, a date-time given for assured_date) keeps the original text in extra["_raw"],
which export writes back while the value is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models

from crisisdesk.directory import models as m
from crisisdesk.directory.hsds_forms import FlatRecord, Parsed, Problem
from crisisdesk.directory.hsds_schema import TABLES, row_problems
from crisisdesk.domain.schedules import ScheduleError, parse_date, parse_rule, parse_time


@dataclass(frozen=True)
class Mapping:
    table: str
    model: type[models.Model]
    fields: dict[str, tuple[str, str]]  # HSDS column -> (model field, kind: str / num / int / date / time)
    links: dict[str, tuple[str, str]]  # HSDS column -> (model foreign key, target table)
    required_links: tuple[str, ...] = ()


def _str(*names: str) -> dict[str, tuple[str, str]]:
    return {n: (n, "str") for n in names}


MAPPINGS: dict[str, Mapping] = {
    mp.table: mp
    for mp in (
        Mapping("taxonomy", m.Taxonomy, _str("name", "description", "uri", "version"), {}),
        Mapping(
            "taxonomy_term",
            m.TaxonomyTerm,
            {
                **_str("code", "name", "description", "taxonomy", "language", "term_uri"),
                "parent_id": ("parent_hsds_id", "str"),
            },
            {"taxonomy_id": ("taxonomy_ref", "taxonomy")},
        ),
        Mapping(
            "organization",
            m.Organization,
            _str("name", "alternate_name", "description", "email", "website"),
            {},
        ),
        Mapping(
            "service",
            m.Service,
            {
                **_str(
                    "name",
                    "alternate_name",
                    "description",
                    "url",
                    "email",
                    "status",
                    "interpretation_services",
                    "application_process",
                    "fees_description",
                    "eligibility_description",
                    "alert",
                    "assurer_email",
                ),
                "minimum_age": ("minimum_age", "num"),
                "maximum_age": ("maximum_age", "num"),
                "assured_date": ("last_verified_at", "verified"),
            },
            {"organization_id": ("organization", "organization")},
        ),
        Mapping(
            "location",
            m.Location,
            {
                **_str("location_type", "name", "alternate_name", "description", "transportation"),
                "latitude": ("latitude", "num"),
                "longitude": ("longitude", "num"),
            },
            {"organization_id": ("organization", "organization")},
        ),
        Mapping(
            "service_at_location",
            m.ServiceAtLocation,
            _str("description"),
            {"service_id": ("service", "service"), "location_id": ("location", "location")},
            ("service_id", "location_id"),
        ),
        Mapping(
            "contact",
            m.Contact,
            _str("name", "title", "department", "email"),
            {
                "organization_id": ("organization", "organization"),
                "service_id": ("service", "service"),
                "service_at_location_id": ("service_at_location", "service_at_location"),
                "location_id": ("location", "location"),
            },
        ),
        Mapping(
            "phone",
            m.Phone,
            {**_str("number", "type", "description"), "extension": ("extension", "num")},
            {
                "location_id": ("location", "location"),
                "service_id": ("service", "service"),
                "organization_id": ("organization", "organization"),
                "contact_id": ("contact", "contact"),
                "service_at_location_id": ("service_at_location", "service_at_location"),
            },
        ),
        Mapping(
            "language",
            m.Language,
            _str("name", "code", "note"),
            {
                "service_id": ("service", "service"),
                "location_id": ("location", "location"),
                "phone_id": ("phone", "phone"),
            },
        ),
        Mapping(
            "address",
            m.Address,
            _str(
                "attention",
                "address_1",
                "address_2",
                "city",
                "region",
                "state_province",
                "postal_code",
                "country",
                "address_type",
            ),
            {"location_id": ("location", "location")},
            ("location_id",),
        ),
        Mapping(
            "schedule",
            m.Schedule,
            {
                **_str("freq", "byday", "bymonthday", "description", "attending_type", "notes"),
                "interval": ("interval", "int"),
                "valid_from": ("valid_from", "date"),
                "valid_to": ("valid_to", "date"),
                "dtstart": ("dtstart", "date"),
                "until": ("until", "date"),
                "opens_at": ("opens_at", "time"),
                "closes_at": ("closes_at", "time"),
            },
            {
                "service_id": ("service", "service"),
                "location_id": ("location", "location"),
                "service_at_location_id": ("service_at_location", "service_at_location"),
            },
        ),
        Mapping(
            "attribute",
            m.Attribute,
            _str("link_id", "link_entity", "link_type", "value"),
            {"taxonomy_term_id": ("taxonomy_term", "taxonomy_term")},
        ),
    )
}
# Write order: a table after every table it refers to.
_FIRST = [
    "taxonomy",
    "taxonomy_term",
    "organization",
    "program",
    "service",
    "location",
    "service_at_location",
]
ORDER = [
    *_FIRST,
    *(t for t in MAPPINGS if t not in _FIRST),
    *(t for t in TABLES if t not in MAPPINGS and t not in _FIRST),
]
UNCHECKED_LINKS = {"id", "link_id", "resource_id", "parent_id", "parent_organization_id"}
_TARGETS = {"taxonomy_term_id": "taxonomy_term", "taxonomy_id": "taxonomy"}


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def link_target(column: str) -> str | None:
    """The table a `<table>_id` column refers to (None for columns that are not checked)."""
    if column in UNCHECKED_LINKS or not column.endswith("_id"):
        return None
    target = _TARGETS.get(column, column.removesuffix("_id"))
    return target if target in TABLES else None


# --- values -------------------------------------------------------------------------------------


def _to_model(kind: str, raw: Any, column: str) -> Any:
    if kind == "str":
        return str(raw)
    if kind in ("num", "int"):
        number = float(raw)
        return int(number) if kind == "int" else number
    if kind == "date":
        return parse_date(raw, column)
    if kind == "time":
        return parse_time(raw, column)
    if kind == "verified":  # assured_date: the listing was checked on that local date
        day = parse_date(raw, column)
        return None if day is None else datetime.combine(day, time(0), tzinfo=zone())
    raise AssertionError(kind)


def _to_hsds(kind: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if kind == "num":
        return int(value) if float(value).is_integer() else value
    if kind == "date":
        return value.isoformat()
    if kind == "time":
        return value.strftime("%H:%M" if value.second == 0 else "%H:%M:%S")
    if kind == "verified":
        return value.astimezone(zone()).date().isoformat()
    return value


def row_values(table: str, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """(typed field values, {fk field: target hsds id}, extra) of an accepted flat row."""
    mapping = MAPPINGS[table]
    values: dict[str, Any] = {}
    raw_memo: dict[str, Any] = {}
    for column, (field, kind) in mapping.fields.items():
        raw = row.get(column)
        value = _to_model(kind, raw, column) if raw not in (None, "") else ("" if kind == "str" else None)
        values[field] = value
        if raw not in (None, "") and _to_hsds(kind, value) != raw:
            raw_memo[column] = raw
    links = {
        field: str(row[col]) for col, (field, _) in mapping.links.items() if row.get(col) not in (None, "")
    }
    extra = {k: v for k, v in row.items() if k != "id" and k not in mapping.fields and k not in mapping.links}
    if raw_memo:
        extra["_raw"] = raw_memo
    return values, links, extra


def row_from(table: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The flat HSDS row of one model row read with `.values()` (links as `<fk>__hsds_id`)."""
    mapping = MAPPINGS[table]
    extra = dict(obj.get("extra") or {})
    raw_memo = extra.pop("_raw", {})
    row: dict[str, Any] = {"id": obj["hsds_id"]}
    for column, (field, kind) in mapping.fields.items():
        value = _to_hsds(kind, obj[field])
        original = raw_memo.get(column)
        if original is not None and value is not None and _same(kind, original, obj[field], column):
            value = original
        if value is not None:
            row[column] = value
    for column, (field, _) in mapping.links.items():
        if obj.get(f"{field}__hsds_id"):
            row[column] = obj[f"{field}__hsds_id"]
    row.update({k: v for k, v in extra.items() if k not in row})
    order = {c: i for i, c in enumerate(TABLES[table].column_names)}
    return dict(sorted(row.items(), key=lambda kv: order.get(kv[0], len(order))))


def _same(kind: str, original: Any, current: Any, column: str) -> bool:
    try:
        return bool(_to_model(kind, original, column) == current)
    except (ValueError, ScheduleError):
        return False


def flat_tables() -> dict[str, list[dict[str, Any]]]:
    """The whole directory as flat HSDS rows, table by table, in a stable order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table, mapping in MAPPINGS.items():
        fields = ["hsds_id", "extra", *(f for f, _ in mapping.fields.values())]
        fields += [f"{fk}__hsds_id" for fk, _ in mapping.links.values()]
        ordering = (
            ["position", "id"] if any(f.name == "position" for f in mapping.model._meta.fields) else ["id"]
        )
        rows = mapping.model.objects.order_by(*ordering).values(*fields)  # type: ignore[attr-defined]
        out[table] = [row_from(table, r) for r in rows]
    for other in m.OtherRecord.objects.order_by("id"):
        out.setdefault(other.table, []).append(dict(other.data))
    return out


# --- checks -------------------------------------------------------------------------------------


def semantic_problems(table: str, row: dict[str, Any]) -> list[tuple[str, str]]:
    """What the schema cannot say: values Crisis Desk must be able to read and use."""
    out: list[tuple[str, str]] = []
    mapping = MAPPINGS.get(table)
    if mapping is not None:
        for column, (_, kind) in mapping.fields.items():
            raw = row.get(column)
            if raw in (None, "") or kind == "str":
                continue
            try:
                _to_model(kind, raw, column)
            except ScheduleError as exc:
                out.append((column, exc.message))
            except (TypeError, ValueError):
                out.append((column, f"'{raw}' cannot be read as {kind}"))
        for column in mapping.required_links:
            if row.get(column) in (None, ""):
                out.append((column, f"is required by Crisis Desk (a {table} must name its {column[:-3]})"))
    if table == "schedule" and not out:
        try:
            parse_rule(row)
        except ScheduleError as exc:
            out.append((exc.field, exc.message))
    if table == "location":
        for column, bound in (("latitude", 90), ("longitude", 180)):
            value = row.get(column)
            if isinstance(value, int | float) and not -bound <= value <= bound:
                out.append((column, f"must be between -{bound} and {bound}"))
    if table == "service":
        lo, hi = row.get("minimum_age"), row.get("maximum_age")
        if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
            out.append(("maximum_age", "is below minimum_age"))
    return out


def check(
    parsed: Parsed, existing: Callable[[str, set[str]], set[str]]
) -> tuple[list[FlatRecord], list[Problem]]:
    """Accepted records (duplicates merged) in write order, and every problem of the rejected ones.

    `existing(table, ids)` answers which of `ids` the directory already holds.
    """
    problems = list(parsed.problems)
    by_key: dict[tuple[str, str], FlatRecord] = {}
    rejected: set[tuple[str, str]] = set()

    def reject(record: FlatRecord, path: str, reason: str, *, copy_only: bool = False) -> None:
        problems.append(Problem(record.table, record.id, record.where, path, reason))
        if not copy_only:  # a refused second copy leaves the first one standing
            rejected.add((record.table, record.id))

    for record in parsed.records:
        found = row_problems(record.table, record.row) or semantic_problems(record.table, record.row)
        for path, reason in found:
            reject(record, path, reason)
        if found or not record.id:
            continue
        key = (record.table, record.id)
        first = by_key.get(key)
        if first is None:
            by_key[key] = FlatRecord(record.table, dict(record.row), record.where, record.file)
            continue
        clash = sorted(k for k, v in record.row.items() if k in first.row and first.row[k] != v)
        if clash and record.file == first.file:
            reason = f"the same id appears at {first.where} with a different {', '.join(clash)}"
            reject(record, clash[0], reason, copy_only=True)
        else:  # the same record again, or a later file updating it
            first.row.update(record.row)
    accepted: list[FlatRecord] = []
    for table in ORDER:
        batch = [r for k, r in by_key.items() if k[0] == table and k not in rejected]
        wanted: dict[str, set[str]] = {}
        for record in batch:
            for column, value in record.row.items():
                target = link_target(column)
                if target and value not in (None, "") and (target, str(value)) not in by_key:
                    wanted.setdefault(target, set()).add(str(value))
        known = {t: existing(t, ids) for t, ids in wanted.items()}
        for record in batch:
            bad = False
            for column, value in record.row.items():
                target = link_target(column)
                if not target or value in (None, ""):
                    continue
                ref = (target, str(value))
                if ref in rejected:
                    reject(record, column, f"{target} {value} was rejected")
                    bad = True
                elif ref not in by_key and str(value) not in known.get(target, set()):
                    reject(record, column, f"no {target} {value} in this import or the directory")
                    bad = True
            if not bad:
                accepted.append(record)
    # A record rejected above may be the parent of one accepted earlier in the same table pass
    # (e.g. a phone of a contact): drop those too, with the reason.
    changed = True
    while changed:
        changed = False
        for record in list(accepted):
            for column, value in record.row.items():
                target = link_target(column)
                if target and (target, str(value)) in rejected:
                    accepted.remove(record)
                    reject(record, column, f"{target} {value} was rejected")
                    changed = True
                    break
    return accepted, problems


def ids_of(records: Iterable[FlatRecord], table: str) -> set[str]:
    return {r.id for r in records if r.table == table}


def local_today() -> date:
    return datetime.now(zone()).date()
