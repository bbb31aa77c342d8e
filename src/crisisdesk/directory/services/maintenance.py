"""Administrator maintenance of listings: "verified today" stamps and edits of the basic fields.

Only roles that may `maintain_directory` (domain.roles) get here; others get Forbidden. Each call
is one durable transaction with its audit row. Needs and access modes are edited as HSDS
attributes pointing at Crisis Desk taxonomy terms, so that the change also travels in an export.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from crisisdesk.audit.services import record
from crisisdesk.calls.errors import Forbidden, NotFound
from crisisdesk.calls.services import InvalidInput
from crisisdesk.directory import models as m
from crisisdesk.directory.services.tags import rebuild_tags
from crisisdesk.directory.vocab import (
    ACCESS_VALUES,
    TAXONOMY_ID,
    TAXONOMY_NAME,
    Need,
    TagKind,
    term_id,
    term_label,
)
from crisisdesk.domain.roles import may

EDITABLE_TEXT = (
    "name",
    "description",
    "url",
    "email",
    "eligibility_description",
    "application_process",
    "interpretation_services",
    "fees_description",
    "alert",
)
STATUSES = {s.value for s in m.Service.Status}


def _require(actor: Any) -> None:
    if not may(getattr(actor, "role", ""), "maintain_directory"):
        raise Forbidden("only directory maintainers may change listings")


def _service(service_id: int) -> m.Service:
    try:
        return m.Service.objects.select_for_update().get(pk=service_id)
    except m.Service.DoesNotExist:
        raise NotFound("no such service") from None


def stamp_verified(actor: Any, service_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Mark listings as verified now (someone confirmed them with the provider); returns how many."""
    _require(actor)
    at = now or datetime.now(UTC)
    ids = sorted(set(service_ids))
    with transaction.atomic(durable=True):
        found = list(m.Service.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
        if len(found) != len(ids):
            raise NotFound("no such service")
        m.Service.objects.filter(pk__in=found).update(
            last_verified_at=at, last_verified_by=actor, updated_at=at
        )
        for pk in found:
            record(
                actor,
                "directory.verify",
                object_type="service",
                object_id=str(pk),
                details={"at": at.isoformat()},
            )
    return len(found)


def edit_service(
    actor: Any, service_id: int, changes: dict[str, Any], *, now: datetime | None = None
) -> m.Service:
    """Change basic fields (EDITABLE_TEXT, status, minimum_age, maximum_age) and, when given,
    the set of `needs` and `access` modes. Saving an edit does not stamp the listing verified."""
    _require(actor)
    at = now or datetime.now(UTC)
    with transaction.atomic(durable=True):
        service = _service(service_id)
        before: dict[str, Any] = {}
        for field in EDITABLE_TEXT:
            if field in changes:
                value = str(changes[field] or "").strip()
                if field == "name" and not value:
                    raise InvalidInput("name", "a service needs a name")
                if getattr(service, field) != value:
                    before[field] = getattr(service, field)
                    setattr(service, field, value)
        if "status" in changes:
            if changes["status"] not in STATUSES:
                raise InvalidInput("status", f"must be one of {', '.join(sorted(STATUSES))}")
            if service.status != changes["status"]:
                before["status"] = service.status
                service.status = changes["status"]
        for field in ("minimum_age", "maximum_age"):
            if field in changes:
                age = _age(field, changes[field])
                if getattr(service, field) != age:
                    before[field] = getattr(service, field)
                    setattr(service, field, age)
        lo, hi = service.minimum_age, service.maximum_age
        if lo is not None and hi is not None and lo > hi:
            raise InvalidInput("maximum_age", "is below the minimum age")
        service.updated_at = at
        service.save()
        tag_changes = {}
        if "needs" in changes:
            tag_changes["needs"] = _set_terms(
                service, TagKind.NEED, _valid(changes["needs"], [n.value for n in Need], "needs"), at
            )
        if "access" in changes:
            tag_changes["access"] = _set_terms(
                service, TagKind.ACCESS, _valid(changes["access"], ACCESS_VALUES, "access"), at
            )
        rebuild_tags({service.pk})
        record(actor, "directory.edit", service, details={"before": before, **tag_changes})
    return service


def _age(field: str, raw: Any) -> float | None:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidInput(field, "must be a number of years") from None
    if not 0 <= value <= 130:
        raise InvalidInput(field, "must be between 0 and 130")
    return value


def _valid(values: Iterable[str], allowed: Iterable[str], field: str) -> set[str]:
    chosen, allowed_set = set(values), set(allowed)
    unknown = chosen - allowed_set
    if unknown:
        raise InvalidInput(field, f"unknown value(s): {', '.join(sorted(unknown))}")
    return chosen


def ensure_terms(codes: Iterable[str], at: datetime) -> dict[str, m.TaxonomyTerm]:
    """The Crisis Desk taxonomy and its terms for `codes` (`need:food`), created when missing."""
    taxonomy, _ = m.Taxonomy.objects.get_or_create(
        hsds_id=TAXONOMY_ID,
        defaults={
            "name": TAXONOMY_NAME,
            "description": "Crisis Desk needs, eligibility facets and access modes (see docs/directory.md)",
            "version": "1",
            "updated_at": at,
        },
    )
    out = {}
    for code in codes:
        kind, _, value = code.partition(":")
        out[code], _ = m.TaxonomyTerm.objects.get_or_create(
            hsds_id=term_id(code),
            defaults={
                "code": code,
                "name": term_label(kind, value),
                "description": term_label(kind, value),
                "taxonomy": TAXONOMY_NAME,
                "taxonomy_ref": taxonomy,
                "tag_kind": kind,
                "tag_value": value,
                "updated_at": at,
            },
        )
    return out


def _set_terms(service: m.Service, kind: str, values: set[str], at: datetime) -> dict[str, list[str]]:
    current = {
        a.taxonomy_term.tag_value: a
        for a in service.attributes.select_related("taxonomy_term").filter(taxonomy_term__tag_kind=kind)
        if a.taxonomy_term is not None
    }
    added, removed = sorted(values - set(current)), sorted(set(current) - values)
    terms = ensure_terms([f"{kind}:{v}" for v in added], at)
    start = service.attributes.count()
    for i, value in enumerate(added):
        code = f"{kind}:{value}"
        m.Attribute.objects.create(
            hsds_id=term_id(f"attribute:{service.hsds_id}:{code}"),
            link_id=service.hsds_id,
            link_entity="service",
            link_type="crisisdesk",
            service=service,
            taxonomy_term=terms[code],
            position=start + i,
            updated_at=at,
        )
    m.Attribute.objects.filter(pk__in=[current[v].pk for v in removed]).delete()
    return {"added": added, "removed": removed}
