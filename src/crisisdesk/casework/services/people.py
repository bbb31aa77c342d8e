"""People in a case, and confirmed links between records of the same person across calls.

Numbers are normalised to E.164 with a maintained library; a number that does not parse is kept raw
and flagged, never rejected. Matching only proposes candidates (`casework.queries.match_candidates`);
a social worker confirms a link, and can undo it: the link row is stamped, nothing is deleted, so
the cases, notes and follow-ups of both records stay exactly as they were.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from crisisdesk.audit.services import record
from crisisdesk.casework.models import CaseParticipant, Person, PersonLink
from crisisdesk.casework.services.common import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    load_case,
    now_or,
    require,
    text,
)
from crisisdesk.domain.cases import CaseStatus, Relation
from crisisdesk.domain.people import (
    PersonFacts,
    blocking_keys,
    linkage_key,
    match_candidates,
    normalise_phone,
)


def person_facts(person: Person) -> PersonFacts:
    return PersonFacts(
        id=person.pk,
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        phone_e164=person.phone_e164 or None,
        address=person.address,
    )


def add_person(
    actor: Any,
    case_id: int,
    *,
    relation: str,
    given_name: str = "",
    family_name: str = "",
    date_of_birth: date | None = None,
    phone: str = "",
    address: str = "",
    language: str = "",
    now: datetime | None = None,
) -> CaseParticipant:
    """Record a person in the case (person in crisis, caller, family member, other)."""
    require(actor, "work_case")
    if relation not in {r.value for r in Relation}:
        raise InvalidInput("relation", f"must be one of {[r.value for r in Relation]}", "enum")
    for field, value, limit in (
        ("given_name", given_name, 120),
        ("family_name", family_name, 120),
        ("phone", phone, 40),
        ("address", address, 255),
        ("language", language, 64),
    ):
        text(field, value, limit)
    if not (given_name.strip() or family_name.strip() or phone.strip()):
        raise InvalidInput("given_name", "give a name or a phone number", "missing")
    now = now_or(now)
    number = normalise_phone(phone.strip())
    facts = PersonFacts(
        id=None,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        date_of_birth=date_of_birth,
        phone_e164=number.e164,
        address=address.strip(),
    )
    keys = blocking_keys(facts)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        if case.status == CaseStatus.CLOSED:
            raise Conflict("the case is closed: reopen it to add a person")
        person = Person.objects.create(
            given_name=facts.given_name,
            family_name=facts.family_name,
            date_of_birth=date_of_birth,
            phone_raw=phone.strip(),
            phone_e164=number.e164 or "",
            phone_valid=number.valid,
            phone_problem=number.problem or "",
            phone_key=linkage_key(number.e164 or "", settings.LINKAGE_KEY),
            address=facts.address,
            language=language.strip(),
            key_name=keys.get("name", "")[:64],
            key_dob=keys.get("dob", "")[:10],
            key_street=keys.get("street", "")[:128],
            created_at=now,
            created_by=actor,
        )
        participant = CaseParticipant.objects.create(
            case=case, person=person, relation=relation, added_by=actor, added_at=now
        )
        record(
            actor,
            "case.person_add",
            person,
            details={"case_id": case.pk, "relation": relation, "phone_valid": number.valid},
        )
    return participant


def confirm_link(actor: Any, person_id: int, other_id: int, now: datetime | None = None) -> PersonLink:
    """The social worker confirms that two person records are the same human.

    The score and reasons that were shown are stored with the link (recomputed here, so what is
    kept is what the rules say, not what a form posted).
    """
    require(actor, "work_case")
    if person_id == other_id:
        raise InvalidInput("other_id", "a person cannot be linked to themselves")
    a_id, b_id = sorted((person_id, other_id))
    now = now_or(now)
    try:
        with transaction.atomic(durable=True):
            people = {p.pk: p for p in Person.objects.filter(pk__in=(a_id, b_id))}
            if len(people) != 2:
                raise NotFound("no such person")
            _require_own_case(actor, (a_id, b_id))
            matches = match_candidates(
                person_facts(people[a_id]), [person_facts(people[b_id])], threshold=0.0
            )
            score = matches[0].score if matches else 0.0
            link = PersonLink.objects.create(
                person_a=people[a_id],
                person_b=people[b_id],
                score=score,
                match_reasons=list(matches[0].reasons) if matches else [],
                match_version=matches[0].version if matches else "",
                confirmed_by=actor,
                confirmed_at=now,
            )
            record(actor, "person.link", link, details={"people": [a_id, b_id], "score": score})
    except IntegrityError:
        raise Conflict("these two records are already linked") from None
    return link


def undo_link(actor: Any, link_id: int, reason: str, now: datetime | None = None) -> PersonLink:
    """Undo a confirmed link (wrong person). Nothing is deleted: both records keep all their data."""
    require(actor, "work_case")
    text("reason", reason, 4000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        link = PersonLink.objects.select_for_update().filter(pk=link_id).first()
        if link is None:
            raise NotFound("no such link")
        _require_own_case(actor, (link.person_a_id, link.person_b_id))
        if link.undone_at is not None:
            raise Conflict("the link was already undone")
        link.undone_at = now
        link.undone_by = actor
        link.undo_reason = reason
        link.save(update_fields=["undone_at", "undone_by", "undo_reason"])
        record(actor, "person.unlink", link, details={"reason": reason})
    return link


def _require_own_case(actor: Any, person_ids: tuple[int, int]) -> None:
    """Linking is done from a case: one of the two records must be in a case the actor has."""
    if not CaseParticipant.objects.filter(person_id__in=person_ids, case__owner=actor).exists():
        raise Forbidden("link people from one of your cases")


__all__ = ["add_person", "confirm_link", "person_facts", "undo_link"]
