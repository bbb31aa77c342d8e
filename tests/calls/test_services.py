"""The calls services (the one write path): intake, screening and decision, the transfer lifecycle,
timeouts, fallbacks and availability. Every rule that depends on time gets an explicit `now`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls import services
from crisisdesk.calls.errors import Conflict, Forbidden, NotAllowedByDecision, NotFound
from crisisdesk.calls.models import (
    Call,
    Decision,
    Escalation,
    FallbackRoute,
    IntakeConflict,
    RejectedRecord,
    SocialWorkerStatus,
    Transfer,
)
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.calls.schemas import CadCall
from crisisdesk.domain.roles import Role
from crisisdesk.domain.transfers import InvalidTransition
from tests.calls.builders import (
    ALL_CLEAR,
    CHICAGO,
    CLOSED_AT,
    OPEN_AT,
    cad_record,
    new_call,
    requested_transfer,
    screened,
)
from tests.conftest import protocol_text

pytestmark = pytest.mark.usefixtures("mecc_protocol")

TIMEOUT = timedelta(seconds=90)  # the shipped MECC protocol's transfer_timeout_seconds


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- intake -----------------------------------------------------------------------------------


def test_intake_is_idempotent_on_source_and_incident(cad: Any) -> None:
    first = services.intake_call(cad, CadCall.model_validate(cad_record()))
    again = services.intake_call(cad, CadCall.model_validate(cad_record()))
    assert first.created and not again.created and again.conflict is None
    assert again.call.pk == first.call.pk
    assert Call.objects.count() == 1
    assert actions()[-2:] == ["call.intake", "call.intake_repeat"]
    intake = audit("call.intake")[0]
    assert intake.actor == cad and intake.actor_role == Role.CAD_INTEGRATION
    assert intake.object_type == "call" and intake.object_id == str(first.call.pk)


def test_same_incident_from_another_source_is_another_call(cad: Any) -> None:
    services.intake_call(cad, CadCall.model_validate(cad_record()))
    services.intake_call(cad, CadCall.model_validate(cad_record(source="fire-cad")))
    assert Call.objects.count() == 2


def test_intake_stores_typed_columns_and_the_protocol_call_type(cad: Any) -> None:
    record = cad_record(
        call_type="  emotionally   disturb PERSON ", location={"address": "1 Main", "latitude": 44.9}
    )
    call = services.intake_call(cad, CadCall.model_validate(record)).call
    call.refresh_from_db()
    assert call.call_type == "Emotionally Disturb Person" and call.apco_code == "EDP"
    assert call.scope == "in_scope" and not call.call_type_needs_review
    assert call.received_at == datetime(2026, 11, 25, 12, 58, tzinfo=CHICAGO)
    assert call.latitude == 44.9 and call.caller_phone == "(612) 555-0142"
    assert len(call.payload_sha256) == 64 and call.created_by == cad


def test_conflicting_repeat_is_kept_and_never_applied(cad: Any) -> None:
    call = services.intake_call(cad, CadCall.model_validate(cad_record())).call
    result = services.intake_call(cad, CadCall.model_validate(cad_record(priority="1", narrative="changed")))
    assert not result.created and result.conflict is not None
    conflict = IntakeConflict.objects.get()
    assert conflict.call_id == call.pk and conflict.payload["priority"] == "1"
    assert conflict.payload["narrative"] == "changed" and conflict.resolved_at is None
    call.refresh_from_db()
    assert call.priority == "3" and call.narrative == ""  # unchanged
    event = audit("call.intake_conflict")[0]
    assert event.outcome == "conflict" and event.details == {"conflict_id": conflict.pk}


def test_unknown_call_type_is_accepted_and_flagged_for_review(cad: Any, telecommunicator: Any) -> None:
    call = services.intake_call(cad, CadCall.model_validate(cad_record(call_type="Goat On Roof"))).call
    assert call.call_type_needs_review and call.call_type == "" and call.call_type_raw == "Goat On Roof"
    decision = screened(telecommunicator, call)
    assert decision.outcome == "not_eligible" and decision.reason_codes == ["call_type_unknown"]


def _body(**changes: Any) -> str:
    record = cad_record()
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return json.dumps(record)


MALFORMED = {
    "bad-json": ('{"source": "mecc-cad", ', ["(body)"]),
    "not-an-object": ("[1, 2, 3]", ["(body)"]),
    "missing-fields": (json.dumps({"source": "mecc-cad"}), ["incident_id", "call_type", "received_at"]),
    "naive-received-at": (_body(received_at="2026-11-25T12:58:00"), ["received_at"]),
    "extra-field": (_body(colour="blue"), ["colour"]),
    "latitude-out-of-range": (_body(location={"address": "x", "latitude": 123.4}), ["location.latitude"]),
    "bad-source": (_body(source="has spaces"), ["source"]),
    "nul-in-narrative": (_body(narrative="a\u0000b"), ["narrative"]),
    "received-at-overflows-utc": (_body(received_at="9999-12-31T23:00:00-06:00"), ["received_at"]),
}


@pytest.mark.parametrize(("body", "fields"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_record_is_rejected_with_field_reasons_and_kept(
    cad: Any, body: str, fields: list[str]
) -> None:
    with pytest.raises(services.Invalid) as caught:
        services.intake_json(cad, body.encode())
    exc = caught.value
    assert exc.status == 422
    assert [e["field"] for e in exc.errors] == fields
    assert all(e["reason"] and e["type"] for e in exc.errors)
    row = RejectedRecord.objects.get(pk=exc.rejected_id)
    assert row.body == body  # kept verbatim
    assert row.errors == exc.errors and row.received_by == cad and row.channel == "POST /api/v1/calls"
    assert Call.objects.count() == 0
    assert actions()[-1] == "call.reject"


def test_rejected_record_keeps_source_and_incident_when_readable(cad: Any) -> None:
    with pytest.raises(services.Invalid) as caught:
        services.intake_json(cad, _body(received_at="yesterday"))
    row = RejectedRecord.objects.get(pk=caught.value.rejected_id)
    assert (row.source, row.incident_id) == ("mecc-cad", "MP-26-000101")


def test_a_nul_byte_in_the_raw_body_is_still_kept(cad: Any) -> None:
    # PostgreSQL cannot store NUL in text: the kept copy replaces it rather than failing with a 500.
    with pytest.raises(services.Invalid) as caught:
        services.intake_json(cad, b'{"source": "a\x00b"')
    assert RejectedRecord.objects.get(pk=caught.value.rejected_id).body == '{"source": "a\ufffdb"'


# --- screening and decision -------------------------------------------------------------------


def test_screening_records_a_decision_with_reasons_and_protocol_version(
    telecommunicator: Any, social_worker: Any, mecc_protocol: Any
) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)
    call = new_call(telecommunicator)
    decision = services.screen_call(telecommunicator, call.pk, {**ALL_CLEAR, "weapon": True}, now=OPEN_AT)
    assert decision.outcome == "dispatch" and decision.reason_codes == ["weapon"]
    assert decision.protocol == mecc_protocol and decision.protocol.version == "2026.11.1"
    assert decision.screening.answers["weapon"] is True and decision.decided_by == telecommunicator
    event = audit("call.screen")[0]
    assert event.details == {
        "decision_id": decision.pk,
        "outcome": "dispatch",
        "reasons": ["weapon"],
        "protocol_version": "2026.11.1",
    }


def test_unanswered_questions_are_stored_as_none_and_never_transfer(
    telecommunicator: Any, social_worker: Any
) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)
    call = new_call(telecommunicator)
    decision = services.screen_call(telecommunicator, call.pk, {"weapon": False}, now=OPEN_AT)
    assert decision.outcome == "dispatch" and decision.reason_codes == ["screening_incomplete"]
    assert decision.screening.answers["violence"] is None


def test_publishing_a_new_version_changes_what_later_decisions_record(
    telecommunicator: Any, administrator: Any, mecc_protocol: Any
) -> None:
    call = new_call(telecommunicator)
    before = screened(telecommunicator, call)
    newer = publish_protocol(administrator, protocol_text(version="2026.12.0"), change_note="test")
    after = screened(telecommunicator, call)
    before.refresh_from_db()
    assert before.protocol == mecc_protocol and after.protocol == newer
    assert after.protocol.version == "2026.12.0" and newer.is_active


def test_unknown_screening_question_is_a_field_error(telecommunicator: Any) -> None:
    call = new_call(telecommunicator)
    with pytest.raises(services.InvalidInput) as caught:
        services.screen_call(telecommunicator, call.pk, {"favourite_colour": True}, now=OPEN_AT)
    assert caught.value.status == 422 and caught.value.errors[0]["field"] == "answers.favourite_colour"
    assert Decision.objects.count() == 0


def test_screening_an_unknown_call_is_not_found(telecommunicator: Any) -> None:
    with pytest.raises(NotFound):
        services.screen_call(telecommunicator, 424242, dict(ALL_CLEAR), now=OPEN_AT)


@pytest.mark.parametrize(
    ("status", "outcome", "reasons"),
    [
        (None, "fallback", ["social_worker_unavailable"]),
        ("away", "fallback", ["social_worker_unavailable"]),
        ("busy", "fallback", ["social_worker_unavailable"]),
        ("available", "transfer", ["eligible"]),
    ],
)
def test_availability_drives_live_decisions(
    telecommunicator: Any, social_worker: Any, status: str | None, outcome: str, reasons: list[str]
) -> None:
    if status:
        services.set_availability(social_worker, status, now=OPEN_AT)
    decision = screened(telecommunicator, new_call(telecommunicator))
    assert decision.outcome == outcome and decision.reason_codes == reasons
    assert decision.social_worker_available is (status == "available")
    if outcome == "fallback":
        assert decision.fallback_options == ["mobile_crisis_team", "988", "callback_when_available"]


def test_set_availability_is_audited_and_validated(social_worker: Any) -> None:
    row = services.set_availability(social_worker, "available", now=OPEN_AT)
    assert (
        row.status == "available" and SocialWorkerStatus.objects.get(user=social_worker).status == "available"
    )
    services.set_availability(social_worker, "away", now=OPEN_AT)
    assert [e.details for e in audit("social_worker.availability")] == [
        {"from": "available", "to": "available"},
        {"from": "available", "to": "away"},
    ]
    with pytest.raises(services.InvalidInput) as caught:
        services.set_availability(social_worker, "asleep", now=OPEN_AT)
    assert caught.value.errors[0]["field"] == "status"


# --- transfers --------------------------------------------------------------------------------


def test_transfer_outside_service_hours_is_refused_with_the_fallback(
    telecommunicator: Any, social_worker: Any
) -> None:
    services.set_availability(social_worker, "available", now=CLOSED_AT)
    call = new_call(telecommunicator)
    decision = screened(telecommunicator, call, at=CLOSED_AT)  # 21:00 CT, after the 20:30 close
    assert decision.outcome == "fallback" and decision.reason_codes == ["outside_service_hours"]
    # Thursday 26 November 2026 is Thanksgiving: the desk opens next on Friday at noon.
    assert decision.next_opening == datetime(2026, 11, 27, 12, 0, tzinfo=CHICAGO)
    with pytest.raises(NotAllowedByDecision) as caught:
        services.request_transfer(telecommunicator, call.pk, now=CLOSED_AT)
    assert caught.value.status == 409
    assert caught.value.details == {
        "outcome": "fallback",
        "reasons": ["outside_service_hours"],
        "fallback_options": ["mobile_crisis_team", "988", "callback_next_shift"],
    }
    assert Transfer.objects.count() == 0


def test_transfer_needs_a_screening_and_an_existing_call(telecommunicator: Any) -> None:
    call = new_call(telecommunicator)
    with pytest.raises(NotAllowedByDecision):
        services.request_transfer(telecommunicator, call.pk, now=OPEN_AT)
    with pytest.raises(NotFound):
        services.request_transfer(telecommunicator, 424242, now=OPEN_AT)


def test_one_live_transfer_per_call(telecommunicator: Any, social_worker: Any) -> None:
    first = requested_transfer(telecommunicator, social_worker)
    again = services.request_transfer(telecommunicator, first.call_id, now=OPEN_AT + timedelta(seconds=5))
    assert again.pk == first.pk and Transfer.objects.count() == 1
    assert first.deadline == OPEN_AT + TIMEOUT
    assert len(audit("transfer.request")) == 1
    # Once it ended, a new screening can lead to a new transfer.
    services.cancel_transfer(telecommunicator, first.pk, "caller hung up", now=OPEN_AT)
    screened(telecommunicator, first.call)
    assert services.request_transfer(telecommunicator, first.call_id, now=OPEN_AT).pk != first.pk


def test_claim_marks_the_social_worker_busy_and_is_audited(telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    claimed = services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT + timedelta(seconds=12))
    assert claimed.status == "claimed" and claimed.claimed_by == social_worker
    assert SocialWorkerStatus.objects.get(user=social_worker).status == "busy"
    event = audit("transfer.claim")[0]
    assert event.outcome == "ok" and event.details == {"seconds_to_claim": 12.0}


def test_a_second_claim_is_an_invalid_transition_and_recorded(
    telecommunicator: Any, social_worker: Any, make_user: Any
) -> None:
    other = make_user(Role.SOCIAL_WORKER, "sw-other")
    transfer = requested_transfer(telecommunicator, social_worker)
    services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT)
    with pytest.raises(InvalidTransition) as caught:
        services.claim_transfer(other, transfer.pk, now=OPEN_AT)
    assert caught.value.status == "claimed"
    transfer.refresh_from_db()
    assert transfer.claimed_by == social_worker
    refused = audit("transfer.claim")[-1]
    assert refused.actor == other and refused.outcome == "refused"


# Every (state, action) pair of the transition table, through the services.
ACTIONS = ("claim", "decline", "cancel", "complete", "escalate")
ALLOWED = {
    ("requested", "claim"): "claimed",
    ("requested", "decline"): "declined",
    ("requested", "cancel"): "cancelled",
    ("claimed", "complete"): "completed",
    ("claimed", "escalate"): "escalated",
}
STATES = ("requested", "claimed", "timed_out", "declined", "cancelled", "escalated", "completed")


def _in_state(state: str, tc: Any, sw: Any) -> Transfer:
    transfer = requested_transfer(tc, sw)
    at = OPEN_AT + timedelta(seconds=1)
    if state in {"claimed", "escalated", "completed"}:
        services.claim_transfer(sw, transfer.pk, now=at)
    steps = {
        "timed_out": lambda: services.expire_transfers(now=OPEN_AT + TIMEOUT),
        "declined": lambda: services.decline_transfer(sw, transfer.pk, now=at),
        "cancelled": lambda: services.cancel_transfer(tc, transfer.pk, now=at),
        "escalated": lambda: services.escalate_transfer(sw, transfer.pk, "police", "weapon seen", now=at),
        "completed": lambda: services.complete_transfer(sw, transfer.pk, now=at),
    }
    if state in steps:
        steps[state]()
    transfer.refresh_from_db()
    assert transfer.status == state
    return transfer


def _do(action: str, transfer: Transfer, tc: Any, sw: Any) -> Any:
    at = OPEN_AT + timedelta(seconds=2)
    return {
        "claim": lambda: services.claim_transfer(sw, transfer.pk, now=at),
        "decline": lambda: services.decline_transfer(sw, transfer.pk, "on another call", now=at),
        "cancel": lambda: services.cancel_transfer(tc, transfer.pk, "caller hung up", now=at),
        "complete": lambda: services.complete_transfer(sw, transfer.pk, now=at),
        "escalate": lambda: services.escalate_transfer(sw, transfer.pk, "ems", "took pills", now=at),
    }[action]()


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_transition_table(telecommunicator: Any, social_worker: Any, state: str, action: str) -> None:
    transfer = _in_state(state, telecommunicator, social_worker)
    expected = ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(InvalidTransition) as caught:
            _do(action, transfer, telecommunicator, social_worker)
        assert caught.value.status == state and caught.value.action == action
        transfer.refresh_from_db()
        assert transfer.status == state
    else:
        _do(action, transfer, telecommunicator, social_worker)
        transfer.refresh_from_db()
        assert transfer.status == expected
        assert audit(f"transfer.{action}")[-1].details.get("from", "requested") == state


def test_decline_alerts_the_telecommunicator(telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    declined = services.decline_transfer(social_worker, transfer.pk, "on another call", now=OPEN_AT)
    assert declined.status == "declined" and declined.end_reason == "on another call"
    assert declined.ended_by == social_worker and declined.alert_acknowledged_at is None
    assert audit("transfer.decline")[0].details == {"from": "requested", "reason": "on another call"}


def test_end_reason_longer_than_the_column_is_a_field_error(
    telecommunicator: Any, social_worker: Any
) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    with pytest.raises(services.InvalidInput) as caught:
        services.decline_transfer(social_worker, transfer.pk, "x" * 256, now=OPEN_AT)
    assert caught.value.errors[0]["field"] == "reason"


def test_complete_frees_the_social_worker_and_only_the_claimer_may(
    telecommunicator: Any, social_worker: Any, make_user: Any
) -> None:
    other = make_user(Role.SOCIAL_WORKER, "sw-other")
    transfer = requested_transfer(telecommunicator, social_worker)
    services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT)
    with pytest.raises(Forbidden):
        services.complete_transfer(other, transfer.pk, now=OPEN_AT)
    with pytest.raises(Forbidden):
        services.escalate_transfer(other, transfer.pk, "police", "threats", now=OPEN_AT)
    done = services.complete_transfer(social_worker, transfer.pk, "resolved by phone", now=OPEN_AT)
    assert done.status == "completed"
    assert SocialWorkerStatus.objects.get(user=social_worker).status == "available"


def test_escalation_back_to_911(telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT)
    escalation = services.escalate_transfer(
        social_worker, transfer.pk, "ems", "took a handful of pills", now=OPEN_AT
    )
    assert Escalation.objects.get() == escalation and escalation.responder == "ems"
    transfer.refresh_from_db()
    assert transfer.status == "escalated" and transfer.end_reason == "took a handful of pills"
    assert actions()[-2:] == ["transfer.escalate", "escalation.create"]


@pytest.mark.parametrize(
    ("responder", "reason", "field"), [("swat", "x", "responder"), ("police", "  ", "reason")]
)
def test_escalation_input_is_validated(
    telecommunicator: Any, social_worker: Any, responder: str, reason: str, field: str
) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT)
    with pytest.raises(services.InvalidInput) as caught:
        services.escalate_transfer(social_worker, transfer.pk, responder, reason, now=OPEN_AT)
    assert caught.value.errors[0]["field"] == field
    assert Escalation.objects.count() == 0


# --- timeouts and alerts ----------------------------------------------------------------------


def test_expire_transfers_times_out_only_past_the_deadline(telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    assert services.expire_transfers(now=OPEN_AT + TIMEOUT - timedelta(seconds=1)) == []
    assert services.expire_transfers(now=OPEN_AT + TIMEOUT) == [transfer.pk]
    assert services.expire_transfers(now=OPEN_AT + TIMEOUT) == []  # recorded once
    transfer.refresh_from_db()
    assert transfer.status == "timed_out" and transfer.ended_at == OPEN_AT + TIMEOUT
    assert transfer.end_reason == "not claimed before the deadline"
    [event] = audit("transfer.timeout")
    assert event.actor is None and event.details["from"] == "requested"


def test_timeout_follows_the_protocol_setting(
    telecommunicator: Any, social_worker: Any, administrator: Any
) -> None:
    publish_protocol(administrator, protocol_text(version="short", timeout=20))
    transfer = requested_transfer(telecommunicator, social_worker)
    assert transfer.deadline == OPEN_AT + timedelta(seconds=20)
    assert services.expire_transfers(now=OPEN_AT + timedelta(seconds=20)) == [transfer.pk]


def test_a_late_claim_is_refused_and_times_the_transfer_out(
    telecommunicator: Any, social_worker: Any
) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    with pytest.raises(InvalidTransition) as caught:
        services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT + TIMEOUT + timedelta(seconds=1))
    assert caught.value.status == "timed_out"
    transfer.refresh_from_db()
    assert transfer.status == "timed_out" and transfer.claimed_by is None
    assert actions()[-2:] == ["transfer.timeout", "transfer.claim"]
    assert audit("transfer.claim")[-1].outcome == "refused"


def test_acknowledge_alert(telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    with pytest.raises(Conflict):
        services.acknowledge_alert(telecommunicator, transfer.pk, now=OPEN_AT)  # nothing to acknowledge
    services.expire_transfers(now=OPEN_AT + TIMEOUT)
    seen_at = OPEN_AT + TIMEOUT + timedelta(seconds=3)
    assert (
        services.acknowledge_alert(telecommunicator, transfer.pk, now=seen_at).alert_acknowledged_at
        == seen_at
    )
    services.acknowledge_alert(telecommunicator, transfer.pk, now=seen_at + timedelta(seconds=9))
    transfer.refresh_from_db()
    assert transfer.alert_acknowledged_at == seen_at  # the first acknowledgement counts
    assert len(audit("transfer.acknowledge_alert")) == 1
    with pytest.raises(Forbidden):
        services.acknowledge_alert(social_worker, transfer.pk, now=seen_at)


# --- fallback ---------------------------------------------------------------------------------


def test_callback_fallback_requires_a_number(telecommunicator: Any) -> None:
    call = new_call(telecommunicator)
    screened(telecommunicator, call, at=CLOSED_AT)
    with pytest.raises(services.InvalidInput) as caught:
        services.take_fallback(telecommunicator, call.pk, "callback_next_shift", now=CLOSED_AT)
    assert caught.value.errors[0]["field"] == "callback_number"
    route = services.take_fallback(
        telecommunicator, call.pk, "callback_next_shift", callback_number=" 612-555-0142 ", now=CLOSED_AT
    )
    assert FallbackRoute.objects.get() == route and route.callback_number == "612-555-0142"
    assert route.decision == Decision.objects.get()
    assert audit("call.fallback")[0].details == {"option": "callback_next_shift", "transfer_id": None}


def test_unknown_fallback_option_is_a_field_error(telecommunicator: Any) -> None:
    call = new_call(telecommunicator)
    with pytest.raises(services.InvalidInput) as caught:
        services.take_fallback(telecommunicator, call.pk, "carrier_pigeon", now=OPEN_AT)
    assert caught.value.errors[0]["field"] == "option"


def test_fallback_after_a_timeout_acknowledges_the_alert(telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_transfer(telecommunicator, social_worker)
    services.expire_transfers(now=OPEN_AT + TIMEOUT)
    at = OPEN_AT + TIMEOUT + timedelta(seconds=4)
    route = services.take_fallback(telecommunicator, transfer.call_id, "988", transfer_id=transfer.pk, now=at)
    transfer.refresh_from_db()
    assert route.transfer == transfer and transfer.alert_acknowledged_at == at
    other_call = new_call(telecommunicator, "MP-26-000999")
    with pytest.raises(services.InvalidInput) as caught:
        services.take_fallback(telecommunicator, other_call.pk, "988", transfer_id=transfer.pk, now=at)
    assert caught.value.errors[0]["field"] == "transfer_id"


# --- roles ------------------------------------------------------------------------------------


def test_role_checks(
    telecommunicator: Any, social_worker: Any, evaluator: Any, cad: Any, supervisor: Any
) -> None:
    record = CadCall.model_validate(cad_record())
    with pytest.raises(Forbidden):
        services.intake_call(social_worker, record)
    with pytest.raises(Forbidden):
        services.intake_json(evaluator, json.dumps(cad_record()))
    call = services.intake_call(cad, record).call
    for actor in (social_worker, cad, evaluator):
        with pytest.raises(Forbidden):
            services.screen_call(actor, call.pk, dict(ALL_CLEAR), now=OPEN_AT)
    with pytest.raises(Forbidden):
        services.set_availability(telecommunicator, "available", now=OPEN_AT)
    transfer = requested_transfer(supervisor, social_worker, "MP-26-000555")  # supervisors may act
    for actor in (telecommunicator, supervisor, cad):
        with pytest.raises(Forbidden):
            services.claim_transfer(actor, transfer.pk, now=OPEN_AT)
    with pytest.raises(Forbidden):
        services.cancel_transfer(social_worker, transfer.pk, now=OPEN_AT)
    with pytest.raises(Forbidden):
        services.request_transfer(social_worker, transfer.call_id, now=OPEN_AT)
    assert Call.objects.count() == 2 and Transfer.objects.get().status == "requested"


def test_every_use_case_writes_its_audit_row(telecommunicator: Any, social_worker: Any, cad: Any) -> None:
    services.set_availability(social_worker, "available", now=OPEN_AT)
    call = services.intake_call(cad, CadCall.model_validate(cad_record())).call
    services.screen_call(telecommunicator, call.pk, dict(ALL_CLEAR), now=OPEN_AT)
    transfer = services.request_transfer(telecommunicator, call.pk, now=OPEN_AT)
    services.claim_transfer(social_worker, transfer.pk, now=OPEN_AT)
    services.complete_transfer(social_worker, transfer.pk, now=OPEN_AT)
    assert actions() == [
        "protocol.publish",
        "social_worker.availability",
        "call.intake",
        "call.screen",
        "transfer.request",
        "transfer.claim",
        "case.open",  # claiming opens the case in the same transaction
        "transfer.complete",
        "social_worker.availability",
    ]
    assert AuditEvent.objects.filter(outcome="ok").count() == 9
