"""Building HSDS 3.0 service documents in code (the demo directory, benchmarks, tests).

`service_doc()` returns one `service_full`-shaped JSON record with its organization, location,
address, phones, schedules, languages and Crisis Desk attributes nested, exactly as an HSDS
publisher would send it; it is imported through the same path as any file. Ids are uuid5 of a
stable key, so building the same listing twice gives the same ids (re-import updates by id).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crisisdesk.directory.vocab import LANGUAGES, TAXONOMY_ID, TAXONOMY_NAME, term_id, term_label

_NS = uuid.UUID("0f2b8d4e-5a61-4c0e-8d7e-3c9a1b2f6e55")


def hsds_id(key: str) -> str:
    return str(uuid.uuid5(_NS, key))


@dataclass
class Hours:
    """Opening rules as HSDS schedule fields; `closures` are (valid_from, valid_to, note)."""

    rules: Sequence[dict[str, Any]] = ()
    closures: Sequence[tuple[str, str, str]] = ()


@dataclass
class Listing:
    key: str
    name: str
    organization: str
    description: str
    needs: Sequence[str]
    phones: Sequence[tuple[str, str]] = ()  # (number, type: voice / text / hotline)
    address: tuple[str, str, str, str] | None = None  # street, city, state, postal code
    latitude: float | None = None
    longitude: float | None = None
    hours: Hours = field(default_factory=Hours)
    languages: Sequence[str] = ("en",)
    access: Sequence[str] = ()
    insurance: Sequence[str] = ()
    gender: Sequence[str] = ()
    residency: Sequence[str] = ()  # "county:hennepin", "city:minneapolis"
    hours_tags: Sequence[str] = ()  # closed_on_holidays, open_24_7
    minimum_age: int | None = None
    maximum_age: int | None = None
    eligibility: str = ""
    application_process: str = ""
    assured_date: str | None = None
    sample: bool = True
    status: str = "active"
    url: str = ""


def _term(code: str) -> dict[str, Any]:
    kind, _, value = code.partition(":")
    return {
        "id": term_id(code),
        "code": code,
        "name": term_label(kind, value),
        "description": term_label(kind, value),
        "taxonomy": TAXONOMY_NAME,
        "taxonomy_id": TAXONOMY_ID,
        "taxonomy_detail": {
            "id": TAXONOMY_ID,
            "name": TAXONOMY_NAME,
            "description": "Crisis Desk needs, eligibility facets and access modes",
            "version": "1",
        },
    }


def codes_of(listing: Listing) -> list[str]:
    codes = [f"need:{n}" for n in listing.needs]
    codes += [f"access:{a}" for a in listing.access]
    codes += [f"insurance:{i}" for i in listing.insurance]
    codes += [f"gender:{g}" for g in listing.gender]
    codes += [f"residency:{r}" for r in listing.residency]
    codes += [f"hours:{h}" for h in listing.hours_tags]
    if listing.sample:
        codes.append("data:sample")
    return codes


def service_doc(listing: Listing) -> dict[str, Any]:
    """The listing as one HSDS 3.0 service record with everything nested."""
    sid = hsds_id(f"service:{listing.key}")
    org_id = hsds_id(f"organization:{listing.organization}")
    doc: dict[str, Any] = {
        "id": sid,
        "organization_id": org_id,
        "name": listing.name,
        "description": listing.description,
        "status": listing.status,
        "organization": {
            "id": org_id,
            "name": listing.organization,
            # The same organization serves several listings: its record must not depend on one of
            # them. Sample organizations are flagged from their services (directory.services.tags).
            "description": listing.organization,
        },
        "phones": [
            {"id": hsds_id(f"phone:{listing.key}:{i}"), "number": number, "type": kind}
            for i, (number, kind) in enumerate(listing.phones)
        ],
        "languages": [
            {"id": hsds_id(f"language:{listing.key}:{code}"), "name": LANGUAGES.get(code, code), "code": code}
            for code in listing.languages
        ],
        "attributes": [
            {
                "id": hsds_id(f"attribute:{listing.key}:{code}"),
                "link_id": sid,
                "link_entity": "service",
                "link_type": "crisisdesk",
                "taxonomy_term_id": term_id(code),
                "taxonomy_term": _term(code),
            }
            for code in codes_of(listing)
        ],
    }
    for key, value in (
        ("url", listing.url),
        ("eligibility_description", listing.eligibility),
        ("application_process", listing.application_process),
        ("minimum_age", listing.minimum_age),
        ("maximum_age", listing.maximum_age),
        ("assured_date", listing.assured_date),
    ):
        if value not in (None, ""):
            doc[key] = value
    schedules = [
        {"id": hsds_id(f"schedule:{listing.key}:{i}"), **rule} for i, rule in enumerate(listing.hours.rules)
    ]
    schedules += [
        {
            "id": hsds_id(f"closure:{listing.key}:{start}"),
            "valid_from": start,
            "valid_to": end,
            "description": note,
        }
        for start, end, note in listing.hours.closures
    ]
    if listing.address is None:
        doc["schedules"] = schedules
        return doc
    loc_id = hsds_id(f"location:{listing.key}")
    street, city, state, postal = listing.address
    location: dict[str, Any] = {
        "id": loc_id,
        "location_type": "physical",
        "organization_id": org_id,
        "name": listing.name,
        "addresses": [
            {
                "id": hsds_id(f"address:{listing.key}"),
                "address_1": street,
                "city": city,
                "state_province": state,
                "postal_code": postal,
                "country": "US",
                "address_type": "physical",
            }
        ],
    }
    if listing.latitude is not None and listing.longitude is not None:
        location["latitude"] = listing.latitude
        location["longitude"] = listing.longitude
    doc["service_at_locations"] = [
        {
            "id": hsds_id(f"service_at_location:{listing.key}"),
            "service_id": sid,
            "location_id": loc_id,
            "schedules": schedules,
            "location": location,
        }
    ]
    return doc
