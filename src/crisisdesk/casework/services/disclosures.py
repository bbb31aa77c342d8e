"""Disclosure consents (42 CFR Part 2) and the disclosure ledger.

`record_disclosure_consent` / `revoke_disclosure_consent` are use cases (one durable transaction,
audited). `disclose` is not: it runs inside the transaction of the use case that produces an
outgoing artifact (a referral sent, its FHIR export, its packet), applies the gate of
`domain.part2.may_disclose` to the items the artifact would carry, and writes the ledger row and its
audit row in that same transaction, so an artifact never leaves without its accounting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from crisisdesk.audit.services import record
from crisisdesk.casework.models import Assessment, Case, CaseNote, Disclosure, DisclosureConsent
from crisisdesk.casework.services.common import (
    Conflict,
    InvalidInput,
    NotFound,
    load_case,
    now_or,
    require,
    text,
)
from crisisdesk.domain.cases import Relation
from crisisdesk.domain.instruments import InstrumentError, get_instrument
from crisisdesk.domain.part2 import (
    DEFAULT_RULES,
    AnswerFact,
    CaseFacts,
    ConsentFact,
    DataClass,
    Decision,
    Item,
    NoteFact,
    Purpose,
    Recipient,
    case_items,
    default_expiry,
    may_disclose,
)

NOTE_LABEL = "Case note"


# --- consents ---------------------------------------------------------------------------------------


def record_disclosure_consent(
    actor: Any,
    case_id: int,
    *,
    purpose: str,
    given_by: str,
    relation: str,
    method: str,
    recipient_organization_id: int | None = None,
    recipient_name: str = "",
    purpose_text: str = "",
    covers_part2: bool = True,
    covers_general: bool = True,
    given_at: datetime | None = None,
    expires_at: datetime | None = None,
    person_id: int | None = None,
    now: datetime | None = None,
) -> DisclosureConsent:
    """The person's consent to disclose to one recipient for one purpose, until `expires_at`.

    The recipient is a directory organization (`recipient_organization_id`) or, when the directory
    has none, a named recipient (`recipient_name`). `expires_at` defaults to one year after
    `given_at` (domain.part2.default_expiry); a consent that never ends is not accepted."""
    from crisisdesk.directory.models import Organization

    require(actor, "work_case")
    if purpose not in {p.value for p in Purpose}:
        raise InvalidInput("purpose", f"must be one of {[p.value for p in Purpose]}", "enum")
    if relation not in {r.value for r in Relation}:
        raise InvalidInput("relation", f"must be one of {[r.value for r in Relation]}", "enum")
    if method not in DisclosureConsent.Method.values:
        raise InvalidInput("method", f"must be one of {DisclosureConsent.Method.values}", "enum")
    text("given_by", given_by, 120, required=True)
    text("recipient_name", recipient_name, 255)
    text("purpose_text", purpose_text, 255, required=purpose == Purpose.OTHER)
    if not (covers_part2 or covers_general):
        raise InvalidInput("covers_part2", "a consent covers substance-use information, the rest, or both")
    now = now_or(now)
    given_at = given_at or now
    for name, value in (("given_at", given_at), ("expires_at", expires_at)):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise InvalidInput(name, "needs a time zone", "datetime_naive")
    if given_at > now:
        raise InvalidInput("given_at", "a consent is recorded after it is given, not before")
    expires_at = expires_at or default_expiry(given_at, DEFAULT_RULES)
    if expires_at <= given_at:
        raise InvalidInput("expires_at", "must be after the consent was given")
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        organization = None
        if recipient_organization_id is not None:
            organization = Organization.objects.filter(pk=recipient_organization_id).first()
            if organization is None:
                raise InvalidInput("recipient_organization_id", "no such organization in the directory")
        name = (organization.name if organization else recipient_name).strip()
        if not name:
            raise InvalidInput("recipient_name", "name the recipient (or choose it from the directory)")
        if person_id is not None and not case.participants.filter(person_id=person_id).exists():
            raise InvalidInput("person_id", "that person is not in this case")
        row = DisclosureConsent.objects.create(
            case=case,
            person_id=person_id,
            recipient_organization=organization,
            recipient_name=name,
            purpose=purpose,
            purpose_text=purpose_text.strip(),
            covers_part2=covers_part2,
            covers_general=covers_general,
            given_by=given_by.strip(),
            relation=relation,
            method=method,
            given_at=given_at,
            expires_at=expires_at,
            recorded_by=actor,
            recorded_at=now,
        )
        record(
            actor,
            "disclosure_consent.record",
            row,
            details={
                "case_id": case.pk,
                "purpose": purpose,
                "recipient_organization_id": recipient_organization_id,
                "covers_part2": covers_part2,
                "covers_general": covers_general,
                "method": method,
                "expires_at": expires_at.isoformat(),
            },
        )
    return row


def revoke_disclosure_consent(
    actor: Any, consent_id: int, reason: str, now: datetime | None = None
) -> DisclosureConsent:
    """The person takes the consent back: from now on it covers nothing. Disclosures already made
    stay in the ledger (revocation does not reach back)."""
    require(actor, "work_case")
    text("reason", reason, 4000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        row = DisclosureConsent.objects.select_for_update().filter(pk=consent_id).first()
        if row is None:
            raise NotFound("no such consent")
        load_case(actor, row.case_id)  # only the case's social worker
        if row.revoked_at is not None:
            raise Conflict("the consent was already revoked")
        row.revoked_at = now
        row.revoked_by = actor
        row.revoke_reason = reason.strip()
        row.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        record(actor, "disclosure_consent.revoke", row, details={"case_id": row.case_id, "reason": reason})
    return row


# --- facts for the gate -------------------------------------------------------------------------------


def case_facts(case: Case, **referral: Any) -> CaseFacts:
    """The case's notes, answers and concerns as `domain.part2.CaseFacts` (plus the referral fields
    passed as keywords: referral_key, referral_need, referral_need_label, request_text, ...)."""
    notes = tuple(
        NoteFact(f"note:{n.pk}", f"{NOTE_LABEL} ({n.kind.replace('_', ' ')})", n.text, n.part2)
        for n in CaseNote.objects.filter(case=case).order_by("written_at", "pk")
    )
    answers = []
    for a in Assessment.objects.filter(case=case).order_by("assessed_at", "pk"):
        try:
            spec = get_instrument(a.instrument, a.instrument_version)
            title, questions = spec.title, {q.key: q.text for q in spec.questions}
        except InstrumentError:  # an instrument version no longer shipped: keys stand for the texts
            title, questions = a.instrument, {}
        answers.append(AnswerFact(f"assessment:{a.pk}", a.instrument, title, dict(a.answers), questions))
    return CaseFacts(notes=notes, assessments=tuple(answers), concerns=case.concerns(), **referral)


def consent_facts(case: Case) -> tuple[ConsentFact, ...]:
    rows = DisclosureConsent.objects.filter(case=case).select_related("recipient_organization")
    return tuple(
        ConsentFact(
            key=str(c.pk),
            recipient=Recipient(
                c.recipient_organization.hsds_id if c.recipient_organization else "", c.recipient_name
            ),
            purpose=Purpose(c.purpose),
            purpose_text=c.purpose_text,
            data_classes=frozenset(
                d
                for d, on in ((DataClass.PART2, c.covers_part2), (DataClass.GENERAL, c.covers_general))
                if on
            ),
            method=c.method,
            given_at=c.given_at,
            expires_at=c.expires_at,
            revoked_at=c.revoked_at,
        )
        for c in rows.order_by("pk")
    )


def shareable_keys(case: Case) -> set[str]:
    """Keys of the case items a social worker may choose to share (notes, answers, concerns)."""
    return {i.key for i in case_items(case_facts(case))}


# --- the gate and the ledger ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disclosed:
    """What `disclose` decided: the items that go (in order), the decision and the ledger row."""

    items: tuple[Item, ...]
    decision: Decision
    row: Disclosure
    consent: DisclosureConsent | None


def disclose(
    actor: Any,
    case: Case,
    *,
    items: tuple[Item, ...],
    artifact: str,
    recipient: Recipient,
    recipient_organization_id: int | None,
    purpose: Purpose,
    now: datetime,
    referral_id: int | None = None,
    person_id: int | None = None,
) -> Disclosed:
    """Decide what of `items` may go to `recipient` and write the ledger row. Call it INSIDE the
    transaction of the use case that produces the artifact."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("disclose() runs inside the transaction that produces the artifact")
    decision = may_disclose(items, recipient, purpose, consent_facts(case), now, DEFAULT_RULES)
    consent = DisclosureConsent.objects.get(pk=decision.consent_key) if decision.consent_key else None
    row = Disclosure.objects.create(
        case=case,
        person_id=person_id,
        referral_id=referral_id,
        artifact=artifact,
        recipient_organization_id=recipient_organization_id,
        recipient_name=recipient.name,
        purpose=purpose.value,
        outcome=decision.outcome.value,
        items_included=list(decision.included),
        part2_included=list(decision.part2_included),
        part2_withheld=list(decision.withheld),
        part2_withheld_count=len(decision.withheld),
        consent=consent,
        notice_attached=decision.notice_required,
        reasons=list(decision.reasons),
        rule_version=decision.version,
        disclosed_by=actor,
        disclosed_at=now,
    )
    record(
        actor,
        "disclosure.record",
        row,
        details={
            "case_id": case.pk,
            "referral_id": referral_id,
            "artifact": artifact,
            "outcome": decision.outcome.value,
            "part2_included": len(decision.part2_included),
            "part2_withheld": len(decision.withheld),
            "consent_id": consent.pk if consent else None,
            "reasons": list(decision.reasons),
            "rules": decision.version,
        },
    )
    going = set(decision.included)
    return Disclosed(tuple(i for i in items if i.key in going), decision, row, consent)


__all__ = [
    "Disclosed",
    "case_facts",
    "consent_facts",
    "disclose",
    "record_disclosure_consent",
    "revoke_disclosure_consent",
    "shareable_keys",
]
