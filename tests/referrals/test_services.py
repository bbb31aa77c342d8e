"""Referral services on a real database: consent gating, the lifecycle, manual reports, checks, handoffs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import Conflict, Forbidden, NotFound
from crisisdesk.calls.services import InvalidInput
from crisisdesk.casework import queries as cq
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import Case, ContactConsent, FollowUp
from crisisdesk.domain.followups import WorklistState
from crisisdesk.domain.referrals import InvalidReferralTransition
from crisisdesk.referrals import queries, services
from crisisdesk.referrals.models import Referral, ReferralConsent, ReferralEvent
from tests.referrals.builders import agency_service, claimed_case, consent, person_id

pytestmark = pytest.mark.django_db

SAID = {"said": "We can see her Thursday at 10", "said_by": "Maria, intake", "channel": "phone"}


@pytest.fixture
def case(mecc_protocol: Any, telecommunicator: Any, social_worker: Any) -> Case:
    return claimed_case(telecommunicator, social_worker)


@pytest.fixture
def service() -> Any:
    return agency_service()


def sent(sw: Any, case: Case, service: Any, **extra: Any) -> Referral:
    """Consent and referral, an hour ago by default (so the agency's answer can come "now")."""
    fields: dict[str, Any] = {
        "need": "housing_instability",
        "request_text": "Behind on rent, eviction notice",
        "now": timezone.now() - timedelta(hours=1),
    }
    fields.update(extra)
    c = consent(sw, case, service, now=fields["now"])
    return services.refer(sw, case.pk, service.pk, c.pk, **fields)


def accepted(sw: Any, referral: Referral) -> Referral:
    return services.record_agency_response(
        sw, referral.pk, accepted=True, occurred_at=timezone.now() - timedelta(seconds=5), **SAID
    )


# --- consent gating ----------------------------------------------------------------------------------


def test_consent_records_the_referral_consent_and_a_contact_consent(
    case: Case, service: Any, social_worker: Any
) -> None:
    c = consent(social_worker, case, service, agency_may_contact=False)
    assert (c.case_id, c.service_id, c.person_id) == (case.pk, service.pk, person_id(case))
    assert (c.given_by, c.relation, c.method, c.agency_may_contact) == (
        "Dana Ortiz",
        "person_in_crisis",
        "verbal_on_call",
        False,
    )
    contact = ContactConsent.objects.get(pk=c.contact_consent_id)
    assert contact.case_id == case.pk and contact.contact_e164 == "+16125550142" and contact.contact_valid
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "consent.record",
        "referral_consent.record",
    }


def test_no_referral_without_the_consent_for_that_service(
    case: Case, service: Any, social_worker: Any, telecommunicator: Any
) -> None:
    other = agency_service("Food shelf", "North Food")
    c_other = consent(social_worker, case, other)
    with pytest.raises(NotFound):
        services.refer(social_worker, case.pk, service.pk, 99999, need="housing_instability")
    with pytest.raises(Conflict, match="another service"):
        services.refer(social_worker, case.pk, service.pk, c_other.pk, need="housing_instability")
    # A consent recorded in another case does not count either.
    case2 = claimed_case(telecommunicator, social_worker, "MP-26-000102")
    c_case2 = consent(social_worker, case2, service)
    with pytest.raises(NotFound, match="in this case"):
        services.refer(social_worker, case.pk, service.pk, c_case2.pk, need="housing_instability")
    assert not Referral.objects.exists()


def test_withdrawn_consent_refuses_new_referrals(case: Case, service: Any, social_worker: Any) -> None:
    c = consent(social_worker, case, service)
    services.withdraw_referral_consent(social_worker, c.pk, "Changed her mind")
    with pytest.raises(Conflict, match="withdrawn"):
        services.refer(social_worker, case.pk, service.pk, c.pk, need="housing_instability")
    assert not Referral.objects.exists()


def test_a_withdrawn_contact_consent_stops_the_send_and_nothing_is_written(
    case: Case, service: Any, social_worker: Any
) -> None:
    c = consent(social_worker, case, service)
    cs.withdraw_consent(social_worker, c.contact_consent_id)
    with pytest.raises(Conflict, match="no follow-up without consent"):
        services.refer(social_worker, case.pk, service.pk, c.pk, need="housing_instability")
    # create and send are one step: no draft left behind, no event, no check.
    assert not Referral.objects.exists() and not ReferralEvent.objects.exists()
    assert not FollowUp.objects.filter(kind="referral_check").exists()


def test_withdrawing_the_referral_consent_cancels_active_referrals_and_their_checks(
    case: Case, service: Any, social_worker: Any
) -> None:
    referral = sent(social_worker, case, service)
    services.withdraw_referral_consent(social_worker, referral.consent_id, "Does not want the agency to call")
    referral.refresh_from_db()
    assert referral.status == "cancelled" and "consent withdrawn" in referral.status_reason
    assert FollowUp.objects.get(referral=referral).status == "cancelled"
    assert ReferralConsent.objects.get(pk=referral.consent_id).withdrawn_at is not None


# --- create, send and the follow-up check ------------------------------------------------------------


def test_refer_sends_and_plans_the_follow_up_check(case: Case, service: Any, social_worker: Any) -> None:
    now = timezone.now()
    referral = sent(social_worker, case, service, now=now)
    assert referral.status == "requested" and referral.mode == "manual" and referral.sent_at == now
    assert (referral.service_name, referral.organization_name) == (
        "Housing Support Walk-in",
        "Hennepin Housing Help",
    )
    assert referral.person_id == person_id(case)  # from the consent
    kinds = list(
        referral.events.order_by("pk").values_list("kind", "status_before", "status_after", "channel")
    )
    assert kinds == [("created", "", "draft", ""), ("sent", "draft", "requested", "phone")]
    check = FollowUp.objects.get(referral=referral)
    assert (check.kind, check.status, check.case_id, check.assigned_to_id) == (
        "referral_check",
        "pending",
        case.pk,
        social_worker.pk,
    )
    assert check.consent_id == referral.consent.contact_consent_id
    assert check.visible_from == now and check.start_at == now + timedelta(hours=48)
    assert check.first_due_by == now + timedelta(hours=72)  # default policy: first attempt within 24 h
    assert referral.check_rule_version == "referral-check/1"
    # It is on the social worker's worklist at once, due (not upcoming).
    item = next(
        i for i in cq.worklist(social_worker, now + timedelta(minutes=1)).items if i.follow_up.pk == check.pk
    )
    assert item.state is WorklistState.DUE and item.next_due_by == check.first_due_by
    assert item.follow_up.referral_id == referral.pk
    actions = list(AuditEvent.objects.filter(object_type="referral").values_list("action", flat=True))
    assert actions == ["referral.create", "referral.send"]


def test_draft_then_send_and_electronic_mode_defaults_to_the_partner_system(
    case: Case, service: Any, social_worker: Any
) -> None:
    c = consent(social_worker, case, service)
    draft = services.create_referral(
        social_worker, case.pk, service.pk, c.pk, need="food_insecurity", mode="electronic"
    )
    assert draft.status == "draft" and not FollowUp.objects.filter(referral=draft).exists()
    referral = services.send_referral(social_worker, draft.pk)
    assert referral.status == "requested"
    assert referral.events.get(kind="sent").channel == "partner_system"
    with pytest.raises(InvalidReferralTransition):
        services.send_referral(social_worker, draft.pk)  # already sent
    assert FollowUp.objects.filter(referral=draft).count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("need", "world_peace"), ("mode", "pigeon"), ("priority", "asap"), ("request_text", "x" * 2001)],
)
def test_bad_fields_are_422_with_the_field(
    case: Case, service: Any, social_worker: Any, field: str, value: str
) -> None:
    c = consent(social_worker, case, service)
    fields: dict[str, Any] = {"need": "housing_instability", field: value}
    with pytest.raises(InvalidInput) as info:
        services.refer(social_worker, case.pk, service.pk, c.pk, **fields)
    assert info.value.errors[0]["field"] == field


def test_a_defunct_service_takes_no_referrals(case: Case, social_worker: Any) -> None:
    gone = agency_service("Old drop-in", status="defunct")
    c = consent(social_worker, case, gone)
    with pytest.raises(Conflict, match="defunct"):
        services.refer(social_worker, case.pk, gone.pk, c.pk, need="other")


def test_a_service_without_an_organization_stands_for_its_provider(case: Case, social_worker: Any) -> None:
    lone = agency_service("Peer warmline", organization=None)
    referral = sent(social_worker, case, lone, need="social_connection")
    assert referral.organization_name == "Peer warmline"


# --- the lifecycle: what the agency reports ----------------------------------------------------------


def test_manual_acceptance_needs_what_the_agency_said_and_when(
    case: Case, service: Any, social_worker: Any
) -> None:
    referral = sent(social_worker, case, service)
    with pytest.raises(services.ReportRefused) as info:
        services.record_agency_response(social_worker, referral.pk, accepted=True)
    assert {e["field"] for e in info.value.errors} == {"channel", "said", "occurred_at"}
    assert set(info.value.reasons) == {"channel_missing", "agency_words_missing", "when_missing"}
    assert Referral.objects.get(pk=referral.pk).status == "requested"

    said_at = timezone.now() - timedelta(minutes=10)
    referral = services.record_agency_response(
        social_worker, referral.pk, accepted=True, occurred_at=said_at, **SAID
    )
    assert referral.status == "accepted" and referral.responded_at == said_at
    event = referral.events.get(kind="accepted")
    assert (event.said, event.said_by, event.channel, event.occurred_at) == (
        "We can see her Thursday at 10",
        "Maria, intake",
        "phone",
        said_at,
    )
    assert event.recorded_at > said_at  # written down after it was said
    audit = AuditEvent.objects.get(action="referral.accept")
    assert audit.details["from"] == "requested" and audit.details["to"] == "accepted"


def test_rejection_needs_a_reason_and_ends_the_referral_but_not_its_check(
    case: Case, service: Any, social_worker: Any
) -> None:
    referral = sent(social_worker, case, service)
    at = timezone.now()
    with pytest.raises(services.ReportRefused, match="reason"):
        services.record_agency_response(social_worker, referral.pk, accepted=False, occurred_at=at, **SAID)
    referral = services.record_agency_response(
        social_worker, referral.pk, accepted=False, occurred_at=at, reason="Full until January", **SAID
    )
    assert (referral.status, referral.status_reason, referral.ended_at) == (
        "rejected",
        "Full until January",
        at,
    )
    # The person still needs help: the check stays on the worklist.
    assert FollowUp.objects.get(referral=referral).status == "pending"


def test_accept_start_complete(case: Case, service: Any, social_worker: Any) -> None:
    referral = accepted(social_worker, sent(social_worker, case, service))
    with pytest.raises(InvalidReferralTransition):
        accepted(social_worker, referral)  # accepting twice is a 409, not a second event
    started = timezone.now()
    services.start_referral(
        social_worker,
        referral.pk,
        said="First appointment done",
        said_by="Maria",
        channel="phone",
        occurred_at=started,
    )
    done = services.complete_referral(
        social_worker, referral.pk, said="She is enrolled", said_by="Dana", channel="in_person",
        occurred_at=timezone.now(),
    )  # fmt: skip
    assert done.status == "completed" and done.started_at == started and done.ended_at is not None
    kinds = list(done.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["created", "sent", "accepted", "started", "completed"]
    with pytest.raises(InvalidReferralTransition):
        services.cancel_referral(social_worker, done.pk, "too late")


def test_complete_straight_from_accepted_and_fail_needs_a_reason(
    case: Case, service: Any, social_worker: Any
) -> None:
    a = accepted(social_worker, sent(social_worker, case, service))
    done = services.complete_referral(
        social_worker, a.pk, said="Enrolled", channel="phone", occurred_at=timezone.now()
    )
    assert done.status == "completed" and done.started_at is None
    b = accepted(
        social_worker,
        sent(social_worker, case, agency_service("Shelter", "Shelter Org"), need="homelessness"),
    )
    with pytest.raises(services.ReportRefused):
        services.fail_referral(
            social_worker, b.pk, said="No show", channel="phone", occurred_at=timezone.now()
        )
    failed = services.fail_referral(
        social_worker,
        b.pk,
        said="No show",
        channel="phone",
        occurred_at=timezone.now(),
        reason="Did not come",
    )
    assert failed.status == "failed" and failed.status_reason == "Did not come"


def test_a_report_dated_before_the_send_or_in_the_future_is_refused(
    case: Case, service: Any, social_worker: Any
) -> None:
    referral = sent(social_worker, case, service)
    assert referral.sent_at is not None
    for when in (referral.sent_at - timedelta(hours=1), timezone.now() + timedelta(hours=2)):
        with pytest.raises(services.ReportRefused) as info:
            services.record_agency_response(
                social_worker, referral.pk, accepted=True, occurred_at=when, **SAID
            )
        assert info.value.errors[0]["field"] == "occurred_at"


def test_electronic_reports_need_only_the_channel(case: Case, service: Any, social_worker: Any) -> None:
    referral = sent(social_worker, case, service, mode="electronic")
    r = services.record_agency_response(social_worker, referral.pk, accepted=True, channel="partner_system")
    assert r.status == "accepted" and r.responded_at is not None


def test_cancel_ends_the_pending_check(case: Case, service: Any, social_worker: Any) -> None:
    referral = sent(social_worker, case, service)
    with pytest.raises(services.ReportRefused):
        services.cancel_referral(social_worker, referral.pk, "  ")
    cancelled = services.cancel_referral(social_worker, referral.pk, "Sent to the wrong program")
    assert cancelled.status == "cancelled" and cancelled.status_reason == "Sent to the wrong program"
    assert FollowUp.objects.get(referral=referral).status == "cancelled"
    assert AuditEvent.objects.get(action="referral.cancel").details["checks_cancelled"] == 1


# --- warm handoff ------------------------------------------------------------------------------------


def test_warm_handoff_is_recorded_on_a_referral_that_is_out(
    case: Case, service: Any, social_worker: Any
) -> None:
    c = consent(social_worker, case, service)
    draft = services.create_referral(social_worker, case.pk, service.pk, c.pk, need="housing_instability")
    with pytest.raises(Conflict, match="draft"):
        services.record_warm_handoff(social_worker, draft.pk, outcome="connected")
    services.send_referral(social_worker, draft.pk)
    with pytest.raises(InvalidInput, match="outcome"):
        services.record_warm_handoff(social_worker, draft.pk, outcome="lovely")
    event = services.record_warm_handoff(
        social_worker, draft.pk, outcome="connected", agency_contact="Maria, intake", person_on_call=True,
        other_participants="Dana's sister", notes="Maria booked Thursday 10:00", duration_minutes=12,
    )  # fmt: skip
    assert (
        event.kind,
        event.handoff_outcome,
        event.said_by,
        event.person_on_call,
        event.duration_minutes,
    ) == (
        "warm_handoff",
        "connected",
        "Maria, intake",
        True,
        12,
    )
    assert Referral.objects.get(pk=draft.pk).status == "requested"  # a handoff changes no status
    assert AuditEvent.objects.filter(action="referral.warm_handoff").count() == 1


# --- who may -----------------------------------------------------------------------------------------


def test_roles_and_ownership(
    case: Case, service: Any, social_worker: Any, supervisor: Any, make_user: Any
) -> None:
    with pytest.raises(Forbidden):
        consent(supervisor, case, service)
    referral = sent(social_worker, case, service)
    other_sw = make_user("social_worker", "sw-other")
    with pytest.raises(Forbidden, match="has the case"):
        accepted(other_sw, referral)
    with pytest.raises(Forbidden):
        services.cancel_referral(supervisor, referral.pk, "no")
    # Supervisors see referrals; telecommunicators do not (404).
    assert queries.get_referral(supervisor, referral.pk).pk == referral.pk
    with pytest.raises(NotFound):
        queries.get_referral(make_user("telecommunicator"), referral.pk)


def test_closed_case_takes_no_new_referral_but_hears_the_agency(
    case: Case, service: Any, social_worker: Any
) -> None:
    referral = sent(social_worker, case, service)
    cs.update_case_details(social_worker, case.pk, concerns={"mental_health"})
    cs.close_case(social_worker, case.pk, "referred_to_services", "Referred to housing help")
    c = ReferralConsent.objects.get(pk=referral.consent_id)
    with pytest.raises(Conflict, match="closed"):
        services.refer(social_worker, case.pk, service.pk, c.pk, need="housing_instability")
    assert accepted(social_worker, referral).status == "accepted"


# --- queries -----------------------------------------------------------------------------------------


def test_tracker_groups_by_status_and_lists_overdue_checks(
    case: Case, service: Any, social_worker: Any, supervisor: Any, make_user: Any
) -> None:
    now = timezone.now()
    a = sent(social_worker, case, service, now=now)
    b = accepted(
        social_worker, sent(social_worker, case, agency_service("Food", "Food Org"), need="food_insecurity")
    )
    t = queries.tracker(social_worker, now + timedelta(hours=1))
    assert [r.referral.pk for r in t.by_status["requested"]] == [a.pk]
    assert [r.referral.pk for r in t.by_status["accepted"]] == [b.pk]
    assert t.counts["due_checks"] == 2 and t.counts["overdue_checks"] == 0
    later = queries.tracker(social_worker, now + timedelta(hours=73))
    assert {r.referral.pk for r in later.overdue_checks} == {a.pk, b.pk}
    # Another social worker's tracker is empty; the supervisor sees everyone's.
    assert sum(len(v) for v in queries.tracker(make_user("social_worker")).by_status.values()) == 0
    assert queries.tracker(supervisor, everyone=True).counts["requested"] == 1


def test_prior_contacts_show_the_referrals_of_a_linked_person(
    case: Case, service: Any, social_worker: Any, telecommunicator: Any
) -> None:
    referral = sent(social_worker, case, service)
    cs.update_case_details(social_worker, case.pk, concerns={"mental_health"})
    cs.close_case(social_worker, case.pk, "referred_to_services", "Referred")
    later = claimed_case(telecommunicator, social_worker, "MP-26-000150")
    cs.confirm_link(social_worker, person_id(later), person_id(case))
    prior = cq.prior_contacts(social_worker, person_id(later), exclude_case_id=later.pk)
    assert [r.pk for r in prior.referrals] == [referral.pk]
