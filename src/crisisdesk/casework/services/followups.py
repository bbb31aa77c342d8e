"""Consent to be contacted, follow-ups, attempts, and the follow-up policy (data, not code).

A follow-up exists only with a recorded consent: the foreign key is required, and the service
refuses a withdrawn consent. The policy (first attempt within 24 h of the call, up to 3 attempts,
the last within 72 h by default) is a versioned row an administrator changes; each follow-up keeps
the version it was planned with. A "callback next shift" taken by a telecommunicator becomes a
follow-up that appears in the social workers' worklist when the next shift opens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from crisisdesk.audit.services import record
from crisisdesk.calls.models import FallbackRoute
from crisisdesk.casework.models import (
    Case,
    CaseNote,
    ContactConsent,
    FollowUp,
    FollowUpAttempt,
    FollowUpPolicyVersion,
    Person,
)
from crisisdesk.casework.services.common import (
    Conflict,
    InvalidInput,
    NotFound,
    load_case,
    now_or,
    require,
    text,
)
from crisisdesk.domain.cases import CaseOrigin, CaseStatus, NoteKind, Relation
from crisisdesk.domain.followups import (
    DEFAULT_POLICY,
    AttemptOutcome,
    FollowUpAction,
    FollowUpPolicy,
    FollowUpStatus,
    after_attempt,
    attempt_deadlines,
    parse_policy,
    policy_document,
    transition,
)
from crisisdesk.domain.people import normalise_phone

CALLBACK_OPTIONS = {"callback_next_shift", "callback_when_available"}


def active_policy() -> tuple[FollowUpPolicyVersion, FollowUpPolicy]:
    """The active policy. The data migration installs the default; should no version exist (a wiped
    table), the domain's default is installed here, with its audit row, rather than refusing work."""
    row = FollowUpPolicyVersion.objects.filter(is_active=True).first()
    if row is None:
        row = FollowUpPolicyVersion.objects.filter(version=DEFAULT_POLICY.version).first()
        if row is None:
            row = FollowUpPolicyVersion.objects.create(
                version=DEFAULT_POLICY.version,
                document=policy_document(DEFAULT_POLICY),
                is_active=True,
                created_at=timezone.now(),
                change_note="Default policy installed because no version was active.",
            )
        else:
            FollowUpPolicyVersion.objects.filter(pk=row.pk).update(is_active=True)
        record(None, "follow_up_policy.default", row, details={"version": row.version})
    return row, parse_policy(row.document)


def publish_follow_up_policy(
    actor: Any, document: dict[str, Any], change_note: str, now: datetime | None = None
) -> FollowUpPolicyVersion:
    """An administrator's change: a new active version; earlier follow-ups keep their version."""
    require(actor, "set_follow_up_policy")
    try:
        policy = parse_policy(document)
    except ValueError as exc:
        raise InvalidInput("document", str(exc)) from None
    text("change_note", change_note, 4000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        if FollowUpPolicyVersion.objects.filter(version=policy.version).exists():
            raise Conflict(f"policy version {policy.version!r} exists; give the change a new version")
        FollowUpPolicyVersion.objects.filter(is_active=True).update(is_active=False)
        row = FollowUpPolicyVersion.objects.create(
            version=policy.version,
            document=policy_document(policy),
            is_active=True,
            created_by=actor,
            created_at=now,
            change_note=change_note,
        )
        record(actor, "follow_up_policy.publish", row, details={"version": policy.version})
    return row


def record_consent(
    actor: Any,
    case_id: int,
    *,
    given_by: str,
    relation: str,
    method: str,
    contact: str,
    channel: str = ContactConsent.Channel.PHONE,
    person_id: int | None = None,
    now: datetime | None = None,
) -> ContactConsent:
    """Who agreed to be contacted, how they agreed, when, and on which number."""
    require(actor, "work_case")
    _check_consent_fields(given_by, relation, method, channel, contact)
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        return consent_inside(
            actor, case, given_by=given_by, relation=relation, method=method, contact=contact,
            channel=channel, person_id=person_id, now=now,
        )  # fmt: skip


def consent_inside(
    actor: Any,
    case: Case,
    *,
    given_by: str,
    relation: str,
    method: str,
    contact: str,
    channel: str = ContactConsent.Channel.PHONE,
    person_id: int | None = None,
    now: datetime,
) -> ContactConsent:
    """`record_consent`'s write, inside the caller's transaction (a referral records the person's
    consent to be contacted about it in the same step as the consent to be referred)."""
    _check_consent_fields(given_by, relation, method, channel, contact)
    if person_id is not None and not case.participants.filter(person_id=person_id).exists():
        raise InvalidInput("person_id", "that person is not in this case")
    number = normalise_phone(contact.strip())
    consent = ContactConsent.objects.create(
        case=case,
        call_id=case.call_id,
        person=Person.objects.filter(pk=person_id).first() if person_id else None,
        given_by=given_by.strip(),
        relation=relation,
        method=method,
        channel=channel,
        contact_raw=contact.strip(),
        contact_e164=number.e164 or "",
        contact_valid=number.valid,
        recorded_by=actor,
        recorded_at=now,
    )
    record(actor, "consent.record", consent, details={"case_id": case.pk, "method": method})
    return consent


def _check_consent_fields(given_by: str, relation: str, method: str, channel: str, contact: str) -> None:
    text("given_by", given_by, 120, required=True)
    text("contact", contact, 40, required=True)
    if relation not in {r.value for r in Relation}:
        raise InvalidInput("relation", f"must be one of {[r.value for r in Relation]}", "enum")
    if method not in ContactConsent.Method.values:
        raise InvalidInput("method", f"must be one of {ContactConsent.Method.values}", "enum")
    if channel not in ContactConsent.Channel.values:
        raise InvalidInput("channel", f"must be one of {ContactConsent.Channel.values}", "enum")


def withdraw_consent(actor: Any, consent_id: int, now: datetime | None = None) -> ContactConsent:
    """The person no longer wants contact: pending follow-ups on this consent are cancelled."""
    require(actor, "work_follow_ups")
    now = now_or(now)
    with transaction.atomic(durable=True):
        consent = ContactConsent.objects.select_for_update().filter(pk=consent_id).first()
        if consent is None:
            raise NotFound("no such consent")
        if consent.withdrawn_at is None:
            consent.withdrawn_at = now
            consent.withdrawn_by = actor
            consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
            for follow_up in FollowUp.objects.select_for_update().filter(
                consent=consent, status=FollowUpStatus.PENDING
            ):
                _end(actor, follow_up, FollowUpAction.CANCEL, now, "consent withdrawn")
            record(actor, "consent.withdraw", consent)
    return consent


def schedule_follow_up(actor: Any, consent_id: int, now: datetime | None = None) -> FollowUp:
    """Plan follow-up contact for a case under the active policy; only with a consent in force."""
    require(actor, "work_case")
    now = now_or(now)
    with transaction.atomic(durable=True):
        consent = ContactConsent.objects.select_for_update().filter(pk=consent_id).first()
        if consent is None or consent.case_id is None:
            raise NotFound("no such consent")
        case = load_case(actor, consent.case_id)
        if consent.withdrawn_at is not None:
            raise Conflict("the consent was withdrawn: no follow-up without consent")
        if FollowUp.objects.filter(consent=consent, status=FollowUpStatus.PENDING).exists():
            raise Conflict("a follow-up on this consent is already planned")
        policy_row, policy = active_policy()
        # "Within 24 h of the call": the clock starts when the 911 call came in.
        start = case.call.received_at if case.call_id and case.call else case.opened_at
        follow_up = _create(
            actor, FollowUp.Kind.AFTER_CASE, consent, policy_row, policy, start, start, now,
            case_id=case.pk, call_id=case.call_id, assigned_to=actor,
        )  # fmt: skip
    return follow_up


def callback_from_fallback(
    actor: Any, route: FallbackRoute, next_shift: datetime, now: datetime
) -> FollowUp | None:
    """Inside `calls.services.take_fallback`: a callback option becomes a follow-up in the worklist.

    The caller agreed to be called back on the number the telecommunicator recorded: that is the
    consent (given by the caller, verbally on the 911 call). A next-shift callback becomes visible
    and its deadlines start when the next shift opens; a callback "when available" at once.
    """
    if route.option not in CALLBACK_OPTIONS:
        return None
    number = normalise_phone(route.callback_number)
    consent = ContactConsent.objects.create(
        call=route.call,
        given_by="caller",
        relation=Relation.CALLER,
        method=ContactConsent.Method.VERBAL_ON_CALL,
        channel=ContactConsent.Channel.PHONE,
        contact_raw=route.callback_number,
        contact_e164=number.e164 or "",
        contact_valid=number.valid,
        recorded_by=actor,
        recorded_at=now,
    )
    record(actor, "consent.record", consent, details={"call_id": route.call_id, "method": consent.method})
    policy_row, policy = active_policy()
    start = next_shift if route.option == "callback_next_shift" else now
    return _create(
        actor, FollowUp.Kind.CALLBACK, consent, policy_row, policy, start, start, now, call_id=route.call_id
    )


def _create(
    actor: Any,
    kind: str,
    consent: ContactConsent,
    policy_row: FollowUpPolicyVersion,
    policy: FollowUpPolicy,
    start: datetime,
    visible_from: datetime,
    now: datetime,
    *,
    case_id: int | None = None,
    call_id: int | None = None,
    assigned_to: Any = None,
    referral_id: int | None = None,
) -> FollowUp:
    deadlines = attempt_deadlines(policy, start)
    follow_up = FollowUp.objects.create(
        kind=kind,
        case_id=case_id,
        call_id=call_id,
        referral_id=referral_id,
        consent=consent,
        policy=policy_row,
        status=FollowUpStatus.PENDING,
        start_at=start,
        visible_from=visible_from,
        first_due_by=deadlines[0],
        last_due_by=deadlines[-1],
        assigned_to=assigned_to,
        contact_number=consent.contact_raw,
        created_by=actor,
        created_at=now,
    )
    record(actor, "follow_up.create", follow_up, details={"kind": kind, "policy": policy.version})
    return follow_up


def schedule_referral_check(
    actor: Any,
    consent: ContactConsent,
    *,
    case: Case,
    referral_id: int,
    start: datetime,
    visible_from: datetime,
    now: datetime,
) -> FollowUp:
    """Inside `referrals.services` (sending a referral): the referral's follow-up check, on the
    person's consent to be contacted about it, under the active policy, assigned to the sender.
    `start` and `visible_from` come from `domain.referrals.check_plan`."""
    if consent.withdrawn_at is not None:
        raise Conflict("the consent to contact was withdrawn: no follow-up without consent")
    policy_row, policy = active_policy()
    return _create(
        actor, FollowUp.Kind.REFERRAL_CHECK, consent, policy_row, policy, start, visible_from, now,
        case_id=case.pk, call_id=case.call_id, assigned_to=actor, referral_id=referral_id,
    )  # fmt: skip


def cancel_referral_checks(actor: Any, referral_id: int, now: datetime, reason: str) -> int:
    """Inside `referrals.services` (a referral cancelled): end its pending checks; how many ended."""
    ended = 0
    for follow_up in FollowUp.objects.select_for_update().filter(
        referral_id=referral_id, status=FollowUpStatus.PENDING
    ):
        _end(actor, follow_up, FollowUpAction.CANCEL, now, reason)
        ended += 1
    return ended


def _load(follow_up_id: int) -> FollowUp:
    follow_up = FollowUp.objects.select_for_update().select_related("policy").filter(pk=follow_up_id).first()
    if follow_up is None:
        raise NotFound("no such follow-up")
    return follow_up


def take_follow_up(actor: Any, follow_up_id: int, now: datetime | None = None) -> FollowUp:
    """A social worker takes an unassigned follow-up (e.g. last night's callbacks) from the pool."""
    require(actor, "work_follow_ups")
    with transaction.atomic(durable=True):
        follow_up = _load(follow_up_id)
        if follow_up.status != FollowUpStatus.PENDING:
            raise Conflict(f"the follow-up is {follow_up.status}")
        if follow_up.assigned_to_id not in (None, actor.pk):
            raise Conflict("another social worker has this follow-up")
        follow_up.assigned_to = actor
        follow_up.save(update_fields=["assigned_to"])
        record(actor, "follow_up.take", follow_up)
    return follow_up


def open_case_for_follow_up(actor: Any, follow_up_id: int, now: datetime | None = None) -> Case:
    """Work a callback as a case, in one step: take it if nobody has, open the case on the 911 call
    it came from, and link the follow-up to that case. A follow-up that has its case returns it."""
    require(actor, "work_case")
    now = now_or(now)
    with transaction.atomic(durable=True):
        follow_up = _load(follow_up_id)
        if follow_up.case_id is not None:
            return Case.objects.get(pk=follow_up.case_id)
        if follow_up.status != FollowUpStatus.PENDING:
            raise Conflict(f"the follow-up is {follow_up.status}")
        if follow_up.assigned_to_id not in (None, actor.pk):
            raise Conflict("another social worker has this callback")
        case = Case.objects.create(
            call_id=follow_up.call_id,
            origin=CaseOrigin.CALLBACK,
            status=CaseStatus.OPEN,
            owner=actor,
            opened_at=now,
        )
        incident = follow_up.call.incident_id if follow_up.call_id and follow_up.call else ""
        CaseNote.objects.create(
            case=case, kind=NoteKind.OTHER, author=actor, written_at=now,
            text=f"Callback to {follow_up.contact_number} requested on 911 call {incident} (follow-up {follow_up.pk}).",
        )  # fmt: skip
        follow_up.case = case
        follow_up.assigned_to = actor
        follow_up.save(update_fields=["case", "assigned_to"])
        record(
            actor,
            "case.open",
            case,
            details={"follow_up_id": follow_up.pk, "origin": CaseOrigin.CALLBACK.value},
        )
    return case


def record_attempt(
    actor: Any,
    follow_up_id: int,
    *,
    channel: str,
    outcome: str,
    notes: str = "",
    now: datetime | None = None,
) -> FollowUpAttempt:
    """One contact attempt: channel, outcome code, notes. The follow-up's status follows the policy."""
    require(actor, "work_follow_ups")
    if channel not in FollowUpAttempt.Channel.values:
        raise InvalidInput("channel", f"must be one of {FollowUpAttempt.Channel.values}", "enum")
    if outcome not in {o.value for o in AttemptOutcome}:
        raise InvalidInput("outcome", f"must be one of {[o.value for o in AttemptOutcome]}", "enum")
    text("notes", notes, 4000)
    now = now_or(now)
    with transaction.atomic(durable=True):
        follow_up = _load(follow_up_id)
        if follow_up.status != FollowUpStatus.PENDING:
            raise Conflict(f"the follow-up is {follow_up.status}: no more attempts")
        if follow_up.assigned_to_id not in (None, actor.pk):
            raise Conflict("another social worker has this follow-up")
        made = follow_up.attempts.count()
        attempt = FollowUpAttempt.objects.create(
            follow_up=follow_up,
            number=made + 1,
            channel=channel,
            outcome=outcome,
            notes=notes,
            attempted_by=actor,
            attempted_at=now,
        )
        policy = parse_policy(follow_up.policy.document)
        status = after_attempt(policy, made + 1, AttemptOutcome(outcome))  # this attempt included
        follow_up.assigned_to = follow_up.assigned_to or actor
        fields = ["assigned_to"]
        if status != FollowUpStatus.PENDING:
            follow_up.status = status.value
            follow_up.ended_at = now
            follow_up.ended_by = actor
            fields += ["status", "ended_at", "ended_by"]
        follow_up.save(update_fields=fields)
        record(
            actor,
            "follow_up.attempt",
            attempt,
            details={"follow_up_id": follow_up.pk, "outcome": outcome, "status": follow_up.status},
        )
    return attempt


def cancel_follow_up(actor: Any, follow_up_id: int, reason: str, now: datetime | None = None) -> FollowUp:
    require(actor, "work_follow_ups")
    text("reason", reason, 4000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        return _end(actor, _load(follow_up_id), FollowUpAction.CANCEL, now, reason)


def _end(actor: Any, follow_up: FollowUp, action: FollowUpAction, now: datetime, reason: str) -> FollowUp:
    after = transition(follow_up.status, action)
    follow_up.status = after.value
    follow_up.ended_at = now
    follow_up.ended_by = actor
    follow_up.save(update_fields=["status", "ended_at", "ended_by"])
    record(actor, f"follow_up.{action.value}", follow_up, details={"reason": reason})
    return follow_up


__all__ = [
    "active_policy",
    "callback_from_fallback",
    "cancel_follow_up",
    "cancel_referral_checks",
    "consent_inside",
    "open_case_for_follow_up",
    "publish_follow_up_policy",
    "record_attempt",
    "record_consent",
    "schedule_follow_up",
    "schedule_referral_check",
    "take_follow_up",
    "withdraw_consent",
]
