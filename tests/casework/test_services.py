"""Casework services on a real database: cases, assessments, escalation, consent-gated follow-ups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls import services as calls
from crisisdesk.calls.errors import Conflict, Forbidden
from crisisdesk.calls.models import Transfer
from crisisdesk.calls.services import InvalidInput
from crisisdesk.casework import queries, services
from crisisdesk.casework.models import Case, ContactConsent, FollowUp, FollowUpPolicyVersion
from crisisdesk.domain.cases import InvalidCaseTransition
from crisisdesk.domain.followups import WorklistState
from tests.calls.builders import CHICAGO, CLOSED_AT, OPEN_AT, new_call, requested_transfer, screened

pytestmark = pytest.mark.django_db

HIGH_RISK = {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": "no", "q6": "no"}
NO_RISK = {"q1": "no", "q2": "no", "q6": "no"}
COMPLETE_PLAN = {
    "warning_signs": "Not sleeping, pacing at night",
    "internal_coping_strategies": "Walk the dog",
    "people_to_ask_for_help": "Sister Dana",
    "professionals_and_agencies": "988; county crisis line",
    "making_environment_safe": "Medications locked with sister",
    "reasons_for_living": "Daughter",
}


@pytest.fixture
def claimed(mecc_protocol: Any, telecommunicator: Any, social_worker: Any) -> Case:
    transfer = requested_transfer(telecommunicator, social_worker)
    calls.claim_transfer(social_worker, transfer.pk, now=OPEN_AT + timedelta(seconds=20))
    return Case.objects.get(transfer=transfer)


def test_claiming_a_transfer_opens_exactly_one_case(claimed: Case, social_worker: Any) -> None:
    assert claimed.status == "open" and claimed.origin == "transfer"
    assert claimed.owner == social_worker and claimed.call_id == claimed.transfer.call_id
    assert claimed.opened_at == OPEN_AT + timedelta(seconds=20)
    assert Case.objects.count() == 1


def test_a_lost_claim_opens_no_case(mecc_protocol: Any, telecommunicator: Any, make_user: Any) -> None:
    sw1, sw2 = make_user("social_worker"), make_user("social_worker")
    transfer = requested_transfer(telecommunicator, sw1)
    calls.claim_transfer(sw1, transfer.pk, now=OPEN_AT)
    with pytest.raises(Exception, match="cannot claim"):
        calls.claim_transfer(sw2, transfer.pk, now=OPEN_AT)
    assert Case.objects.get().owner == sw1


def test_details_notes_and_close_with_a_reason(claimed: Case, social_worker: Any) -> None:
    services.update_case_details(
        social_worker,
        claimed.pk,
        concerns={"mental_health", "substance_use"},
        language="Somali",
        interpreter_used=True,
    )
    services.add_note(
        social_worker, claimed.pk, "counseling", "Talked through the evening; breathing exercise."
    )
    services.record_assessment(social_worker, claimed.pk, "cssrs_screener", NO_RISK)
    case = services.close_case(social_worker, claimed.pk, "resolved_by_phone", "Calm, plan for tomorrow")
    case.refresh_from_db()
    assert (case.status, case.disposition, case.language, case.interpreter_used) == (
        "closed",
        "resolved_by_phone",
        "Somali",
        True,
    )
    assert case.concerns() == {"mental_health", "substance_use"}
    # The phone part ended with the case: the claimed transfer is completed in the same step.
    assert Transfer.objects.get(pk=case.transfer_id).status == "completed"
    with pytest.raises(Conflict):
        services.add_note(social_worker, claimed.pk, "support", "after close")


def test_unknown_concern_or_note_kind_is_422(claimed: Case, social_worker: Any) -> None:
    with pytest.raises(InvalidInput, match="concerns"):
        services.update_case_details(social_worker, claimed.pk, concerns={"loneliness"})
    with pytest.raises(InvalidInput, match="kind"):
        services.add_note(social_worker, claimed.pk, "gossip", "x")
    with pytest.raises(InvalidInput, match="text"):
        services.add_note(social_worker, claimed.pk, "support", "   ")


def test_high_risk_cannot_close_as_resolved_by_phone_until_escalation_offered_and_safety_plan(
    claimed: Case, social_worker: Any
) -> None:
    services.update_case_details(social_worker, claimed.pk, concerns={"mental_health"})
    assessment = services.record_assessment(social_worker, claimed.pk, "cssrs_screener", HIGH_RISK)
    assert assessment.risk_level == "high" and "offer_escalation" in assessment.required_actions
    with pytest.raises(services.CloseRefused) as refused:
        services.close_case(social_worker, claimed.pk, "resolved_by_phone", "Feels better")
    assert set(refused.value.reasons) == {"high_risk_escalation_not_offered", "high_risk_safety_plan_missing"}
    # The refused attempt is in the audit trail; the case is still open.
    assert AuditEvent.objects.filter(action="case.close", outcome="refused").count() == 1
    assert Case.objects.get(pk=claimed.pk).status == "open"

    incomplete = services.save_safety_plan(social_worker, claimed.pk, {"warning_signs": "pacing"})
    assert not incomplete.complete
    services.record_escalation_declined(
        social_worker, claimed.pk, "Declined EMS and mobile crisis; sister present"
    )
    with pytest.raises(services.CloseRefused) as refused:
        services.close_case(social_worker, claimed.pk, "resolved_by_phone", "Feels better")
    assert refused.value.reasons == ("high_risk_safety_plan_missing",)

    assert services.save_safety_plan(social_worker, claimed.pk, COMPLETE_PLAN).complete
    assert (
        services.close_case(social_worker, claimed.pk, "resolved_by_phone", "Safe with sister").status
        == "closed"
    )


def test_invalid_instrument_answers_are_422_with_every_problem(claimed: Case, social_worker: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.record_assessment(
            social_worker, claimed.pk, "cssrs_screener", {"q1": "no", "q2": "no", "q3": "yes"}
        )
    assert "q3" in str(exc.value) and "q6" in str(exc.value)


def test_escalation_from_the_case_ends_the_transfer_and_waits_for_acknowledgement(
    claimed: Case, social_worker: Any, telecommunicator: Any, supervisor: Any
) -> None:
    at = OPEN_AT + timedelta(minutes=5)
    escalation = services.escalate_case(social_worker, claimed.pk, "ems", "Took pills an hour ago", now=at)
    claimed.refresh_from_db()
    assert claimed.status == "escalated"
    assert Transfer.objects.get(pk=claimed.transfer_id).status == "escalated"
    assert escalation.call_id == claimed.call_id and escalation.case_id == claimed.pk
    assert [e.pk for e in queries.unacknowledged_escalations(telecommunicator)] == [escalation.pk]
    # Past the protocol's limit (60 s), the supervisor is alerted.
    assert queries.overdue_escalations(supervisor, at + timedelta(seconds=59), 60) == []
    assert [e.pk for e in queries.overdue_escalations(supervisor, at + timedelta(seconds=61), 60)] == [
        escalation.pk
    ]

    services.acknowledge_escalation(telecommunicator, escalation.pk, now=at + timedelta(seconds=12))
    services.acknowledge_escalation(
        supervisor, escalation.pk, now=at + timedelta(seconds=30)
    )  # first one counts
    escalation.refresh_from_db()
    assert escalation.acknowledged_by == telecommunicator
    assert (escalation.acknowledged_at - escalation.escalated_at).total_seconds() == 12
    event = AuditEvent.objects.get(action="escalation.acknowledge")
    assert event.details["seconds_to_acknowledge"] == 12
    assert queries.unacknowledged_escalations(telecommunicator) == []
    assert queries.overdue_escalations(supervisor, at + timedelta(seconds=61), 60) == []

    # An escalated case closes with a responder disposition, and only such a one.
    with pytest.raises(services.CloseRefused) as refused:
        services.close_case(social_worker, claimed.pk, "resolved_by_phone", "x")
    assert "escalated_case_needs_responder_disposition" in refused.value.reasons
    services.update_case_details(social_worker, claimed.pk, concerns={"mental_health"})
    assert services.close_case(social_worker, claimed.pk, "ems_requested", "EMS took over").status == "closed"


def test_escalation_needs_responder_and_reason_and_the_right_roles(
    claimed: Case, social_worker: Any, telecommunicator: Any, make_user: Any
) -> None:
    with pytest.raises(InvalidInput, match="responder"):
        services.escalate_case(social_worker, claimed.pk, "swat", "x")
    with pytest.raises(InvalidInput, match="reason"):
        services.escalate_case(social_worker, claimed.pk, "police", " ")
    with pytest.raises(Forbidden):
        services.escalate_case(telecommunicator, claimed.pk, "police", "x")
    with pytest.raises(Forbidden):  # another social worker's case
        services.escalate_case(make_user("social_worker"), claimed.pk, "police", "x")
    escalation = services.escalate_case(social_worker, claimed.pk, "police", "Threats with a knife")
    with pytest.raises(Forbidden):
        services.acknowledge_escalation(social_worker, escalation.pk)
    with pytest.raises(InvalidCaseTransition):
        services.escalate_case(social_worker, claimed.pk, "ems", "again")


@pytest.mark.parametrize(
    ("steps", "action", "allowed"),
    [
        ([], "escalate", True),
        ([], "close", True),
        ([], "reopen", False),
        (["escalate"], "escalate", False),
        (["escalate"], "close", True),
        (["escalate"], "reopen", False),
        (["close"], "close", False),
        (["close"], "escalate", False),
        (["close"], "reopen", True),
        (["close", "reopen"], "close", True),
    ],
)
def test_every_case_transition_through_the_services(
    claimed: Case, social_worker: Any, steps: list[str], action: str, allowed: bool
) -> None:
    services.update_case_details(social_worker, claimed.pk, concerns={"other_crisis"})

    def do(step: str) -> None:
        escalated = Case.objects.get(pk=claimed.pk).status == "escalated"
        if step == "escalate":
            services.escalate_case(social_worker, claimed.pk, "police", "threats")
        elif step == "close":
            services.close_case(
                social_worker, claimed.pk, "police_requested" if escalated else "declined_services", "done"
            )
        else:
            services.reopen_case(social_worker, claimed.pk, "called back with news")

    for step in steps:
        do(step)
    if allowed:
        do(action)
    else:
        with pytest.raises((InvalidCaseTransition, Conflict)):
            do(action)


def test_reopen_keeps_the_earlier_close_in_the_audit(claimed: Case, social_worker: Any) -> None:
    services.update_case_details(social_worker, claimed.pk, concerns={"mental_health"})
    services.close_case(social_worker, claimed.pk, "declined_services", "Did not want help")
    case = services.reopen_case(social_worker, claimed.pk, "Called back asking for a referral")
    assert case.status == "open" and case.disposition == "" and case.closed_at is None
    reopen = AuditEvent.objects.get(action="case.reopen")
    assert reopen.details["disposition"] == "declined_services" and reopen.details["closed_at"]


# --- follow-ups ---------------------------------------------------------------------------------


def _consent(sw: Any, case: Case, **kw: Any) -> ContactConsent:
    args = {
        "given_by": "Jordan (person in crisis)",
        "relation": "person_in_crisis",
        "method": "verbal_on_call",
    }
    args["contact"] = "612-555-0142"
    args.update(kw)
    return services.record_consent(sw, case.pk, **args)


def test_follow_up_exists_only_with_consent_and_follows_the_policy(claimed: Case, social_worker: Any) -> None:
    consent = _consent(social_worker, claimed)
    assert (consent.contact_e164, consent.recorded_by, consent.method) == (
        "+16125550142",
        social_worker,
        "verbal_on_call",
    )
    follow_up = services.schedule_follow_up(social_worker, consent.pk, now=OPEN_AT + timedelta(minutes=30))
    received = claimed.call.received_at
    # Default policy: first attempt within 24 h of the call, 3 attempts, the last within 72 h.
    assert follow_up.first_due_by == received + timedelta(hours=24)
    assert follow_up.last_due_by == received + timedelta(hours=72)
    assert follow_up.consent == consent and follow_up.kind == "after_case"
    with pytest.raises(Conflict, match="already planned"):
        services.schedule_follow_up(social_worker, consent.pk)


def test_a_withdrawn_consent_cancels_and_refuses_follow_ups(claimed: Case, social_worker: Any) -> None:
    consent = _consent(social_worker, claimed)
    follow_up = services.schedule_follow_up(social_worker, consent.pk)
    services.withdraw_consent(social_worker, consent.pk)
    follow_up.refresh_from_db()
    assert follow_up.status == "cancelled"
    with pytest.raises(Conflict, match="withdrawn"):
        services.schedule_follow_up(social_worker, consent.pk)


def test_consent_needs_who_how_and_number(claimed: Case, social_worker: Any) -> None:
    with pytest.raises(InvalidInput, match="given_by"):
        _consent(social_worker, claimed, given_by="")
    with pytest.raises(InvalidInput, match="method"):
        _consent(social_worker, claimed, method="telepathy")
    # An invalid number is kept raw and flagged, never rejected.
    odd = _consent(social_worker, claimed, contact="6736")
    assert odd.contact_raw == "6736" and odd.contact_e164 == "" and not odd.contact_valid


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        (["reached"], "completed"),
        (["no_answer", "reached"], "completed"),
        (["left_message", "no_answer", "no_answer"], "unreachable"),
        (["declined"], "declined"),
        (["wrong_number"], "unreachable"),
        (["no_answer", "left_message"], "pending"),
    ],
)
def test_attempts_move_the_follow_up_through_its_lifecycle(
    claimed: Case, social_worker: Any, outcomes: list[str], status: str
) -> None:
    follow_up = services.schedule_follow_up(social_worker, _consent(social_worker, claimed).pk)
    for i, outcome in enumerate(outcomes):
        attempt = services.record_attempt(
            social_worker, follow_up.pk, channel="phone", outcome=outcome, notes=f"try {i}"
        )
        assert attempt.number == i + 1
    follow_up.refresh_from_db()
    assert follow_up.status == status
    if status != "pending":
        with pytest.raises(Conflict, match="no more attempts"):
            services.record_attempt(social_worker, follow_up.pk, channel="phone", outcome="reached")


def test_worklist_due_overdue_done_with_counts(claimed: Case, social_worker: Any, make_user: Any) -> None:
    received = claimed.call.received_at
    due = services.schedule_follow_up(social_worker, _consent(social_worker, claimed).pk)
    done = services.schedule_follow_up(social_worker, _consent(social_worker, claimed, given_by="Mother").pk)
    services.record_attempt(social_worker, done.pk, channel="phone", outcome="reached")
    at = received + timedelta(hours=2)
    wl = queries.worklist(social_worker, at)
    assert {i.follow_up.pk: i.state for i in wl.items} == {
        due.pk: WorklistState.DUE,
        done.pk: WorklistState.DONE,
    }
    assert (wl.counts["due"], wl.counts["done"], wl.counts["overdue"]) == (1, 1, 0)
    late = queries.worklist(social_worker, received + timedelta(hours=25))
    assert late.counts["overdue"] == 1 and late.items[0].follow_up.pk == due.pk
    # Another social worker does not see follow-ups assigned to someone else.
    assert queries.worklist(make_user("social_worker"), at).items == []


def test_callback_next_shift_appears_in_the_worklist_when_the_shift_opens(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    call = new_call(telecommunicator, "MP-26-000900")
    screened(telecommunicator, call, at=CLOSED_AT)  # Wednesday 21:00: the desk is closed
    calls.take_fallback(
        telecommunicator, call.pk, "callback_next_shift", callback_number="612-555-0177", now=CLOSED_AT
    )
    follow_up = FollowUp.objects.get()
    next_shift = CLOSED_AT.replace(day=26, hour=12, minute=0)  # Thursday 26 Nov 2026 is Thanksgiving
    next_shift = next_shift.replace(day=27)  # so the next shift is Friday 12:00
    assert follow_up.kind == "callback" and follow_up.visible_from == next_shift
    assert follow_up.consent.given_by == "caller" and follow_up.consent.recorded_by == telecommunicator
    assert follow_up.first_due_by == next_shift + timedelta(hours=24)
    before = queries.worklist(social_worker, next_shift - timedelta(minutes=1))
    assert before.items == [] and before.counts["upcoming"] == 1
    at_open = queries.worklist(social_worker, next_shift)
    assert [i.follow_up.pk for i in at_open.items] == [follow_up.pk]
    services.take_follow_up(social_worker, follow_up.pk)
    case = services.open_callback_case(social_worker, call_id=call.pk, note="Calling back from last night")
    assert case.origin == "callback" and case.call_id == call.pk


def test_other_fallbacks_create_no_follow_up(mecc_protocol: Any, telecommunicator: Any) -> None:
    call = new_call(telecommunicator, "MP-26-000901")
    screened(telecommunicator, call, at=CLOSED_AT)
    calls.take_fallback(telecommunicator, call.pk, "988", now=CLOSED_AT)
    assert not FollowUp.objects.exists()


def test_policy_is_data_an_administrator_changes(
    claimed: Case, social_worker: Any, administrator: Any
) -> None:
    old = services.schedule_follow_up(social_worker, _consent(social_worker, claimed).pk)
    with pytest.raises(Forbidden):
        services.publish_follow_up_policy(social_worker, {"version": "x"}, "no")
    with pytest.raises(InvalidInput):
        services.publish_follow_up_policy(
            administrator,
            {"version": "p2", "first_within_hours": 48, "max_attempts": 2, "last_within_hours": 24},
            "bad",
        )
    services.publish_follow_up_policy(
        administrator,
        {"version": "p2", "first_within_hours": 4, "max_attempts": 2, "last_within_hours": 24},
        "Program asked for a same-day first call",
    )
    assert FollowUpPolicyVersion.objects.get(is_active=True).version == "p2"
    new = services.schedule_follow_up(social_worker, _consent(social_worker, claimed, given_by="Aunt").pk)
    assert new.first_due_by == claimed.call.received_at + timedelta(hours=4)
    old.refresh_from_db()
    assert old.policy.version != "p2" and old.first_due_by == claimed.call.received_at + timedelta(hours=24)


# --- people across calls ------------------------------------------------------------------------


def _second_case(tc: Any, sw: Any, incident: str) -> Case:
    transfer = requested_transfer(tc, sw, incident_id=incident)
    calls.claim_transfer(sw, transfer.pk, now=OPEN_AT + timedelta(seconds=30))
    return Case.objects.get(transfer=transfer)


def test_phone_numbers_are_normalised_and_invalid_ones_flagged(claimed: Case, social_worker: Any) -> None:
    good = services.add_person(
        social_worker, claimed.pk, relation="person_in_crisis", given_name="Jordan", phone="(612) 555-0142"
    )
    bad = services.add_person(social_worker, claimed.pk, relation="caller", given_name="Ari", phone="6736")
    assert (good.person.phone_e164, good.person.phone_valid) == ("+16125550142", True)
    assert good.person.phone_key and good.person.phone_key != "+16125550142"
    assert (bad.person.phone_raw, bad.person.phone_e164, bad.person.phone_valid) == ("6736", "", False)
    assert bad.person.phone_problem


def test_candidates_link_prior_contacts_and_undo_without_loss(
    claimed: Case, social_worker: Any, telecommunicator: Any
) -> None:
    first = services.add_person(
        social_worker,
        claimed.pk,
        relation="person_in_crisis",
        given_name="Robert",
        family_name="Lee",
        phone="612-555-0142",
    ).person
    services.update_case_details(social_worker, claimed.pk, concerns={"mental_health"})
    services.add_note(social_worker, claimed.pk, "support", "First contact")
    services.close_case(social_worker, claimed.pk, "resolved_by_phone", "ok")

    later = _second_case(telecommunicator, social_worker, "MP-26-000202")
    again = services.add_person(
        social_worker,
        later.pk,
        relation="person_in_crisis",
        given_name="Bob",
        family_name="Lee",
        phone="+1 612 555 0142",
    ).person
    found = queries.candidates_for(again)
    assert [p.pk for p, _ in found] == [first.pk]
    assert "phone_exact" in found[0][1].reasons
    assert queries.prior_contacts(social_worker, again.pk, exclude_case_id=later.pk).cases == []

    link = services.confirm_link(social_worker, again.pk, first.pk)
    prior = queries.prior_contacts(social_worker, again.pk, exclude_case_id=later.pk)
    assert [c.pk for c in prior.cases] == [claimed.pk]
    assert claimed.call_id in [c.pk for c in prior.calls]
    assert queries.candidates_for(again) == []  # already linked: not offered again
    with pytest.raises(Conflict):
        services.confirm_link(social_worker, first.pk, again.pk)

    services.undo_link(social_worker, link.pk, "Different Bob: other date of birth")
    assert queries.prior_contacts(social_worker, again.pk, exclude_case_id=later.pk).cases == []
    link.refresh_from_db()
    assert link.undone_at is not None and link.undone_by == social_worker
    # Nothing was lost: both records, their cases and notes are all still there.
    assert Case.objects.get(pk=claimed.pk).notes.count() == 1
    assert {p.pk for p in (first, again)} <= set(queries.linked_ids(first.pk) | queries.linked_ids(again.pk))
    with pytest.raises(Conflict):
        services.undo_link(social_worker, link.pk, "again")
    relinked = services.confirm_link(social_worker, again.pk, first.pk)  # a new link may be confirmed later
    assert relinked.pk != link.pk


def test_repeat_911_calls_after_close_by_keyed_phone(
    claimed: Case, social_worker: Any, telecommunicator: Any
) -> None:
    services.add_person(
        social_worker, claimed.pk, relation="person_in_crisis", given_name="Jordan", phone="612-555-0142"
    )
    services.update_case_details(social_worker, claimed.pk, concerns={"mental_health"})
    closed_at = OPEN_AT + timedelta(hours=1)
    services.close_case(social_worker, claimed.pk, "resolved_by_phone", "ok", now=closed_at)
    case = Case.objects.get(pk=claimed.pk)
    assert queries.repeat_calls_after_close(case) == {30: 0, 90: 0, 180: 0}
    from crisisdesk.calls.schemas import CadCall
    from tests.calls.builders import cad_record

    for n, days in enumerate((10, 60, 120, 200)):
        when = (closed_at + timedelta(days=days)).astimezone(CHICAGO).isoformat()
        record = cad_record(f"MP-27-{n:06d}", received_at=when, caller={"phone": "6125550142"})
        calls.intake_call(telecommunicator, CadCall.model_validate(record))
    other = cad_record(
        "MP-27-999999",
        received_at=(closed_at + timedelta(days=5)).isoformat(),
        caller={"phone": "612-555-0199"},
    )
    calls.intake_call(telecommunicator, CadCall.model_validate(other))
    assert queries.repeat_calls_after_close(case) == {30: 1, 90: 2, 180: 3}


def test_linking_is_done_from_ones_own_case(claimed: Case, social_worker: Any, make_user: Any) -> None:
    mine = services.add_person(
        social_worker, claimed.pk, relation="caller", given_name="Ann", phone="612-555-0150"
    )
    other_sw = make_user("social_worker")
    stranger = services.add_person(
        social_worker, claimed.pk, relation="other", given_name="Bo", phone="612-555-0151"
    )
    with pytest.raises(Forbidden):
        services.confirm_link(other_sw, mine.person.pk, stranger.person.pk)


def test_instrument_problems_come_back_one_per_question(claimed: Case, social_worker: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.record_assessment(
            social_worker, claimed.pk, "cssrs_screener", {"q1": "no", "q2": "no", "q3": "yes"}
        )
    fields = {e["field"] for e in exc.value.errors}
    assert {"answers.q3", "answers.q6"} <= fields


def test_a_callback_is_worked_as_a_linked_case_in_one_step(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any, make_user: Any
) -> None:
    call = new_call(telecommunicator, "MP-26-000902")
    screened(telecommunicator, call, at=CLOSED_AT)
    calls.take_fallback(
        telecommunicator, call.pk, "callback_next_shift", callback_number="612-555-0178", now=CLOSED_AT
    )
    follow_up = FollowUp.objects.get()
    with pytest.raises(Forbidden):
        services.open_case_for_follow_up(telecommunicator, follow_up.pk)
    case = services.open_case_for_follow_up(social_worker, follow_up.pk)
    follow_up.refresh_from_db()
    assert follow_up.case == case and follow_up.assigned_to == social_worker and case.origin == "callback"
    assert services.open_case_for_follow_up(social_worker, follow_up.pk) == case  # the same case again
    assert Case.objects.count() == 1
    # An escalation from a callback case (no transfer) shows on the call's page too.
    escalation = services.escalate_case(social_worker, case.pk, "police", "Threats to a neighbour")
    from crisisdesk.calls import queries as call_queries

    assert [e.pk for e in call_queries.escalations_for_call(telecommunicator, call.pk)] == [escalation.pk]


def test_a_missing_policy_is_replaced_by_the_default(claimed: Case, social_worker: Any) -> None:
    FollowUpPolicyVersion.objects.all().delete()
    follow_up = services.schedule_follow_up(social_worker, _consent(social_worker, claimed).pk)
    assert follow_up.policy.version == "followup-default/1" and follow_up.policy.is_active
    assert AuditEvent.objects.filter(action="follow_up_policy.default").count() == 1


def test_records_linked_to_each_other_are_offered_once(
    claimed: Case, social_worker: Any, telecommunicator: Any
) -> None:
    def record(case: Case) -> Any:
        return services.add_person(
            social_worker, case.pk, relation="person_in_crisis", given_name="Dana", family_name="Whitfield",
            phone="612-555-0161",
        ).person  # fmt: skip

    first = record(claimed)
    second = record(_second_case(telecommunicator, social_worker, "MP-26-000203"))
    services.confirm_link(social_worker, second.pk, first.pk)
    third = record(_second_case(telecommunicator, social_worker, "MP-26-000204"))
    found = queries.candidates_for(third)
    assert len(found) == 1 and found[0][0].pk in {first.pk, second.pk}
    services.confirm_link(social_worker, third.pk, found[0][0].pk)
    assert queries.linked_ids(third.pk) == {first.pk, second.pk, third.pk}
