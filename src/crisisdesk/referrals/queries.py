"""Permission-scoped reads of referrals. Not visible = NotFound (404).

Social workers see the referrals of the cases they own, supervisors every referral
(`crisisdesk.domain.permissions`). The tracker lists a social worker's referrals (those of the cases
they have), a supervisor's lists everyone's. Every referral handed out is an audited read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from crisisdesk.audit import reads
from crisisdesk.audit.access import deny, require
from crisisdesk.calls.errors import NoActiveProtocol
from crisisdesk.calls.protocols import active_protocol
from crisisdesk.casework.models import FollowUp
from crisisdesk.casework.queries import case_in_scope
from crisisdesk.domain.followups import FollowUpStatus, WorklistState, parse_policy, worklist_state
from crisisdesk.domain.referrals import OPEN, ReferralNeed, ReferralStatus
from crisisdesk.domain.roles import Role
from crisisdesk.referrals.fhir import ConsentFacts, ExportFacts, PatientFacts
from crisisdesk.referrals.models import Referral, ReferralConsent, ReferralEvent


def _visible(actor: Any, action: str = "view_referrals") -> None:
    require(actor, action)


def _with_history() -> Any:
    return Referral.objects.select_related(
        "service__organization", "person", "consent__contact_consent", "case", "created_by"
    ).prefetch_related(
        Prefetch(
            "events",
            queryset=ReferralEvent.objects.select_related("recorded_by").order_by("occurred_at", "pk"),
        ),
        Prefetch(
            "checks",
            queryset=FollowUp.objects.select_related("policy").annotate(n_attempts=Count("attempts")),
        ),
    )


def get_referral(actor: Any, referral_id: int) -> Referral:
    _visible(actor)
    qs = _with_history().filter(pk=referral_id)
    if getattr(actor, "role", "") == Role.SOCIAL_WORKER:
        qs = qs.filter(case__owner=actor)
    referral = qs.first()
    if referral is None:
        raise deny(actor, "referral.read", "referral", referral_id, "not_found_or_out_of_scope")
    reads.note(actor, referral)
    return referral


def referrals_for_case(actor: Any, case_id: int) -> list[Referral]:
    """The case's referrals, newest first, each with its history and checks (a fixed number of queries)."""
    _visible(actor)
    case_in_scope(actor, case_id)
    rows = list(_with_history().filter(case_id=case_id).order_by("-created_at", "-pk"))
    reads.note(actor, rows)
    return rows


def consents_for_case(actor: Any, case_id: int) -> list[ReferralConsent]:
    """Referral consents recorded in the case, newest first (with the service each is for)."""
    _visible(actor)
    case_in_scope(actor, case_id)
    return list(
        ReferralConsent.objects.filter(case_id=case_id)
        .select_related("service", "contact_consent")
        .order_by("-recorded_at", "-pk")
    )


def consent_in_force(actor: Any, case_id: int, service_id: int) -> ReferralConsent | None:
    """The newest consent of this case to be referred to this service that is not withdrawn."""
    _visible(actor)
    return (
        ReferralConsent.objects.filter(case_id=case_id, service_id=service_id, withdrawn_at=None)
        .select_related("contact_consent")
        .order_by("-recorded_at", "-pk")
        .first()
    )


def referrals_for_cases(actor: Any, case_ids: list[int]) -> list[Referral]:
    """Referrals of several cases (a person's earlier cases), newest first."""
    _visible(actor, "view_cases")
    return list(
        Referral.objects.filter(case_id__in=case_ids).select_related("service").order_by("-created_at", "-pk")
    )


# --- the tracker ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckState:
    follow_up: FollowUp
    state: WorklistState
    due_by: datetime | None


@dataclass(frozen=True)
class TrackerRow:
    referral: Referral
    check: CheckState | None  # the pending (or latest) follow-up check


@dataclass(frozen=True)
class Tracker:
    by_status: dict[str, list[TrackerRow]]  # every status, in lifecycle order (empty lists kept)
    overdue_checks: list[TrackerRow]
    due_checks: list[TrackerRow]
    counts: dict[str, int]


def tracker(
    actor: Any, now: datetime | None = None, *, everyone: bool = False, done_days: int = 30
) -> Tracker:
    """A social worker's referrals by status (`everyone`: all of them, for supervisors), with the state
    of each one's follow-up check. Finished referrals are those ended in the last `done_days` days."""
    _visible(actor)
    now = now or timezone.now()
    mine = Q() if everyone else Q(case__owner=actor)
    live = Q(status__in=[s.value for s in ReferralStatus if s in OPEN or s is ReferralStatus.DRAFT])
    recent = Q(ended_at__gte=now - timedelta(days=done_days))
    rows = list(_with_history().filter(mine).filter(live | recent).order_by("-created_at", "-pk"))
    reads.note(actor, rows)
    by_status: dict[str, list[TrackerRow]] = {s.value: [] for s in ReferralStatus}
    overdue: list[TrackerRow] = []
    due: list[TrackerRow] = []
    for referral in rows:
        row = TrackerRow(referral, check_state(referral, now))
        by_status[referral.status].append(row)
        if row.check is not None and row.check.state is WorklistState.OVERDUE:
            overdue.append(row)
        elif row.check is not None and row.check.state is WorklistState.DUE:
            due.append(row)
    far = now + timedelta(days=3650)
    overdue.sort(key=lambda r: r.check.due_by if r.check and r.check.due_by else far)
    due.sort(key=lambda r: r.check.due_by if r.check and r.check.due_by else far)
    counts = {status: len(items) for status, items in by_status.items()}
    counts.update(overdue_checks=len(overdue), due_checks=len(due))
    return Tracker(by_status, overdue, due, counts)


def check_state(referral: Referral, now: datetime) -> CheckState | None:
    """Where the referral's follow-up check is on the worklist: the pending one, else the latest."""
    checks = sorted(referral.checks.all(), key=lambda f: (f.status != FollowUpStatus.PENDING, -f.pk))
    if not checks:
        return None
    f = checks[0]
    state, due_by = worklist_state(
        parse_policy(f.policy.document),
        f.start_at,
        f.status,
        cast(Any, f).n_attempts,
        now,
        visible_from=f.visible_from,
    )
    return CheckState(f, state, due_by)


# --- the FHIR export's facts --------------------------------------------------------------------------

EVENT_WORDS = {
    "sent": "Sent",
    "accepted": "Accepted by the agency",
    "rejected": "Rejected by the agency",
    "started": "Service started",
    "completed": "Service completed",
    "failed": "Did not lead to the service",
    "cancelled": "Withdrawn by the referring program",
    "warm_handoff": "Warm handoff",
}
CHANNEL_WORDS = {
    "phone": "by phone",
    "email": "by e-mail",
    "fax": "by fax",
    "in_person": "in person",
    "partner_system": "through the agency's system",
}


def business_status(events: list[ReferralEvent]) -> str:
    """The latest report in words (Task.businessStatus.text), without anybody's words or names."""
    for event in reversed(events):
        if event.kind == ReferralEvent.Kind.CREATED:
            continue
        words = EVENT_WORDS.get(event.kind, event.kind)
        if event.kind == ReferralEvent.Kind.WARM_HANDOFF:
            words += f": {event.handoff_outcome.replace('_', ' ')}"
        channel = CHANNEL_WORDS.get(event.channel, "")
        return f"{words} ({channel})" if channel else words
    return ""


def export_facts(actor: Any, referral_id: int) -> ExportFacts:
    """What the FHIR export of a referral may show (see referrals.fhir for what is left out)."""
    referral = get_referral(actor, referral_id)
    try:
        _, protocol, _ = active_protocol()
        center, program = protocol.center, f"{protocol.name}: social worker program"
    except NoActiveProtocol:
        center, program = "crisisdesk", "Crisis Desk social worker program"
    service = referral.service
    organization = service.organization
    person = referral.person
    consent = referral.consent
    contact = consent.contact_consent
    events = list(referral.events.all())
    return ExportFacts(
        center=center,
        program_name=program,
        referral_key=str(referral.pk),
        status=ReferralStatus(referral.status),
        need=ReferralNeed(referral.need),
        priority=referral.priority,
        request_text=referral.request_text,
        created_at=referral.created_at,
        sent_at=referral.sent_at,
        updated_at=referral.updated_at,
        started_at=referral.started_at,
        ended_at=referral.ended_at,
        status_reason=referral.status_reason,
        business_status=business_status(events),
        organization_hsds_id=organization.hsds_id if organization is not None else "",
        organization_name=referral.organization_name,
        service_hsds_id=service.hsds_id,
        service_name=referral.service_name,
        patient=PatientFacts(
            key=str(person.pk) if person else "",
            given=person.given_name if person else "",
            family=person.family_name if person else "",
            birth_date=person.date_of_birth if person else None,
            phone=(contact.contact_e164 or contact.contact_raw) if consent.agency_may_contact else "",
        ),
        consent=ConsentFacts(
            key=str(consent.pk),
            relation=consent.relation,
            method=consent.method,
            recorded_at=consent.recorded_at,
            withdrawn=consent.withdrawn_at is not None,
            agency_may_contact=consent.agency_may_contact,
        ),
    )
