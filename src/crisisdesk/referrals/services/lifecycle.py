"""The ONE write path for referrals: consent, create, send, what the agency reports, warm handoffs.

Every function is one use case in one durable transaction with its audit row. Status changes are
checked against `domain.referrals.TRANSITIONS` and written as a `ReferralEvent` (who, when it
happened, when it was recorded, what the agency said, on which channel). Consent gating:

- a referral needs the person's consent to be referred to THAT service, recorded in the case
  (`record_referral_consent`: who gave it, how, when), not withdrawn; the foreign key is required;
- sending creates the referral's follow-up check in the casework worklist, on the person's consent
  to be contacted about the referral (recorded in the same step as the referral consent);
- withdrawing the referral consent cancels the referrals made on it that are still active, and their
  pending checks.

Only the social worker who has the case acts on its referrals (as for the case itself); the agency's
replies may arrive after the case closed, so they are accepted on a closed case, while a new
referral needs a live case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from crisisdesk.audit.services import record
from crisisdesk.casework.models import Case, ContactConsent, Disclosure
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
from crisisdesk.casework.services.disclosures import shareable_keys
from crisisdesk.casework.services.followups import (
    cancel_referral_checks,
    consent_inside,
    schedule_referral_check,
)
from crisisdesk.directory.models import Service, ServiceAtLocation
from crisisdesk.domain.cases import LIVE
from crisisdesk.domain.referrals import (
    AGENCY_ACTIONS,
    DEFAULT_CHECK_RULE,
    TERMINAL,
    WARM_HANDOFF_STATES,
    Channel,
    ReferralAction,
    ReferralMode,
    ReferralNeed,
    ReferralStatus,
    Report,
    WarmHandoffOutcome,
    check_plan,
    response_problems,
    transition,
)
from crisisdesk.referrals.models import Referral, ReferralConsent, ReferralEvent
from crisisdesk.referrals.services.artifacts import disclose_referral

REFERABLE = {Service.Status.ACTIVE}
# Which form field each refusal reason belongs to (pages put the message on that field).
REASON_FIELD = {
    "channel_unknown": "channel",
    "channel_missing": "channel",
    "manual_agency_has_no_system": "channel",
    "agency_words_missing": "said",
    "when_missing": "occurred_at",
    "when_not_aware": "occurred_at",
    "when_in_future": "occurred_at",
    "when_before_sent": "occurred_at",
    "reason_missing": "reason",
}
EVENT_OF = {
    ReferralAction.SEND: ReferralEvent.Kind.SENT,
    ReferralAction.ACCEPT: ReferralEvent.Kind.ACCEPTED,
    ReferralAction.REJECT: ReferralEvent.Kind.REJECTED,
    ReferralAction.START: ReferralEvent.Kind.STARTED,
    ReferralAction.COMPLETE: ReferralEvent.Kind.COMPLETED,
    ReferralAction.FAIL: ReferralEvent.Kind.FAILED,
    ReferralAction.CANCEL: ReferralEvent.Kind.CANCELLED,
}


class ReportRefused(InvalidInput):
    """A report that misses what its mode requires (422): `reasons` are domain reason codes, and
    `errors` holds one field-level error per reason (field as in REASON_FIELD)."""

    def __init__(self, reasons: tuple[str, ...]):
        from crisisdesk.domain.referrals import REASON_TEXT

        first = reasons[0]
        super().__init__(REASON_FIELD.get(first, "report"), REASON_TEXT.get(first, first), first)
        for reason in reasons[1:]:
            self.errors.append(
                {"field": REASON_FIELD.get(reason, "report"), "reason": REASON_TEXT.get(reason, reason),
                 "type": reason}
            )  # fmt: skip
        self.reasons = reasons


# --- loading ---------------------------------------------------------------------------------------


def _service(service_id: int) -> Service:
    service = Service.objects.select_related("organization").filter(pk=service_id).first()
    if service is None:
        raise NotFound("no such service")
    return service


def _load(actor: Any, referral_id: int) -> Referral:
    """The referral, locked; only the social worker who has its case may change it."""
    referral = (
        Referral.objects.select_for_update().select_related("case", "consent").filter(pk=referral_id).first()
    )
    if referral is None:
        raise NotFound("no such referral")
    if referral.case.owner_id != getattr(actor, "pk", None):
        raise Forbidden("only the social worker who has the case can change its referrals")
    return referral


def _enum(field: str, value: str, enum: Any) -> str:
    allowed = [m.value for m in enum]
    if value not in allowed:
        raise InvalidInput(field, f"must be one of {allowed}", "enum")
    return value


# --- consent --------------------------------------------------------------------------------------


def record_referral_consent(
    actor: Any,
    case_id: int,
    service_id: int,
    *,
    given_by: str,
    relation: str,
    method: str,
    contact: str,
    agency_may_contact: bool = True,
    person_id: int | None = None,
    now: datetime | None = None,
) -> ReferralConsent:
    """The person agrees to be referred to this service (and to be contacted about it, on `contact`).

    Two rows in one step: the referral consent (scope: this service) and a casework contact consent
    (the follow-up check's consent). `person_id` must be a person of the case."""
    require(actor, "make_referral")
    text("given_by", given_by, 120, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        if case.status not in {s.value for s in LIVE}:
            raise Conflict("the case is closed: reopen it to refer")
        service = _service(service_id)
        contact_consent = consent_inside(
            actor, case, given_by=given_by, relation=relation, method=method, contact=contact,
            person_id=person_id, now=now,
        )  # fmt: skip
        consent = ReferralConsent.objects.create(
            case=case,
            person_id=person_id,
            service=service,
            given_by=given_by.strip(),
            relation=relation,
            method=method,
            agency_may_contact=agency_may_contact,
            contact_consent=contact_consent,
            recorded_by=actor,
            recorded_at=now,
        )
        record(
            actor,
            "referral_consent.record",
            consent,
            details={"case_id": case.pk, "service_id": service.pk, "method": method,
                     "agency_may_contact": agency_may_contact},
        )  # fmt: skip
    return consent


def withdraw_referral_consent(
    actor: Any, consent_id: int, reason: str, now: datetime | None = None
) -> ReferralConsent:
    """The person no longer agrees: active referrals on this consent are cancelled, with their checks."""
    require(actor, "make_referral")
    text("reason", reason, 4000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        consent = ReferralConsent.objects.select_for_update().filter(pk=consent_id).first()
        if consent is None:
            raise NotFound("no such consent")
        load_case(actor, consent.case_id)  # the owner's
        if consent.withdrawn_at is None:
            consent.withdrawn_at = now
            consent.withdrawn_by = actor
            consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
            record(actor, "referral_consent.withdraw", consent, details={"reason": reason})
            live = [s.value for s in ReferralStatus if s not in TERMINAL]
            for referral in Referral.objects.select_for_update().filter(consent=consent, status__in=live):
                report = Report(ReferralAction.CANCEL, reason=f"consent withdrawn: {reason}")
                _apply(actor, referral, report, now)
    return consent


def _consent_in_force(consent: ReferralConsent, case: Case, service: Service) -> None:
    if consent.case_id != case.pk:
        raise NotFound("no such consent in this case")
    if consent.service_id != service.pk:
        raise Conflict("the person consented to be referred to another service: record consent for this one")
    if consent.withdrawn_at is not None:
        raise Conflict("the consent was withdrawn: no referral without consent")


# --- create and send --------------------------------------------------------------------------------


def create_referral(
    actor: Any,
    case_id: int,
    service_id: int,
    consent_id: int,
    *,
    need: str,
    mode: str = ReferralMode.MANUAL,
    priority: str = Referral.Priority.ROUTINE,
    request_text: str = "",
    person_id: int | None = None,
    service_at_location_id: int | None = None,
    request_text_part2: bool = False,
    shared_items: list[str] | tuple[str, ...] = (),
    now: datetime | None = None,
) -> Referral:
    """A draft referral of the case's person to a service, on the consent recorded for it."""
    _check_fields(need, mode, priority, request_text)
    now = now_or(now)
    with transaction.atomic(durable=True):
        return _create(
            actor, case_id, service_id, consent_id, need=need, mode=mode, priority=priority,
            request_text=request_text, person_id=person_id, service_at_location_id=service_at_location_id,
            request_text_part2=request_text_part2, shared_items=shared_items, now=now,
        )  # fmt: skip


def refer(
    actor: Any,
    case_id: int,
    service_id: int,
    consent_id: int,
    *,
    need: str,
    mode: str = ReferralMode.MANUAL,
    priority: str = Referral.Priority.ROUTINE,
    request_text: str = "",
    person_id: int | None = None,
    service_at_location_id: int | None = None,
    request_text_part2: bool = False,
    shared_items: list[str] | tuple[str, ...] = (),
    channel: str = "",
    said_by: str = "",
    now: datetime | None = None,
) -> Referral:
    """Create and send in one step (the usual case from a search result): both or neither."""
    _check_fields(need, mode, priority, request_text)
    now = now_or(now)
    with transaction.atomic(durable=True):
        referral = _create(
            actor, case_id, service_id, consent_id, need=need, mode=mode, priority=priority,
            request_text=request_text, person_id=person_id, service_at_location_id=service_at_location_id,
            request_text_part2=request_text_part2, shared_items=shared_items, now=now,
        )  # fmt: skip
        return _send(actor, referral, channel, said_by, now)


def send_referral(
    actor: Any, referral_id: int, *, channel: str = "", said_by: str = "", now: datetime | None = None
) -> Referral:
    """Send a draft to the agency: it becomes `requested` and its follow-up check is planned.

    `channel`: how it went (default: the partner system for electronic mode, the phone for manual);
    `said_by`: whom it was given to at the agency (manual mode), if known."""
    require(actor, "make_referral")
    now = now_or(now)
    with transaction.atomic(durable=True):
        return _send(actor, _load(actor, referral_id), channel, said_by, now)


def _check_fields(need: str, mode: str, priority: str, request_text: str) -> None:
    _enum("need", need, ReferralNeed)
    _enum("mode", mode, ReferralMode)
    _enum("priority", priority, Referral.Priority)
    text("request_text", request_text, 2000)


def _create(
    actor: Any,
    case_id: int,
    service_id: int,
    consent_id: int,
    *,
    need: str,
    mode: str,
    priority: str,
    request_text: str,
    person_id: int | None,
    service_at_location_id: int | None,
    now: datetime,
    request_text_part2: bool = False,
    shared_items: list[str] | tuple[str, ...] = (),
) -> Referral:
    require(actor, "make_referral")
    case = load_case(actor, case_id)
    if case.status not in {s.value for s in LIVE}:
        raise Conflict("the case is closed: reopen it to refer")
    service = _service(service_id)
    if service.status not in REFERABLE:
        raise Conflict(f"the service is {service.status}: it takes no referrals")
    consent = ReferralConsent.objects.select_for_update().filter(pk=consent_id).first()
    if consent is None:
        raise NotFound("no such consent")
    _consent_in_force(consent, case, service)
    person_id = person_id if person_id is not None else consent.person_id
    if person_id is not None and not case.participants.filter(person_id=person_id).exists():
        raise InvalidInput("person_id", "that person is not in this case")
    if (
        service_at_location_id is not None
        and not ServiceAtLocation.objects.filter(pk=service_at_location_id, service=service).exists()
    ):
        raise InvalidInput("service_at_location_id", "that location does not offer this service")
    shared = list(dict.fromkeys(shared_items))  # in the order chosen, once each
    unknown = sorted(set(shared) - shareable_keys(case))
    if unknown:
        raise InvalidInput("shared_items", f"not items of this case: {unknown}")
    referral = Referral.objects.create(
        case=case,
        person_id=person_id,
        service=service,
        service_at_location_id=service_at_location_id,
        consent=consent,
        status=ReferralStatus.DRAFT,
        mode=mode,
        need=need,
        priority=priority,
        request_text=request_text.strip(),
        request_text_part2=bool(request_text_part2),
        shared_items=shared,
        service_name=service.name,
        # HSDS does not require a service's organization: the service then stands for its provider.
        organization_name=service.organization.name if service.organization else service.name,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _event(actor, referral, ReferralEvent.Kind.CREATED, "", ReferralStatus.DRAFT, now, now)
    record(
        actor,
        "referral.create",
        referral,
        details={"case_id": case.pk, "service_id": service.pk, "need": need, "mode": mode,
                 "shared_items": len(shared), "request_text_part2": bool(request_text_part2)},
    )  # fmt: skip
    return referral


def _send(actor: Any, referral: Referral, channel: str, said_by: str, now: datetime) -> Referral:
    text("said_by", said_by, 120)
    if not channel:
        manual = referral.mode == ReferralMode.MANUAL
        channel = Channel.PHONE.value if manual else Channel.PARTNER_SYSTEM.value
    check = response_problems(
        referral.mode, Report(ReferralAction.SEND, channel=channel), sent_at=None, now=now
    )
    if not check.ok:
        raise ReportRefused(check.reasons)
    consent = ReferralConsent.objects.select_for_update().get(pk=referral.consent_id)
    if consent.withdrawn_at is not None:
        raise Conflict("the consent was withdrawn: no referral without consent")
    before = ReferralStatus(referral.status)
    after = transition(before, ReferralAction.SEND)
    referral.status = after.value
    referral.sent_at = now
    referral.check_rule_version = DEFAULT_CHECK_RULE.version
    referral.updated_at = now
    referral.save(update_fields=["status", "sent_at", "check_rule_version", "updated_at"])
    _event(
        actor, referral, ReferralEvent.Kind.SENT, before, after, now, now, channel=channel, said_by=said_by
    )
    contact = ContactConsent.objects.select_for_update().get(pk=consent.contact_consent_id)
    plan = check_plan(DEFAULT_CHECK_RULE, now)
    check_row = schedule_referral_check(
        actor, contact, case=referral.case, referral_id=referral.pk,
        start=plan.start, visible_from=plan.visible_from, now=now,
    )  # fmt: skip
    # Sending tells the agency who the person is and what they need: a disclosure, in the ledger.
    disclosed = disclose_referral(actor, referral, Disclosure.Artifact.REFERRAL_SENT, now)
    record(
        actor,
        "referral.send",
        referral,
        details={"channel": channel, "follow_up_id": check_row.pk, "check_rule": plan.rule_version,
                 "disclosure_id": disclosed.row.pk},
    )  # fmt: skip
    return referral


# --- what the agency (or the person) reports, and cancelling --------------------------------------------


def record_agency_response(
    actor: Any,
    referral_id: int,
    *,
    accepted: bool,
    said: str = "",
    said_by: str = "",
    channel: str = "",
    occurred_at: datetime | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Referral:
    """The agency accepted or rejected the referral. Manual mode: what it said, when, on which channel
    (`occurred_at` is when the agency said it). A rejection gives the reason."""
    action = ReferralAction.ACCEPT if accepted else ReferralAction.REJECT
    report = Report(
        action, said=said, said_by=said_by, channel=channel, occurred_at=occurred_at, reason=reason
    )
    return _report(actor, referral_id, report, now)


def start_referral(actor: Any, referral_id: int, now: datetime | None = None, **report: Any) -> Referral:
    """The agency started the service (the first appointment took place...)."""
    return _report(actor, referral_id, Report(ReferralAction.START, **report), now)


def complete_referral(actor: Any, referral_id: int, now: datetime | None = None, **report: Any) -> Referral:
    """The service was delivered (the person is enrolled, housed, seen...)."""
    return _report(actor, referral_id, Report(ReferralAction.COMPLETE, **report), now)


def fail_referral(actor: Any, referral_id: int, now: datetime | None = None, **report: Any) -> Referral:
    """The referral did not lead to the service (no show, not eligible after all...); with the reason."""
    return _report(actor, referral_id, Report(ReferralAction.FAIL, **report), now)


def cancel_referral(actor: Any, referral_id: int, reason: str, now: datetime | None = None) -> Referral:
    """The social worker withdraws the referral (with the reason); its pending checks end with it."""
    return _report(actor, referral_id, Report(ReferralAction.CANCEL, reason=reason), now)


def _report(actor: Any, referral_id: int, report: Report, now: datetime | None) -> Referral:
    require(actor, "make_referral")
    text("said", report.said, 4000)
    text("said_by", report.said_by, 120)
    text("reason", report.reason, 4000)
    now = now_or(now)
    with transaction.atomic(durable=True):
        referral = _load(actor, referral_id)
        return _apply(actor, referral, report, now)


def _apply(actor: Any, referral: Referral, report: Report, now: datetime) -> Referral:
    before = ReferralStatus(referral.status)
    after = transition(before, report.action)  # 409 before anything else: the referral changed
    check = response_problems(referral.mode, report, sent_at=referral.sent_at, now=now)
    if not check.ok:
        raise ReportRefused(check.reasons)
    at = report.occurred_at or now
    referral.status = after.value
    referral.updated_at = now
    fields = ["status", "updated_at"]
    if report.action in (ReferralAction.ACCEPT, ReferralAction.REJECT):
        referral.responded_at = at
        fields.append("responded_at")
    if report.action is ReferralAction.START:
        referral.started_at = at
        fields.append("started_at")
    if after in TERMINAL:
        referral.ended_at = at
        referral.status_reason = report.reason.strip()
        fields += ["ended_at", "status_reason"]
    referral.save(update_fields=fields)
    _event(
        actor, referral, EVENT_OF[report.action], before, after, at, now,
        channel=report.channel, said=report.said, said_by=report.said_by, reason=report.reason,
    )  # fmt: skip
    ended = 0
    if report.action is ReferralAction.CANCEL:
        ended = cancel_referral_checks(actor, referral.pk, now, f"referral cancelled: {report.reason}")
    details: dict[str, Any] = {"from": before.value, "to": after.value}
    if report.action in AGENCY_ACTIONS:
        details.update(channel=report.channel, occurred_at=at.isoformat())
    if ended:
        details["checks_cancelled"] = ended
    record(actor, f"referral.{report.action.value}", referral, details=details)
    return referral


# --- warm handoff ---------------------------------------------------------------------------------


def record_warm_handoff(
    actor: Any,
    referral_id: int,
    *,
    outcome: str,
    agency_contact: str = "",
    person_on_call: bool = True,
    other_participants: str = "",
    notes: str = "",
    occurred_at: datetime | None = None,
    duration_minutes: int | None = None,
    now: datetime | None = None,
) -> ReferralEvent:
    """A three-way call: the social worker, the person and the agency. Who took part, how it went.

    Recorded on a referral that is out (requested, accepted or in progress); it changes no status:
    if the agency accepted on the call, that is recorded as the agency's response."""
    require(actor, "make_referral")
    _enum("outcome", outcome, WarmHandoffOutcome)
    text("agency_contact", agency_contact, 120)
    text("other_participants", other_participants, 255)
    text("notes", notes, 4000)
    if duration_minutes is not None and not 0 <= duration_minutes <= 600:
        raise InvalidInput("duration_minutes", "between 0 and 600 minutes")
    now = now_or(now)
    if occurred_at is not None and (occurred_at.tzinfo is None or occurred_at > now):
        raise InvalidInput("occurred_at", "an aware time, not in the future")
    with transaction.atomic(durable=True):
        referral = _load(actor, referral_id)
        if ReferralStatus(referral.status) not in WARM_HANDOFF_STATES:
            raise Conflict(f"the referral is {referral.status.replace('_', ' ')}: no warm handoff to record")
        event = _event(
            actor, referral, ReferralEvent.Kind.WARM_HANDOFF, "", "", occurred_at or now, now,
            channel=Channel.PHONE, said=notes, said_by=agency_contact, handoff_outcome=outcome,
            person_on_call=person_on_call, other_participants=other_participants,
            duration_minutes=duration_minutes,
        )  # fmt: skip
        referral.updated_at = now
        referral.save(update_fields=["updated_at"])
        record(actor, "referral.warm_handoff", referral, details={"outcome": outcome, "event_id": event.pk})
    return event


def _event(
    actor: Any,
    referral: Referral,
    kind: str,
    before: str,
    after: str,
    occurred_at: datetime,
    now: datetime,
    **extra: Any,
) -> ReferralEvent:
    return ReferralEvent.objects.create(
        referral=referral,
        kind=kind,
        status_before=str(before),
        status_after=str(after),
        occurred_at=occurred_at,
        recorded_by=actor,
        recorded_at=now,
        **extra,
    )


__all__ = [
    "ReportRefused",
    "cancel_referral",
    "complete_referral",
    "create_referral",
    "fail_referral",
    "record_agency_response",
    "record_referral_consent",
    "record_warm_handoff",
    "refer",
    "send_referral",
    "start_referral",
    "withdraw_referral_consent",
]
