"""Referral pages through Django's test client: the refer page (consent, then refer and send), the panel
in the case workspace, reports from the agency, the tracker, the FHIR download, and the status of
every POST (403 wrong role or another's case, 404 not there, 409 changed meanwhile, 422 bad input)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crisisdesk.audit.models import AuditEvent
from crisisdesk.casework.models import Case, FollowUp
from crisisdesk.referrals import services as rs
from crisisdesk.referrals.models import Referral, ReferralConsent
from crisisdesk.web.views import referrals as views
from tests.conftest import sign_in
from tests.referrals.builders import agency_service, claimed_case, consent, person_id

pytestmark = pytest.mark.django_db

CONSENT = {
    "given_by": "Dana Ortiz",
    "relation": "person_in_crisis",
    "method": "verbal_on_call",
    "contact": "612-555-0142",
    "agency_may_contact": "on",
}


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.fixture
def case(mecc_protocol: Any, telecommunicator: Any, social_worker: Any) -> Case:
    return claimed_case(telecommunicator, social_worker)


@pytest.fixture
def service() -> Any:
    return agency_service()


def refer_url(case: Case, service: Any, q: str = "housing support open now") -> str:
    return f"/referrals/new/?case={case.pk}&service={service.pk}&q={q.replace(' ', '+')}"


def refer_post(case: Case, service: Any, **fields: str) -> dict[str, str]:
    data = {"person_id": str(person_id(case)), "need": "housing_instability", "mode": "manual"}
    data.update(priority="routine", request_text="Behind on rent")
    data.update(fields)
    return data


def sent_referral(sw: Any, case: Case, service: Any) -> Referral:
    at = timezone.now() - timedelta(minutes=30)
    c = consent(sw, case, service, now=at)
    return rs.refer(sw, case.pk, service.pk, c.pk, need="housing_instability", now=at)


# --- the refer page --------------------------------------------------------------------------------


def test_refer_page_asks_for_consent_then_refers_and_sends(
    case: Case, service: Any, social_worker: Any
) -> None:
    client = client_for(social_worker)
    html = client.get(refer_url(case, service)).content.decode()
    assert "Refer to Housing Support Walk-in" in html and "Record consent, refer and send" in html
    assert 'name="given_by"' in html and 'value="Dana Ortiz"' in html  # prefilled from the case
    assert '<option value="housing_instability" selected>' in html  # suggested from the search words

    # Without who consented nothing is written (422, the field marked).
    missing = client.post(refer_url(case, service), refer_post(case, service, **{**CONSENT, "given_by": ""}))
    assert missing.status_code == 422 and "field-error" in missing.content.decode()
    assert not ReferralConsent.objects.exists() and not Referral.objects.exists()

    done = client.post(refer_url(case, service), refer_post(case, service, **CONSENT))
    referral = Referral.objects.get()
    assert done.status_code == 302
    assert (
        done["Location"] == f"/cases/{case.pk}/?saved=referral_sent&ref={referral.pk}#referral-{referral.pk}"
    )
    assert referral.status == "requested" and referral.consent.given_by == "Dana Ortiz"
    assert FollowUp.objects.get(referral=referral).kind == "referral_check"

    # A second visit finds the consent in force and does not ask again.
    again = client.get(refer_url(case, service)).content.decode()
    assert 'id="consent-in-force"' in again and 'name="given_by"' not in again


def test_refer_page_statuses(
    case: Case, service: Any, social_worker: Any, supervisor: Any, make_user: Any
) -> None:
    assert client_for(supervisor).get(refer_url(case, service)).status_code == 403  # may not refer
    assert (
        client_for(make_user("social_worker")).get(refer_url(case, service)).status_code == 404
    )  # not theirs: another social worker's case is not there for them
    sw = client_for(social_worker)
    assert sw.get("/referrals/new/").status_code == 404
    assert sw.get(f"/referrals/new/?case={case.pk}&service=99999").status_code == 404
    gone = agency_service("Closed program", status="defunct")
    response = sw.post(refer_url(case, gone), refer_post(case, gone, **CONSENT))
    assert response.status_code == 409 and "defunct" in response.content.decode()
    assert not Referral.objects.exists()


# --- the panel and the agency's answers ---------------------------------------------------------------


def test_workspace_panel_shows_the_referral_and_its_history(
    case: Case, service: Any, social_worker: Any, supervisor: Any
) -> None:
    referral = sent_referral(social_worker, case, service)
    html = client_for(social_worker).get(f"/cases/{case.pk}/").content.decode()
    assert 'id="referrals"' in html and f'id="referral-{referral.pk}"' in html
    assert "Sent: waiting for the agency" in html and "Sent to the agency" in html
    assert (
        f'action="/referrals/{referral.pk}/report/"' in html and f"/referrals/{referral.pk}/fhir.json" in html
    )
    assert (
        f'id="find-service" href="/directory/?case={case.pk}"' in html
    )  # the search, prefilled from the case
    # The supervisor sees it read-only.
    sup = client_for(supervisor).get(f"/cases/{case.pk}/").content.decode()
    assert f'id="referral-{referral.pk}"' in sup and f'action="/referrals/{referral.pk}/report/"' not in sup


def test_manual_acceptance_from_the_panel(
    case: Case, service: Any, social_worker: Any, make_user: Any
) -> None:
    referral = sent_referral(social_worker, case, service)
    url = f"/referrals/{referral.pk}/report/"
    client = client_for(social_worker)
    empty = client.post(url, {"action": "accept", "channel": "phone"})
    assert empty.status_code == 422
    body = empty.content.decode()
    assert "Write down what the agency said." in body and "Say when the agency said it." in body
    assert Referral.objects.get(pk=referral.pk).status == "requested"

    when = timezone.localtime(timezone.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    ok = client.post(url, {"action": "accept", "channel": "phone", "said": "Thursday 10:00", "said_by": "Maria",
                           "occurred_at": when})  # fmt: skip
    assert ok.status_code == 302 and ok["Location"].endswith(f"#referral-{referral.pk}")
    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert (
        timezone.localtime(referral.responded_at).strftime("%Y-%m-%dT%H:%M") == when
    )  # typed in Chicago time

    # "accept" is no longer offered; posting it anyway is refused as a change that already happened.
    again = client.post(url, {"action": "accept", "channel": "phone", "said": "x", "occurred_at": when})
    assert again.status_code == 422 and "Select a valid choice" in again.content.decode()
    # Another social worker may not record on this case: it is not theirs, so it is not there.
    other = client_for(make_user("social_worker")).post(
        url, {"action": "complete", "channel": "phone", "said": "done", "occurred_at": when}
    )
    assert other.status_code == 404
    done = client.post(
        url, {"action": "complete", "channel": "in_person", "said": "Enrolled", "occurred_at": when}
    )
    assert done.status_code == 302 and Referral.objects.get(pk=referral.pk).status == "completed"


def test_a_report_on_a_referral_that_changed_meanwhile_is_409(
    case: Case, service: Any, social_worker: Any
) -> None:
    referral = sent_referral(social_worker, case, service)
    client = client_for(social_worker)
    page_html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'value="accept"' in page_html
    rs.cancel_referral(social_worker, referral.pk, "Duplicate")  # in another tab
    response = client.post(f"/referrals/{referral.pk}/warm-handoff/", {"outcome": "connected"})
    assert response.status_code == 409 and "cancelled" in response.content.decode()
    cancel = client.post(f"/referrals/{referral.pk}/cancel/", {"reason": "again"})
    assert cancel.status_code == 409 and "already cancelled" in cancel.content.decode()


def test_cancel_and_warm_handoff_from_the_panel(case: Case, service: Any, social_worker: Any) -> None:
    referral = sent_referral(social_worker, case, service)
    client = client_for(social_worker)
    handoff = client.post(
        f"/referrals/{referral.pk}/warm-handoff/",
        {"outcome": "connected", "agency_contact": "Maria", "person_on_call": "on", "duration_minutes": "9"},
    )
    assert handoff.status_code == 302
    assert referral.events.get(kind="warm_handoff").duration_minutes == 9
    assert client.post(f"/referrals/{referral.pk}/cancel/", {"reason": ""}).status_code == 422
    assert client.post(f"/referrals/{referral.pk}/cancel/", {"reason": "Changed her mind"}).status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == "cancelled"
    assert FollowUp.objects.get(referral=referral).status == "cancelled"
    html = client.get(f"/cases/{case.pk}/?saved=referral_cancelled&ref={referral.pk}").content.decode()
    assert "Warm handoff (three-way call)" in html and "Withdrawn" in html and "Changed her mind" in html


def test_sending_a_draft_from_the_panel(case: Case, service: Any, social_worker: Any) -> None:
    c = consent(social_worker, case, service)
    draft = rs.create_referral(social_worker, case.pk, service.pk, c.pk, need="other")
    client = client_for(social_worker)
    assert f'action="/referrals/{draft.pk}/send/"' in client.get(f"/cases/{case.pk}/").content.decode()
    assert client.post(f"/referrals/{draft.pk}/send/").status_code == 302
    assert Referral.objects.get(pk=draft.pk).status == "requested"
    assert client.post(f"/referrals/{draft.pk}/send/").status_code == 409


# --- worklist, tracker, FHIR --------------------------------------------------------------------------


def test_the_check_shows_on_the_worklist(case: Case, service: Any, social_worker: Any) -> None:
    referral = sent_referral(social_worker, case, service)
    html = client_for(social_worker).get("/follow-ups/").content.decode()
    check = FollowUp.objects.get(referral=referral)
    assert f'id="fu-{check.pk}"' in html and "Referral check: did the person get connected to" in html
    assert "Housing Support Walk-in" in html


@pytest.mark.parametrize("persona", ["telecommunicator", "evaluator", "administrator"])
def test_roles_without_referrals_get_403(
    request: Any, case: Case, service: Any, social_worker: Any, persona: str
) -> None:
    referral = sent_referral(social_worker, case, service)
    client = client_for(request.getfixturevalue(persona))
    for url in ("/referrals/", f"/referrals/{referral.pk}/fhir.json", refer_url(case, service)):
        assert client.get(url).status_code == 403, url
    for action in ("report", "cancel", "warm-handoff", "send"):
        assert client.post(f"/referrals/{referral.pk}/{action}/", {"reason": "x"}).status_code == 403
    assert Referral.objects.get(pk=referral.pk).status == "requested"
    assert Client().get("/referrals/").status_code == 302  # anonymous: to the login page


def test_tracker_shows_my_referrals_and_overdue_checks(
    case: Case, service: Any, social_worker: Any, supervisor: Any, make_user: Any, monkeypatch: Any
) -> None:
    referral = sent_referral(social_worker, case, service)
    client = client_for(social_worker)
    html = client.get("/referrals/").content.decode()
    assert f'id="tracker-{referral.pk}"' in html and 'id="count-requested">1<' in html
    assert 'id="count-overdue-checks">0<' in html and 'id="count-due-checks">1<' in html
    later = timezone.now() + timedelta(days=4)  # past the first attempt's deadline (72 h)
    monkeypatch.setattr(views, "clock", lambda: later)
    late = client.get("/referrals/").content.decode()
    assert 'id="count-overdue-checks">1<' in late and 'id="overdue-checks"' in late
    assert 'id="count-requested">0<' not in late
    # Other social workers do not see it; supervisors see everyone's.
    assert (
        f'id="tracker-{referral.pk}"'
        not in client_for(make_user("social_worker")).get("/referrals/").content.decode()
    )
    sup = client_for(supervisor).get("/referrals/").content.decode()
    assert f'id="tracker-{referral.pk}"' in sup and "every social worker's" in sup
    assert 'href="/referrals/" accesskey="h" aria-current="page"' in html  # the NAV entry


def test_tracker_query_count_does_not_grow_with_rows(case: Case, social_worker: Any) -> None:
    client = client_for(social_worker)
    sent_referral(social_worker, case, agency_service("A", "Org A"))
    with CaptureQueriesContext(connection) as one:
        assert client.get("/referrals/").status_code == 200
    for name in ("B", "C", "D", "E"):
        sent_referral(social_worker, case, agency_service(name, f"Org {name}"))
    with CaptureQueriesContext(connection) as five:
        assert client.get("/referrals/").status_code == 200
    assert len(five) == len(one)


def test_fhir_download(case: Case, service: Any, social_worker: Any, supervisor: Any) -> None:
    referral = sent_referral(social_worker, case, service)
    response = client_for(supervisor).get(f"/referrals/{referral.pk}/fhir.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"] == f'attachment; filename="referral-{referral.pk}.fhir.json"'
    assert "no-store" in response["Cache-Control"]
    bundle = json.loads(response.content)
    kinds = sorted(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds == [
        "Consent",
        "HealthcareService",
        "Organization",
        "Organization",
        "Patient",
        "ServiceRequest",
        "Task",
    ]
    assert AuditEvent.objects.filter(action="referral.export_fhir", actor=supervisor).count() == 1
    assert client_for(supervisor).get("/referrals/99999/fhir.json").status_code == 404


def test_directory_results_offer_refer_for_the_case(
    case: Case, service: Any, social_worker: Any, supervisor: Any
) -> None:
    html = client_for(social_worker).get(f"/directory/?case={case.pk}&q=Housing").content.decode()
    assert f'id="service-{service.pk}"' in html
    link = f'href="/referrals/new/?case={case.pk}&amp;service={service.pk}&amp;q='
    assert link in html and "&amp;back=%2Fdirectory%2F" in html
    # Without a case, or for a supervisor, there is nothing to refer from.
    assert "/referrals/new/" not in client_for(social_worker).get("/directory/?q=Housing").content.decode()
    assert (
        "/referrals/new/"
        not in client_for(supervisor).get(f"/directory/?case={case.pk}&q=Housing").content.decode()
    )
    # The back link only ever points into this site.
    page_html = (
        client_for(social_worker).get(refer_url(case, service) + "&back=//evil.example/x").content.decode()
    )
    assert "evil.example" not in page_html


def test_workspace_query_count_does_not_grow_with_referrals(case: Case, social_worker: Any) -> None:
    client = client_for(social_worker)
    sent_referral(social_worker, case, agency_service("A", "Org A"))
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/cases/{case.pk}/").status_code == 200
    for name in ("B", "C", "D"):
        referral = sent_referral(social_worker, case, agency_service(name, f"Org {name}"))
        rs.record_warm_handoff(social_worker, referral.pk, outcome="connected")
    with CaptureQueriesContext(connection) as four:
        assert client.get(f"/cases/{case.pk}/").status_code == 200
    assert len(four) == len(one)
