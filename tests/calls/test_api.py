"""The calls API through Django's test client against the real URLs (/api/v1/...).

These run on the real clock, so the protocol is published open around the clock (`open_protocol`):
a decision depends only on the answers and on who is available.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from crisisdesk.accounts.services import issue_api_token
from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls import services
from crisisdesk.calls.models import Call, Decision, FallbackRoute, IntakeConflict, RejectedRecord, Transfer
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.domain.roles import Role
from tests.calls.builders import ALL_CLEAR, cad_record, new_call
from tests.conftest import protocol_text, sign_in

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
JSON = "application/json"


@pytest.fixture
def open_protocol(db: Any) -> Any:
    return publish_protocol(None, protocol_text(always_open=True), system=True)


def logged_in(user: Any, **kw: Any) -> Client:
    client = Client(**kw)
    sign_in(client, user)
    return client


@pytest.fixture
def tc(telecommunicator: Any) -> Client:
    return logged_in(telecommunicator)


@pytest.fixture
def sw(social_worker: Any) -> Client:
    return logged_in(social_worker)


@pytest.fixture
def cad_token(cad: Any) -> str:
    return issue_api_token(cad, "MECC CAD")[1]


@pytest.fixture
def cad_client(cad_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {cad_token}"})


def post(client: Client, url: str, data: Any = None, **kw: Any) -> Any:
    body = "" if data is None else data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(url, data=body, content_type=JSON, **kw)


def put(client: Client, url: str, data: Any) -> Any:
    return client.put(url, data=json.dumps(data), content_type=JSON)


def fields(response: Any) -> list[str]:
    body = response.json()
    assert body["code"] == "invalid" and isinstance(body["detail"], list), body
    assert all(e["reason"] and e["type"] for e in body["detail"])
    return [e["field"] for e in body["detail"]]


def available(sw_client: Client) -> None:
    assert (
        put(sw_client, "/api/v1/social-workers/me/availability", {"status": "available"}).status_code == 200
    )


def intake(client: Client, **record: Any) -> int:
    response = post(client, "/api/v1/calls", cad_record(**record))
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def transfer_for(tc: Client, sw: Client, incident: str = "MP-26-000101") -> dict[str, Any]:
    """Intake, screen all clear with the social worker available, request the transfer."""
    available(sw)
    call_id = intake(tc, incident_id=incident)
    assert post(tc, f"/api/v1/calls/{call_id}/screening", {"answers": ALL_CLEAR}).status_code == 201
    response = post(tc, f"/api/v1/calls/{call_id}/transfers")
    assert response.status_code == 201, response.content
    return dict(response.json())


# --- authentication ---------------------------------------------------------------------------


ENDPOINTS = [
    ("post", "/api/v1/calls"),
    ("post", "/api/v1/eido"),
    ("get", "/api/v1/calls/1"),
    ("post", "/api/v1/calls/1/screening"),
    ("post", "/api/v1/calls/1/transfers"),
    ("post", "/api/v1/calls/1/fallback"),
    ("get", "/api/v1/transfers"),
    ("get", "/api/v1/transfers/1"),
    ("post", "/api/v1/transfers/1/claim"),
    ("post", "/api/v1/transfers/1/decline"),
    ("post", "/api/v1/transfers/1/cancel"),
    ("post", "/api/v1/transfers/1/complete"),
    ("post", "/api/v1/transfers/1/acknowledge-alert"),
    ("post", "/api/v1/transfers/1/escalation"),
    ("put", "/api/v1/social-workers/me/availability"),
    ("get", "/api/v1/protocol"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_endpoint_needs_authentication(method: str, url: str) -> None:
    client = Client()
    response = (
        client.get(url) if method == "get" else getattr(client, method)(url, data="{}", content_type=JSON)
    )
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "detail": "Unauthorized"}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_wrong_or_revoked_token_is_refused(open_protocol: Any, cad: Any) -> None:
    from crisisdesk.accounts.services import revoke_api_token

    token, raw = issue_api_token(cad, "CAD")
    good = Client(headers={"Authorization": f"Bearer {raw}"})
    assert post(good, "/api/v1/calls", cad_record()).status_code == 201
    wrong = Client(headers={"Authorization": f"Bearer {raw}x"})
    assert post(wrong, "/api/v1/calls", cad_record()).status_code == 401
    revoke_api_token(token.pk)
    assert post(good, "/api/v1/calls", cad_record()).status_code == 401


@pytest.mark.django_db
def test_integration_accounts_do_not_use_sessions(open_protocol: Any, cad: Any) -> None:
    assert post(logged_in(cad), "/api/v1/calls", cad_record()).status_code == 401


@pytest.mark.django_db
def test_session_post_needs_the_csrf_token(open_protocol: Any, telecommunicator: Any) -> None:
    client = logged_in(telecommunicator, enforce_csrf_checks=True)
    refused = post(client, "/api/v1/calls", cad_record())
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert Call.objects.count() == 0
    secret = get_random_string(32)  # what Django keeps in the csrftoken cookie
    client.cookies["csrftoken"] = secret
    accepted = post(client, "/api/v1/calls", cad_record(), headers={"X-CSRFToken": secret})
    assert accepted.status_code == 201 and Call.objects.count() == 1


@pytest.mark.django_db
def test_token_requests_need_no_csrf_token(open_protocol: Any, cad_token: str) -> None:
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {cad_token}"})
    assert post(client, "/api/v1/calls", cad_record()).status_code == 201


# --- intake -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_intake_is_idempotent(open_protocol: Any, cad_client: Client, cad: Any) -> None:
    first = post(cad_client, "/api/v1/calls", cad_record())
    assert first.status_code == 201
    body = first.json()
    assert body["duplicate"] is False and body["call_type"] == "Emotionally Disturb Person"
    assert body["incident_id"] == "MP-26-000101" and not body["call_type_needs_review"]
    again = post(cad_client, "/api/v1/calls", cad_record())
    assert again.status_code == 200 and again.json() == {**body, "duplicate": True}
    assert Call.objects.count() == 1 and Call.objects.get().created_by == cad


@pytest.mark.django_db
def test_conflicting_repeat_is_a_409_and_kept(open_protocol: Any, cad_client: Client) -> None:
    call_id = post(cad_client, "/api/v1/calls", cad_record()).json()["id"]
    response = post(cad_client, "/api/v1/calls", cad_record(priority="1"))
    assert response.status_code == 409
    conflict = IntakeConflict.objects.get()
    assert response.json() == {
        "code": "intake_conflict",
        "detail": response.json()["detail"],
        "call_id": call_id,
        "conflict_id": conflict.pk,
    }
    assert conflict.payload["priority"] == "1" and Call.objects.get().priority == "3"


def _without(key: str) -> str:
    record = cad_record()
    record.pop(key)
    return json.dumps(record)


MALFORMED = {
    "bad-json": ("{not json", ["(body)"]),
    "empty-body": ("", ["(body)"]),
    "missing-fields": (_without("received_at"), ["received_at"]),
    "naive-received-at": (json.dumps(cad_record(received_at="2026-11-25T12:58:00")), ["received_at"]),
    "extra-field": (json.dumps(cad_record(colour="blue")), ["colour"]),
    "latitude-out-of-range": (json.dumps(cad_record(location={"latitude": -91})), ["location.latitude"]),
    "wrong-types": (json.dumps(cad_record(incident_id=5, priority=None)), ["incident_id", "priority"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "expected"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_record_is_a_422_and_kept(
    open_protocol: Any, cad_client: Client, body: str, expected: list[str]
) -> None:
    response = post(cad_client, "/api/v1/calls", body)
    assert response.status_code == 422
    assert fields(response) == expected
    row = RejectedRecord.objects.get(pk=response.json()["rejected_id"])
    assert row.body == body and row.errors == response.json()["detail"]
    assert Call.objects.count() == 0
    assert AuditEvent.objects.filter(action="call.reject", object_id=str(row.pk)).exists()


@pytest.mark.django_db
def test_unknown_call_type_is_accepted_and_flagged(open_protocol: Any, cad_client: Client) -> None:
    response = post(cad_client, "/api/v1/calls", cad_record(call_type="Goat On Roof"))
    assert response.status_code == 201
    assert response.json()["call_type_needs_review"] is True and response.json()["call_type"] == ""


@pytest.mark.django_db
def test_no_active_protocol_is_a_503(cad_client: Client) -> None:
    response = post(cad_client, "/api/v1/calls", cad_record())
    assert response.status_code == 503 and response.json()["code"] == "no_active_protocol"
    assert RejectedRecord.objects.count() == 0  # a valid record is not "rejected": the CAD retries


@pytest.mark.django_db
def test_social_worker_cannot_intake_or_screen(open_protocol: Any, sw: Client, tc: Client) -> None:
    response = post(sw, "/api/v1/calls", cad_record())
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    call_id = intake(tc)
    assert post(sw, f"/api/v1/calls/{call_id}/screening", {"answers": ALL_CLEAR}).status_code == 403
    assert Decision.objects.count() == 0


# --- reading a call ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_call_with_decisions_and_transfers(
    open_protocol: Any, tc: Client, sw: Client, evaluator: Any
) -> None:
    transfer = transfer_for(tc, sw)
    call_id = transfer["call"]["id"]
    body = tc.get(f"/api/v1/calls/{call_id}").json()
    assert body["incident_id"] == "MP-26-000101" and body["apco_code"] == "EDP"
    assert [d["outcome"] for d in body["decisions"]] == ["transfer"]
    assert body["decisions"][0]["protocol_version"] == "2026.11.1"
    assert [t["id"] for t in body["transfers"]] == [transfer["id"]]
    assert sw.get(f"/api/v1/calls/{call_id}").status_code == 200
    # Not visible to the role: 404, as if it did not exist.
    hidden = logged_in(evaluator).get(f"/api/v1/calls/{call_id}")
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    assert tc.get("/api/v1/calls/424242").status_code == 404


@pytest.mark.django_db
def test_get_call_query_count_does_not_grow_with_decisions(
    open_protocol: Any, tc: Client, telecommunicator: Any, django_assert_max_num_queries: Any
) -> None:
    call = new_call(telecommunicator)
    for _ in range(5):
        services.screen_call(telecommunicator, call.pk, dict(ALL_CLEAR))
    # 2 of them: the sign-in checks (device, session record); 5: the audited read, one chained
    # append whatever the number of rows (savepoint, chain-head lock, insert, head update, release).
    with django_assert_max_num_queries(15):
        assert len(tc.get(f"/api/v1/calls/{call.pk}").json()["decisions"]) == 5


# --- screening --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_screening_returns_the_decision(open_protocol: Any, tc: Client, sw: Client) -> None:
    call_id = intake(tc)
    response = post(tc, f"/api/v1/calls/{call_id}/screening", {"answers": ALL_CLEAR})
    assert response.status_code == 201
    body = response.json()
    # Nobody is available: the fallback, with its options and reasons.
    assert body["outcome"] == "fallback" and body["reasons"] == ["social_worker_unavailable"]
    assert body["fallback_options"] == ["mobile_crisis_team", "988", "callback_when_available"]
    assert body["protocol_version"] == "2026.11.1" and body["next_opening"] is None
    assert Decision.objects.get(pk=body["id"]).protocol == open_protocol
    available(sw)
    body = post(tc, f"/api/v1/calls/{call_id}/screening", {"answers": {**ALL_CLEAR, "violence": True}}).json()
    assert body["outcome"] == "dispatch" and body["reasons"] == ["violence"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"answers": {"weapon": "maybe"}}, ["answers.weapon"]),
        ({"answers": {"not_a_question": True}}, ["answers.not_a_question"]),
        ({}, ["answers"]),
        ({"answers": ALL_CLEAR, "extra": 1}, ["extra"]),
        ("{oops", ["(body)"]),
        ([1, 2], ["(body)"]),
    ],
)
def test_screening_validation_is_field_level(
    open_protocol: Any, tc: Client, payload: Any, expected: list[str]
) -> None:
    call_id = intake(tc)
    response = post(tc, f"/api/v1/calls/{call_id}/screening", payload)
    assert response.status_code == 422
    assert fields(response) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("call_id", ["abc", "0", "-3", str(2**70)])
def test_bad_ids_are_422_or_404_never_500(open_protocol: Any, tc: Client, call_id: str) -> None:
    response = post(tc, f"/api/v1/calls/{call_id}/screening", {"answers": ALL_CLEAR})
    assert response.status_code in {404, 422}
    assert tc.get(f"/api/v1/transfers/{call_id}").status_code in {404, 422}


# --- transfers --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_transfer_refused_when_the_decision_is_not_transfer(open_protocol: Any, tc: Client) -> None:
    call_id = intake(tc)
    post(tc, f"/api/v1/calls/{call_id}/screening", {"answers": ALL_CLEAR})  # nobody available
    response = post(tc, f"/api/v1/calls/{call_id}/transfers")
    assert response.status_code == 409
    assert response.json() == {
        "code": "decision_does_not_allow_transfer",
        "detail": "the decision for this call is fallback, not transfer",
        "outcome": "fallback",
        "reasons": ["social_worker_unavailable"],
        "fallback_options": ["mobile_crisis_team", "988", "callback_when_available"],
    }
    unscreened = intake(tc, incident_id="MP-26-000102")
    assert post(tc, f"/api/v1/calls/{unscreened}/transfers").status_code == 409
    assert Transfer.objects.count() == 0


@pytest.mark.django_db
def test_transfer_request_is_idempotent_while_live(open_protocol: Any, tc: Client, sw: Client) -> None:
    transfer = transfer_for(tc, sw)
    assert transfer["status"] == "requested" and transfer["alert"] is False
    again = post(tc, f"/api/v1/calls/{transfer['call']['id']}/transfers")
    assert again.status_code == 200 and again.json()["id"] == transfer["id"]
    assert Transfer.objects.count() == 1


@pytest.mark.django_db
def test_queue_claim_and_complete(open_protocol: Any, tc: Client, sw: Client, social_worker: Any) -> None:
    transfer = transfer_for(tc, sw)
    queue = sw.get("/api/v1/transfers").json()
    assert [t["id"] for t in queue] == [transfer["id"]]
    assert queue[0]["call"]["incident_id"] == "MP-26-000101"
    assert tc.get("/api/v1/transfers").status_code == 404  # the queue is not the console's
    claimed = post(sw, f"/api/v1/transfers/{transfer['id']}/claim")
    assert claimed.status_code == 200
    assert claimed.json()["status"] == "claimed" and claimed.json()["claimed_by_id"] == social_worker.pk
    assert sw.get("/api/v1/transfers").json() == []
    done = post(sw, f"/api/v1/transfers/{transfer['id']}/complete", {"reason": "resolved"})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert done.json()["end_reason"] == "resolved"


@pytest.mark.django_db
def test_second_claim_is_a_409(open_protocol: Any, tc: Client, sw: Client, make_user: Any) -> None:
    transfer = transfer_for(tc, sw)
    assert post(sw, f"/api/v1/transfers/{transfer['id']}/claim").status_code == 200
    other = logged_in(make_user(Role.SOCIAL_WORKER, "sw-other"))
    response = post(other, f"/api/v1/transfers/{transfer['id']}/claim")
    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid_transition",
        "detail": "cannot claim a transfer that is claimed",
        "status": "claimed",
        "action": "claim",
    }


@pytest.mark.django_db
def test_telecommunicator_cannot_claim(open_protocol: Any, tc: Client, sw: Client) -> None:
    transfer = transfer_for(tc, sw)
    response = post(tc, f"/api/v1/transfers/{transfer['id']}/claim")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert Transfer.objects.get().status == "requested"


@pytest.mark.django_db
def test_invalid_transitions_are_409(open_protocol: Any, tc: Client, sw: Client) -> None:
    transfer = transfer_for(tc, sw)
    tid = transfer["id"]
    assert post(sw, f"/api/v1/transfers/{tid}/complete").status_code == 409  # not claimed yet
    assert (
        post(sw, f"/api/v1/transfers/{tid}/escalation", {"responder": "ems", "reason": "x"}).status_code
        == 409
    )
    assert post(tc, f"/api/v1/transfers/{tid}/cancel", {"reason": "caller hung up"}).status_code == 200
    for action in ("claim", "decline", "cancel"):
        response = post(sw if action != "cancel" else tc, f"/api/v1/transfers/{tid}/{action}")
        assert response.status_code == 409 and response.json()["status"] == "cancelled"


@pytest.mark.django_db
def test_decline_alerts_and_offers_the_fallback(open_protocol: Any, tc: Client, sw: Client) -> None:
    transfer = transfer_for(tc, sw)
    response = post(sw, f"/api/v1/transfers/{transfer['id']}/decline", {"reason": "on another call"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "declined" and body["alert"] is True
    assert body["fallback_options"] == ["mobile_crisis_team", "988", "callback_when_available"]
    seen = post(tc, f"/api/v1/transfers/{transfer['id']}/acknowledge-alert")
    assert seen.status_code == 200 and seen.json()["alert"] is False
    assert seen.json()["alert_acknowledged_at"] is not None


@pytest.mark.django_db
def test_acknowledging_without_an_alert_is_a_409(open_protocol: Any, tc: Client, sw: Client) -> None:
    transfer = transfer_for(tc, sw)
    response = post(tc, f"/api/v1/transfers/{transfer['id']}/acknowledge-alert")
    assert response.status_code == 409 and response.json()["code"] == "conflict"


@pytest.mark.django_db
def test_a_poll_sees_the_timeout_and_a_late_claim_is_refused(
    open_protocol: Any, tc: Client, sw: Client, telecommunicator: Any, social_worker: Any
) -> None:
    long_ago = timezone.now() - timedelta(seconds=200)  # the protocol's timeout is 90 s
    services.set_availability(social_worker, "available", now=long_ago)
    call = new_call(telecommunicator)
    services.screen_call(telecommunicator, call.pk, dict(ALL_CLEAR), now=long_ago)
    transfer = services.request_transfer(telecommunicator, call.pk, now=long_ago)
    body = tc.get(f"/api/v1/transfers/{transfer.pk}").json()
    assert body["status"] == "timed_out" and body["alert"] is True
    assert body["fallback_options"] == ["mobile_crisis_team", "988", "callback_when_available"]
    late = post(sw, f"/api/v1/transfers/{transfer.pk}/claim")
    assert late.status_code == 409 and late.json()["status"] == "timed_out"


@pytest.mark.django_db
def test_a_late_claim_times_the_transfer_out(
    open_protocol: Any, sw: Client, telecommunicator: Any, social_worker: Any
) -> None:
    long_ago = timezone.now() - timedelta(seconds=200)
    services.set_availability(social_worker, "available", now=long_ago)
    call = new_call(telecommunicator)
    services.screen_call(telecommunicator, call.pk, dict(ALL_CLEAR), now=long_ago)
    transfer = services.request_transfer(telecommunicator, call.pk, now=long_ago)
    late = post(sw, f"/api/v1/transfers/{transfer.pk}/claim")  # nobody polled before this
    assert late.status_code == 409 and late.json()["status"] == "timed_out"
    transfer.refresh_from_db()
    assert transfer.status == "timed_out"


@pytest.mark.django_db
def test_escalation(open_protocol: Any, tc: Client, sw: Client) -> None:
    transfer = transfer_for(tc, sw)
    post(sw, f"/api/v1/transfers/{transfer['id']}/claim")
    bad = post(sw, f"/api/v1/transfers/{transfer['id']}/escalation", {"responder": "swat", "reason": "x"})
    assert bad.status_code == 422 and fields(bad) == ["responder"]
    empty = post(sw, f"/api/v1/transfers/{transfer['id']}/escalation", {"responder": "ems", "reason": ""})
    assert empty.status_code == 422 and fields(empty) == ["reason"]
    response = post(
        sw, f"/api/v1/transfers/{transfer['id']}/escalation", {"responder": "ems", "reason": "took pills"}
    )
    assert response.status_code == 201
    assert response.json()["responder"] == "ems" and response.json()["transfer_status"] == "escalated"


# --- fallback, availability, protocol ---------------------------------------------------------


@pytest.mark.django_db
def test_fallback(open_protocol: Any, tc: Client) -> None:
    call_id = intake(tc)
    post(tc, f"/api/v1/calls/{call_id}/screening", {"answers": ALL_CLEAR})
    missing = post(tc, f"/api/v1/calls/{call_id}/fallback", {"option": "callback_when_available"})
    assert missing.status_code == 422 and fields(missing) == ["callback_number"]
    unknown = post(tc, f"/api/v1/calls/{call_id}/fallback", {"option": "carrier_pigeon"})
    assert unknown.status_code == 422 and fields(unknown) == ["option"]
    too_long = post(tc, f"/api/v1/calls/{call_id}/fallback", {"option": "988", "callback_number": "1" * 33})
    assert too_long.status_code == 422 and fields(too_long) == ["callback_number"]
    response = post(
        tc,
        f"/api/v1/calls/{call_id}/fallback",
        {"option": "callback_when_available", "callback_number": "612-555-0142", "note": "evening"},
    )
    assert response.status_code == 201
    assert response.json()["option"] == "callback_when_available"
    assert FallbackRoute.objects.get().callback_number == "612-555-0142"


@pytest.mark.django_db
def test_availability(open_protocol: Any, sw: Client, tc: Client) -> None:
    response = put(sw, "/api/v1/social-workers/me/availability", {"status": "busy"})
    assert response.status_code == 200 and response.json()["status"] == "busy"
    bad = put(sw, "/api/v1/social-workers/me/availability", {"status": "asleep"})
    assert bad.status_code == 422 and fields(bad) == ["status"]
    assert put(tc, "/api/v1/social-workers/me/availability", {"status": "available"}).status_code == 403


@pytest.mark.django_db
def test_protocol(open_protocol: Any, tc: Client, cad_client: Client) -> None:
    body = tc.get("/api/v1/protocol").json()
    assert body["center"] == "MECC" and body["version"] == "2026.11.1"
    assert body["transfer_timeout_seconds"] == 90 and body["call_types_count"] > 100
    assert body["questions"][0]["id"] == "weapon" and body["questions"][-1]["kind"] == "consent"
    assert {o["id"] for o in body["fallback_options"]} >= {"988", "mobile_crisis_team"}
    assert body["fallbacks"]["caller_declined"] == ["mobile_crisis_team", "988"]
    assert cad_client.get("/api/v1/protocol").status_code == 200


@pytest.mark.django_db
def test_protocol_without_a_published_version_is_a_503(tc: Client) -> None:
    response = tc.get("/api/v1/protocol")
    assert response.status_code == 503 and response.json()["code"] == "no_active_protocol"


# --- never a 500 for bad input ----------------------------------------------------------------


ODD_BODIES = [
    "",
    "null",
    "[]",
    '"text"',
    "{",
    '{"a": "\\u0000"}',
    "[" * 5000,
    '{"answers": {"weapon": 1e999}}',
]


@pytest.mark.django_db
@pytest.mark.parametrize("body", ODD_BODIES, ids=range(len(ODD_BODIES)))
def test_odd_bodies_never_cause_a_500(open_protocol: Any, tc: Client, sw: Client, body: str) -> None:
    transfer = transfer_for(tc, sw)
    call_id, tid = transfer["call"]["id"], transfer["id"]
    for client, method, url in [
        (tc, "post", "/api/v1/calls"),
        (tc, "post", f"/api/v1/calls/{call_id}/screening"),
        (tc, "post", f"/api/v1/calls/{call_id}/fallback"),
        (sw, "post", f"/api/v1/transfers/{tid}/decline"),
        (sw, "post", f"/api/v1/transfers/{tid}/escalation"),
        (sw, "put", "/api/v1/social-workers/me/availability"),
    ]:
        response = getattr(client, method)(url, data=body, content_type=JSON)
        # No body (or null) is a valid "no reason given" for a decline; everything else is refused.
        no_body = body in {"", "null"}
        expected = 200 if no_body and url == f"/api/v1/transfers/{tid}/decline" else 422
        assert response.status_code == expected, (url, response.status_code, response.content[:300])
        assert response["Content-Type"].startswith(JSON)
        if expected == 422:
            assert response.json()["code"] == "invalid" and response.json()["detail"][0]["field"]


@pytest.mark.django_db
def test_nul_characters_in_text_are_a_422(open_protocol: Any, tc: Client, sw: Client) -> None:
    transfer = transfer_for(tc, sw)
    response = post(sw, f"/api/v1/transfers/{transfer['id']}/decline", {"reason": "a\u0000b"})
    assert response.status_code == 422 and fields(response) == ["reason"]
    record = post(tc, "/api/v1/calls", cad_record(incident_id="MP-26-000777", narrative="x\u0000"))
    assert record.status_code == 422 and fields(record) == ["narrative"]


# --- OpenAPI and the documentation ------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_schema_is_served_and_documents_intake() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    intake_op = schema["paths"]["/api/v1/calls"]["post"]
    body = intake_op["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"source", "incident_id", "call_type", "received_at"}
    assert body["properties"]["location"]["anyOf"][0]["properties"]["latitude"]
    assert {"201", "200", "409", "422"} <= set(intake_op["responses"])
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "PersonSessionAuth"}
    assert Client().get("/api/v1/docs").status_code == 200


def _documented() -> set[tuple[str, str]]:
    text = DOCS.read_text(encoding="utf-8")
    return {(m, p) for m, p in re.findall(r"\b(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^\s`?]*)", text)}


@pytest.mark.django_db
def test_docs_and_schema_list_the_same_endpoints() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    served = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    documented = _documented() - {("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/docs")}
    assert documented, "docs/api.md names no endpoint"
    assert documented - served == set(), "documented in docs/api.md but not served"
    assert served - documented == set(), "served but not documented in docs/api.md"
