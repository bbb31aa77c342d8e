"""The htmx pages through Django's test client: roles, the console flow, the queue, the floor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from crisisdesk.calls import services
from crisisdesk.calls.models import Call, Escalation, FallbackRoute, SocialWorkerStatus, Transfer
from crisisdesk.calls.protocols import publish_protocol
from tests.calls.builders import ALL_CLEAR, new_call
from tests.conftest import protocol_text, sign_in

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def open_protocol(db: Any) -> Any:
    """The MECC protocol open around the clock, so these tests pass at any hour."""
    return publish_protocol(None, protocol_text(version="2026.11.0-test-open", always_open=True), system=True)


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def requested_now(tc: Any, sw: Any, incident: str = "MP-26-000101", ago: int = 0) -> Transfer:
    """A transfer requested `ago` seconds ago with `sw` available (decided with the always-open protocol)."""
    at = timezone.now() - timedelta(seconds=ago)
    services.set_availability(sw, "available", now=at)
    call = new_call(tc, incident)
    services.screen_call(tc, call.pk, dict(ALL_CLEAR), now=at)
    return services.request_transfer(tc, call.pk, now=at)


def screen_form(**answers: str) -> dict[str, str]:
    data = {q: ("yes" if v else "no") for q, v in ALL_CLEAR.items()}
    data.update(answers)
    return {k: v for k, v in data.items() if v}


# --- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "page"),
    [
        ("telecommunicator", "/console/"),
        ("social_worker", "/queue/"),
        ("supervisor", "/floor/"),
        ("evaluator", "/evaluation/"),
        ("administrator", "/admin/"),
    ],
)
def test_each_role_lands_on_its_page(request: Any, open_protocol: Any, persona: str, page: str) -> None:
    user = request.getfixturevalue(persona)
    if persona == "administrator":
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    client = client_for(user)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == page
    if persona != "administrator":
        landing = client.get(page)
        assert landing.status_code == 200
        assert b"2026.11.0-test-open" in landing.content  # the active protocol version in the footer


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("telecommunicator", "/queue/"),
        ("telecommunicator", "/floor/"),
        ("social_worker", "/console/"),
        ("social_worker", "/floor/"),
        ("evaluator", "/console/"),
        ("evaluator", "/queue/"),
        ("evaluator", "/floor/"),
        ("evaluator", "/calls/1/"),
        ("administrator", "/console/"),
        ("cad", "/console/"),
        ("cad", "/"),
    ],
)
def test_wrong_role_is_refused(request: Any, open_protocol: Any, persona: str, url: str) -> None:
    response = client_for(request.getfixturevalue(persona)).get(url)
    assert response.status_code in (403, 404)


def test_wrong_role_cannot_act(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_now(telecommunicator, social_worker)
    assert client_for(telecommunicator).post(f"/queue/transfers/{transfer.pk}/claim/").status_code == 403
    assert client_for(social_worker).post(f"/console/calls/{transfer.call_id}/transfer/").status_code == 403
    assert Transfer.objects.get(pk=transfer.pk).status == "requested"


def test_anonymous_is_sent_to_login(open_protocol: Any) -> None:
    client = Client()
    response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    # A poll after the session ended sends the whole window to the login page, not a fragment.
    poll = client.get("/queue/live/", HTTP_HX_CURRENT_URL="http://testserver/queue/", **HTMX)
    assert poll["HX-Redirect"] == "/login/?next=%2Fqueue%2F"


def test_login_form_logs_in_and_redirects(open_protocol: Any, telecommunicator: Any) -> None:
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="username"' in page.content
    device = TOTPDevice.objects.create(user=telecommunicator, name="phone", confirmed=True)
    response = client.post("/login/", {"username": "tc-alex", "password": "correct horse battery staple"})
    # Then the second factor (tests/accounts/test_sign_in.py covers it in full).
    assert response.status_code == 302 and response["Location"] == "/login/verify/"
    response = client.post("/login/verify/", {"code": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").headers["Location"] == "/console/"


# --- console ----------------------------------------------------------------------------------


def test_console_lists_recent_calls_and_opens_one(open_protocol: Any, telecommunicator: Any) -> None:
    call = new_call(telecommunicator, "MP-26-000777")
    client = client_for(telecommunicator)
    page = client.get("/console/")
    assert b"MP-26-000777" in page.content and b'hx-trigger="every 2s"' in page.content
    panel = client.get(f"/console/calls/{call.pk}/", **HTMX)
    html = panel.content.decode()
    assert panel.status_code == 200 and "<html" not in html  # a fragment for htmx
    assert 'name="weapon" value="yes"' in html and 'name="weapon" value="no"' in html
    assert "Emotionally Disturb Person" in html
    full = client.get(f"/console/calls/{call.pk}/")
    assert b"<html" in full.content and b"Recent calls" in full.content


def test_console_screen_shows_every_reason_in_words_and_code(
    open_protocol: Any, telecommunicator: Any
) -> None:
    call = new_call(telecommunicator)
    client = client_for(telecommunicator)
    response = client.post(
        f"/console/calls/{call.pk}/screen/", screen_form(weapon="yes", violence="yes"), **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-outcome="dispatch"' in html and "Keep with police / fire / EMS" in html
    assert "A weapon is involved or within reach." in html and ">weapon</code>" in html
    assert "Someone is being violent or threatening violence." in html and ">violence</code>" in html
    assert 'id="transfer-button"' not in html


def test_unanswered_question_is_screening_incomplete(open_protocol: Any, telecommunicator: Any) -> None:
    call = new_call(telecommunicator)
    data = screen_form()
    del data["medical_emergency"]
    html = (
        client_for(telecommunicator).post(f"/console/calls/{call.pk}/screen/", data, **HTMX).content.decode()
    )
    assert ">screening_incomplete</code>" in html
    assert "Unanswered: Does anyone need medical attention now" in html
    assert 'id="transfer-button"' not in html


def test_transfer_button_only_when_outcome_is_transfer(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    call = new_call(telecommunicator)
    client = client_for(telecommunicator)
    # Nobody available: fallback, no transfer button, the options shown directly.
    html = client.post(f"/console/calls/{call.pk}/screen/", screen_form(), **HTMX).content.decode()
    assert 'data-outcome="fallback"' in html and ">social_worker_unavailable</code>" in html
    assert 'id="transfer-button"' not in html
    assert "988 Suicide &amp; Crisis Lifeline" in html and "County mobile crisis team" in html
    refused = client.post(f"/console/calls/{call.pk}/transfer/", **HTMX)
    assert refused.status_code == 409 and b"not transfer" in refused.content
    assert not Transfer.objects.exists()
    # A social worker becomes available: screened again, the decision is transfer with its reason.
    services.set_availability(social_worker, "available")
    html = client.post(f"/console/calls/{call.pk}/screen/", screen_form(), **HTMX).content.decode()
    assert 'data-outcome="transfer"' in html and ">eligible</code>" in html
    assert 'id="transfer-button"' in html and 'accesskey="t"' in html


def test_transfer_shows_a_status_panel_that_polls(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    services.set_availability(social_worker, "available")
    call = new_call(telecommunicator)
    client = client_for(telecommunicator)
    client.post(f"/console/calls/{call.pk}/screen/", screen_form(), **HTMX)
    html = client.post(f"/console/calls/{call.pk}/transfer/", **HTMX).content.decode()
    transfer = Transfer.objects.get(call=call)
    assert transfer.status == "requested"
    assert f'hx-get="/console/transfers/{transfer.pk}/live/" hx-trigger="every 1s"' in html
    assert 'id="transfer-button"' not in html
    services.claim_transfer(social_worker, transfer.pk)
    status = client.get(f"/console/transfers/{transfer.pk}/live/", **HTMX).content.decode()
    assert 'data-status="claimed"' in status and "sw-sam" in status
    assert 'hx-trigger="every 1s"' in status  # still live until it ends


def test_manual_intake_creates_a_console_call(open_protocol: Any, telecommunicator: Any) -> None:
    client = client_for(telecommunicator)
    response = client.post(
        "/console/calls/new/",
        {"incident_id": "MP-26-009999", "call_type": "Check the Welfare", "address": "1 Demo St"},
        **HTMX,
    )
    call = Call.objects.get(incident_id="MP-26-009999")
    assert (
        call.source == "mecc-console" and call.origin == "console" and call.call_type == "Check the Welfare"
    )
    assert response["HX-Push-Url"] == f"/console/calls/{call.pk}/"
    assert b"MP-26-009999" in response.content and b'hx-swap-oob="true"' in response.content
    bad = client.post("/console/calls/new/", {"incident_id": "", "call_type": ""}, **HTMX)
    assert bad.status_code == 422 and bad["HX-Retarget"] == "#intake"
    page = client.get("/console/")
    assert (
        b'<datalist id="call-types">' in page.content
        and b'<option value="Emotionally Disturb Person">' in page.content
    )


def test_cancel_a_requested_transfer(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_now(telecommunicator, social_worker)
    response = client_for(telecommunicator).post(f"/console/transfers/{transfer.pk}/cancel/", **HTMX)
    assert response.status_code == 200 and b"Transfer cancelled." in response.content
    assert Transfer.objects.get(pk=transfer.pk).status == "cancelled"


# --- timeout, alert and fallback -------------------------------------------------------------


def test_timed_out_transfer_alerts_and_records_the_fallback(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    transfer = requested_now(telecommunicator, social_worker, ago=600)  # past the 90 s deadline
    client = client_for(telecommunicator)
    alerts = client.get("/console/alerts/live/", **HTMX).content.decode()  # the poll expires it
    assert Transfer.objects.get(pk=transfer.pk).status == "timed_out"
    assert 'role="alert"' in alerts and "MP-26-000101" in alerts
    status = client.get(f"/console/transfers/{transfer.pk}/live/", **HTMX).content.decode()
    assert 'role="alert"' in status and "Nobody claimed the transfer" in status
    assert "County mobile crisis team" in status and "988 Suicide" in status and "Callback when" in status
    assert "every 1s" not in status  # it stopped polling, so the form is not replaced while typed in
    url = f"/console/calls/{transfer.call_id}/fallback/"
    refused = client.post(url, {"option": "callback_when_available", "transfer_id": transfer.pk}, **HTMX)
    assert refused.status_code == 422 and b"callback needs the number" in refused.content
    assert not FallbackRoute.objects.exists()
    done = client.post(url, {"option": "988", "transfer_id": transfer.pk}, **HTMX)
    assert done.status_code == 200 and b"Fallback recorded: 988 Suicide" in done.content
    route = FallbackRoute.objects.get()
    assert route.option == "988" and route.transfer_id == transfer.pk
    assert Transfer.objects.get(pk=transfer.pk).alert_acknowledged_at is not None
    assert b"MP-26-000101" not in client.get("/console/alerts/live/", **HTMX).content


def test_unchanged_poll_answers_204(open_protocol: Any, telecommunicator: Any) -> None:
    new_call(telecommunicator)
    client = client_for(telecommunicator)
    first = client.get("/console/calls/live/", **HTMX).content.decode()
    version = first.split('id="calls-v" name="v" value="', 1)[1].split('"', 1)[0]
    assert client.get("/console/calls/live/", {"v": version}, **HTMX).status_code == 204
    new_call(telecommunicator, "MP-26-000102")
    assert client.get("/console/calls/live/", {"v": version}, **HTMX).status_code == 200


# --- queue and call detail --------------------------------------------------------------------


def test_queue_partial_lists_a_requested_transfer(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    transfer = requested_now(telecommunicator, social_worker, ago=12)
    html = client_for(social_worker).get("/queue/live/", **HTMX).content.decode()
    assert "MP-26-000101" in html and "Emotionally Disturb Person" in html and "350 S 5th St" in html
    assert f'hx-post="/queue/transfers/{transfer.pk}/claim/"' in html
    waited = int(html.split('class="wait-num">', 1)[1].split("<", 1)[0])
    assert 12 <= waited <= 20


def test_queue_page_polls_every_second(open_protocol: Any, social_worker: Any) -> None:
    html = client_for(social_worker).get("/queue/").content.decode()
    assert 'hx-get="/queue/live/" hx-trigger="every 1s"' in html
    assert 'name="status" value="available"' in html


def test_claim_via_page_opens_the_case_and_a_second_claim_is_409(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, make_user: Any
) -> None:
    transfer = requested_now(telecommunicator, social_worker)
    response = client_for(social_worker).post(f"/queue/transfers/{transfer.pk}/claim/", **HTMX)
    assert response["HX-Redirect"] == f"/cases/{Transfer.objects.get(pk=transfer.pk).case.pk}/"
    assert Transfer.objects.get(pk=transfer.pk).claimed_by == social_worker
    other = make_user("social_worker", "sw-two")
    lost = client_for(other).post(f"/queue/transfers/{transfer.pk}/claim/", **HTMX)
    assert lost.status_code == 409 and b"already claimed by someone else" in lost.content.lower()
    mine = client_for(social_worker).get("/queue/live/", **HTMX).content.decode()
    assert "My calls" in mine and f"/calls/{transfer.call_id}/" in mine


def test_call_detail_shows_answers_reasons_and_actions(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    transfer = requested_now(telecommunicator, social_worker)
    services.claim_transfer(social_worker, transfer.pk)
    html = client_for(social_worker).get(f"/calls/{transfer.call_id}/").content.decode()
    assert "Is there a weapon involved" in html and "Will the caller talk with the 911 social worker?" in html
    assert ">eligible</code>" in html
    assert f'action="/transfers/{transfer.pk}/complete/"' in html
    assert 'name="responder" value="police"' in html and 'value="fire"' in html and 'value="ems"' in html


def test_escalate_to_911_from_the_call(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    transfer = requested_now(telecommunicator, social_worker)
    services.claim_transfer(social_worker, transfer.pk)
    client = client_for(social_worker)
    missing = client.post(f"/transfers/{transfer.pk}/escalate/", {"responder": "ems", "reason": " "})
    assert missing.status_code == 422 and not Escalation.objects.exists()
    done = client.post(f"/transfers/{transfer.pk}/escalate/", {"responder": "ems", "reason": "Took pills."})
    assert done.status_code == 302 and done["Location"] == "/queue/"
    escalation = Escalation.objects.get()
    assert escalation.responder == "ems" and escalation.reason == "Took pills."
    assert Transfer.objects.get(pk=transfer.pk).status == "escalated"
    again = client.post(f"/transfers/{transfer.pk}/escalate/", {"responder": "ems", "reason": "Again"})
    assert again.status_code == 409


def test_complete_makes_the_social_worker_available(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    transfer = requested_now(telecommunicator, social_worker)
    services.claim_transfer(social_worker, transfer.pk)
    response = client_for(social_worker).post(f"/transfers/{transfer.pk}/complete/", {"note": "Safety plan."})
    assert response.status_code == 302
    assert Transfer.objects.get(pk=transfer.pk).status == "completed"
    assert SocialWorkerStatus.objects.get(user=social_worker).status == "available"


def test_availability_switch(open_protocol: Any, social_worker: Any) -> None:
    client = client_for(social_worker)
    html = client.post("/queue/availability/", {"status": "busy"}, **HTMX).content.decode()
    assert SocialWorkerStatus.objects.get(user=social_worker).status == "busy"
    assert 'value="busy" class="btn seg-btn seg-busy" aria-pressed="true"' in html
    assert client.post("/queue/availability/", {"status": "asleep"}, **HTMX).status_code == 422


def test_decline_from_the_queue_alerts_the_telecommunicator(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    transfer = requested_now(telecommunicator, social_worker)
    response = client_for(social_worker).post(f"/queue/transfers/{transfer.pk}/decline/", **HTMX)
    assert response.status_code == 200 and b"Declined" in response.content
    alerts = client_for(telecommunicator).get("/console/alerts/live/", **HTMX).content.decode()
    assert 'role="alert"' in alerts and "transfer declined" in alerts


def test_queue_partial_query_count_does_not_grow(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(6):
        requested_now(telecommunicator, social_worker, incident=f"MP-26-00020{n}")
    client = client_for(social_worker)
    # 2 of them: the sign-in checks (device, session record); 5: the audited read, one chained
    # append whatever the number of rows (savepoint, chain-head lock, insert, head update, release).
    with django_assert_max_num_queries(15):
        response = client.get("/queue/live/", **HTMX)
    assert response.content.count(b'class="queue-item') == 6


# --- floor and evaluator ----------------------------------------------------------------------


def test_floor_shows_todays_counts(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, supervisor: Any
) -> None:
    first = requested_now(telecommunicator, social_worker, "MP-26-000301", ago=30)
    services.claim_transfer(social_worker, first.pk)
    requested_now(telecommunicator, social_worker, "MP-26-000302", ago=5)
    client = client_for(supervisor)
    page = client.get("/floor/").content.decode()
    assert 'hx-get="/floor/live/" hx-trigger="every 2s"' in page
    html = client.get("/floor/live/", **HTMX).content.decode()
    assert 'id="transfers-today">2<' in html
    assert (
        '<tr data-status="claimed"><th scope="row"><span class="badge status-claimed">claimed</span></th><td>1</td>'
        in html
    )
    assert '<tr data-status="requested">' in html and "MP-26-000302" in html
    assert "sw-sam" in html
    assert 'data-outcome="transfer"' in html


def test_floor_lists_unknown_call_types_for_the_protocol(
    open_protocol: Any, cad: Any, supervisor: Any
) -> None:
    new_call(cad, "MP-26-000501", "Mental Health Crisis")
    new_call(cad, "MP-26-000502", "  MENTAL health crisis ")  # the same name as the protocol matches names
    new_call(cad, "MP-26-000503", "Emotionally Disturb Person")  # known: not listed
    html = client_for(supervisor).get("/floor/live/", **HTMX).content.decode()
    table = html[html.index('id="call-types-to-review"') :]
    assert "mental health crisis" in table.lower() and table.count("<tr>") == 1 and "<td>2 " in table
    assert "Emotionally Disturb Person" not in table


def test_floor_alerts_on_a_timed_out_transfer_until_its_fallback_is_recorded(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, supervisor: Any
) -> None:
    transfer = requested_now(telecommunicator, social_worker, "MP-26-000601", ago=200)  # past its deadline
    services.expire_transfers()
    client = client_for(supervisor)
    html = client.get("/floor/live/", **HTMX).content.decode()
    assert 'id="floor-alerts"' in html and "MP-26-000601" in html and "nobody claimed it" in html
    services.take_fallback(telecommunicator, transfer.call_id, "988", transfer_id=transfer.pk)
    html = client.get("/floor/live/", **HTMX).content.decode()
    assert 'id="floor-alerts"' not in html


def test_floor_says_when_no_call_type_needs_review(open_protocol: Any, cad: Any, supervisor: Any) -> None:
    new_call(cad, "MP-26-000511", "Check the Welfare")
    html = client_for(supervisor).get("/floor/live/", **HTMX).content.decode()
    assert "every call type the CAD sent is in the protocol" in html


def test_evaluator_sees_counts_but_no_call_details(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, evaluator: Any
) -> None:
    transfer = requested_now(telecommunicator, social_worker, "MP-26-000401")
    services.claim_transfer(social_worker, transfer.pk)
    call = Call.objects.get(pk=transfer.call_id)
    html = client_for(evaluator).get("/evaluation/").content.decode()
    # One call today: a count of 1 is withheld ("*"), never printed (docs/deidentification.md).
    assert 'id="decisions-total">*<' in html and 'id="transfers-total">*<' in html
    for detail in (
        call.incident_id,
        call.address,
        call.caller_phone,
        "Emotionally Disturb Person",
        "tc-alex",
        "sw-sam",
    ):
        assert detail not in html
