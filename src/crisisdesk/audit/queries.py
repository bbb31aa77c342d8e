"""Reads of the audit trail, for the privacy review: who read or changed a person's records.

"A person's records" = the person record and every record linked to it, the cases they take part
in, those cases' calls, referrals and follow-ups, and the calls made from their (keyed) number.
The answer comes from the audit index on (object_type, object_id, at), a handful of queries
whatever the size of the trail (`make bench` measures it on a year of rows). Reading the trail is
itself audited (CJIS AU-2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from crisisdesk.audit.access import deny, require
from crisisdesk.audit.models import AuditEvent
from crisisdesk.audit.services import record


def _dependants(model: Any, ids: set[int]) -> dict[str, set[int]]:
    """The rows that hang off these records (notes, assessments, attempts, events ...): audit rows of
    writes name those rows, so they are part of "the person's records" too. One level, by reverse
    foreign key; a query per relation."""
    out: dict[str, set[int]] = {}
    if not ids:
        return out
    for rel in model._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one) or rel.related_model is None:
            continue
        related = rel.related_model
        name = related._meta.model_name
        found = set(
            related._default_manager.filter(**{f"{rel.field.name}__in": ids}).values_list("pk", flat=True)
        )
        if found:
            out.setdefault(name, set()).update(found)
    return out


def records_of_person(person_id: int) -> dict[str, set[str]]:
    """{object_type: {object_id}} of every record that is about the person: the person and linked
    records, their cases, those cases' calls, referrals and follow-ups, the calls from their keyed
    number, and every row that hangs off those (notes, assessments, attempts, transfers ...)."""
    from crisisdesk.calls.models import Call
    from crisisdesk.casework.models import Case, FollowUp, Person
    from crisisdesk.casework.queries import linked_ids
    from crisisdesk.referrals.models import Referral

    people = linked_ids(person_id)
    cases = set(Case.objects.filter(participants__person_id__in=people).values_list("pk", flat=True))
    keys = set(Person.objects.filter(pk__in=people).exclude(phone_key="").values_list("phone_key", flat=True))
    calls = set(
        Call.objects.filter(Q(cases__pk__in=cases) | Q(caller_key__in=keys)).values_list("pk", flat=True)
    )
    referrals = set(Referral.objects.filter(case_id__in=cases).values_list("pk", flat=True))
    follow_ups = set(
        FollowUp.objects.filter(Q(case_id__in=cases) | Q(call_id__in=calls)).values_list("pk", flat=True)
    )
    out: dict[str, set[int]] = {
        "person": set(people),
        "case": cases,
        "call": calls,
        "referral": referrals,
        "followup": follow_ups,
    }
    for model, ids in (
        (Person, people),
        (Case, cases),
        (Call, calls),
        (Referral, referrals),
        (FollowUp, follow_ups),
    ):
        for kind, found in _dependants(model, set(ids)).items():
            out.setdefault(kind, set()).update(found)
    return {kind: {str(i) for i in ids} for kind, ids in out.items() if ids}


def who_viewed_person(
    actor: Any, person_id: int, start: datetime, end: datetime, *, system: bool = False
) -> list[dict[str, Any]]:
    """Every audit row about the person's records in [start, end), oldest first, with who, role,
    what, when, from where (request id, address) and the outcome. `system`: from the command line."""
    if not system:
        require(actor, "review_audit")
    from crisisdesk.casework.models import Person

    if not Person.objects.filter(pk=person_id).exists():
        if system:
            return []
        raise deny(actor, "audit.who_viewed", "person", person_id, "no_such_person")
    refs = records_of_person(person_id)
    match = Q()
    for kind, ids in refs.items():
        match |= Q(object_type=kind, object_id__in=sorted(ids))
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in AuditEvent.objects.filter(match, at__gte=start, at__lt=end)
        .select_related("actor")
        .order_by("at", "seq")
        .values(
            "seq",
            "at",
            "actor__username",
            "actor_role",
            "action",
            "object_type",
            "object_id",
            "outcome",
            "request_id",
            "client_addr",
        )
    ]
    with transaction.atomic():
        record(
            actor if not system else None,
            "audit.who_viewed",
            object_type="person",
            object_id=str(person_id),
            details={"from": start.isoformat(), "to": end.isoformat(), "rows": len(rows)},
        )
    return rows
