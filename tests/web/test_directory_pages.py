"""Directory pages through Django's test client: search (menu, from a case, htmx), maintenance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crisisdesk.calls import services as calls
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.calls.schemas import CadCall
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import Case
from crisisdesk.directory import models as m
from crisisdesk.directory import services
from crisisdesk.directory.services.seed import seed_demo_directory
from crisisdesk.web.views import directory as views
from tests.calls.builders import ALL_CLEAR, cad_record
from tests.conftest import protocol_text, sign_in
from tests.directory.helpers import EXAMPLES

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TUESDAY_3PM = datetime(2026, 11, 24, 15, 0, tzinfo=ZoneInfo("America/Chicago"))


@pytest.fixture(autouse=True)
def demo(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_demo_directory(today=date(2026, 11, 24))
    monkeypatch.setattr(views, "clock", lambda: TUESDAY_3PM)


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def case_with_location(tc: Any, sw: Any) -> Case:
    publish_protocol(None, protocol_text(version="2026.11.1-dir-open", always_open=True), system=True)
    calls.set_availability(sw, "available")
    record = cad_record(
        "MP-26-000777",
        location={"address": "350 S 5th St, Minneapolis, MN", "latitude": 44.9773, "longitude": -93.2655},
    )
    call = calls.intake_call(tc, CadCall.model_validate(record)).call
    calls.screen_call(tc, call.pk, dict(ALL_CLEAR))
    transfer = calls.request_transfer(tc, call.pk)
    calls.claim_transfer(sw, transfer.pk)
    case = Case.objects.get(transfer=transfer)
    cs.update_case_details(sw, case.pk, concerns=["mental_health"], language="Somali")
    return case


def test_search_page_lists_addresses_hours_and_marks_sample_data(social_worker: Any) -> None:
    response = client_for(social_worker).get("/directory/", {"need": "food"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "4 services found" in html
    assert "Neighborhood Food Shelf (sample)" in html
    assert "1500 Example Ave, Minneapolis, MN 55406" in html
    assert "Tue, Thu 10:00-14:00" in html and "1st Sat 10:00-13:00" in html
    assert "SAMPLE DATA" in html
    assert "Why it matched:</span> offers food" in html
    assert 'href="/directory/"' in html and ">Directory<" in html  # in the navigation


def test_real_listings_have_no_sample_badge(social_worker: Any) -> None:
    html = client_for(social_worker).get("/directory/", {"q": "988"}).content.decode()
    card = html[html.index('class="card result"') :]
    assert "988 Suicide &amp; Crisis Lifeline" in card and "SAMPLE DATA" not in card
    assert "open 24 hours" in card


def test_stale_and_never_verified_are_flagged(social_worker: Any) -> None:
    html = client_for(social_worker).get("/directory/", {"need": "addiction_treatment"}).content.decode()
    assert "not verified for 200 days" in html
    assert "never verified" in html


def test_htmx_swaps_only_the_results(social_worker: Any) -> None:
    response = client_for(social_worker).get("/directory/", {"need": "legal", "when": "now"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "0 services found" in html and 'id="no-results"' in html  # the legal clinic is Wednesdays


def test_bad_filters_are_422_with_the_field(social_worker: Any) -> None:
    response = client_for(social_worker).get("/directory/", {"lat": "44.9", "within_km": "5"})
    assert response.status_code == 422
    assert "Give both latitude and longitude, or neither." in response.content.decode()


def test_roles_that_do_not_search_get_403(telecommunicator: Any, evaluator: Any) -> None:
    for user in (telecommunicator, evaluator):
        assert client_for(user).get("/directory/").status_code == 403


def test_search_from_a_case_prefills_location_language_and_needs(
    telecommunicator: Any, social_worker: Any
) -> None:
    case = case_with_location(telecommunicator, social_worker)
    response = client_for(social_worker).get("/directory/", {"case": case.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'Searching for <a href="/cases/{case.pk}/">case {case.pk}</a>' in html
    assert 'name="lat" value="44.9773"' in html and 'value="so" selected' in html
    assert 'value="mental_health_care" id="id_need_0" checked' in html  # the case's concern
    assert 'value="addiction_treatment" id="id_need_1">' in html
    assert "2 services found" in html  # mental health care, in Somali, within 10 km of the call
    assert "serves Somali" in html and "km away" in html
    assert "Cedar Avenue Counseling" in html  # Somali-speaking counseling within 10 km
    assert f'name="case" value="{case.pk}"' in html
    assert client_for(social_worker).get("/directory/", {"case": 999_999}).status_code == 404


def test_search_page_query_count_does_not_grow_with_results(social_worker: Any) -> None:
    client = client_for(social_worker)
    with CaptureQueriesContext(connection) as few:
        client.get("/directory/", {"need": "legal"})
    with CaptureQueriesContext(connection) as many:
        client.get("/directory/", {"q": ""})  # every listing
    assert len(many.captured_queries) == len(few.captured_queries) <= 20


def test_maintenance_lists_stale_listings_and_stamps_them(administrator: Any, social_worker: Any) -> None:
    assert client_for(social_worker).get("/directory/maintain/").status_code == 403
    admin = client_for(administrator)
    html = admin.get("/directory/maintain/").content.decode()
    stale = html[
        html.index('id="stale-listings"') : html.index("</table>", html.index('id="stale-listings"'))
    ]
    assert (
        "Peer Recovery Drop-in (sample)" in stale and "Outpatient Substance Use Treatment (sample)" in stale
    )
    assert "Northside" not in stale
    target = m.Service.objects.get(name__startswith="Outpatient Substance")
    response = admin.post("/directory/maintain/verify/", {"service": [target.pk]})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.last_verified_at == TUESDAY_3PM
    html = admin.get("/directory/maintain/").content.decode()
    stale = html[
        html.index('id="stale-listings"') : html.index("</table>", html.index('id="stale-listings"'))
    ]
    assert "Outpatient Substance" not in stale


def test_edit_page_saves_and_refuses_bad_input(administrator: Any) -> None:
    admin = client_for(administrator)
    target = m.Service.objects.get(name__startswith="Community Supper")
    assert admin.get(f"/directory/services/{target.pk}/edit/").status_code == 200
    form = {
        "name": "Community Supper (sample)",
        "status": "active",
        "needs": ["food"],
        "access": ["walk_in"],
        "alert": "Moved indoors",
    }
    assert admin.post(f"/directory/services/{target.pk}/edit/", form).status_code == 302
    target.refresh_from_db()
    assert target.alert == "Moved indoors"
    bad = admin.post(f"/directory/services/{target.pk}/edit/", {**form, "minimum_age": 30, "maximum_age": 20})
    assert bad.status_code == 422 and "is below the minimum age" in bad.content.decode()
    assert admin.get("/directory/services/999999/edit/").status_code == 404


def test_import_report_page(administrator: Any) -> None:
    report = services.import_hsds_json(None, EXAMPLES / "location.json")
    html = client_for(administrator).get(f"/directory/imports/{report.run_id}/").content.decode()
    assert "must be between -90 and 90" in html and "location.json" in html


def test_verify_redirects_only_inside_the_site(administrator: Any) -> None:
    target = m.Service.objects.get(name__startswith="Community Supper")
    admin = client_for(administrator)
    inside = admin.post(
        "/directory/maintain/verify/",
        {"service": [target.pk], "next": f"/directory/services/{target.pk}/edit/"},
    )
    assert inside["Location"] == f"/directory/services/{target.pk}/edit/"
    outside = admin.post(
        "/directory/maintain/verify/", {"service": [target.pk], "next": "https://evil.example/"}
    )
    assert outside["Location"] == "/directory/maintain/"
    assert (
        admin.post("/directory/maintain/verify/", {"service": [999_999]}).status_code == 302
    )  # message, no 500
