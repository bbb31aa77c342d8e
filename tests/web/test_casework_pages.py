"""The case workspace, my cases, escalation acknowledgement and the supervisor's casework view,
through Django's test client: what each page shows, and the status of every POST (403 wrong role,
404 not there, 409 not allowed now with every reason in words, 422 bad input with the field)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from crisisdesk.calls import services
from crisisdesk.calls.models import Escalation, Transfer
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.calls.schemas import CadCall
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import (
    Assessment,
    Case,
    CaseNote,
    CaseParticipant,
    ContactConsent,
    FollowUp,
    Person,
    PersonLink,
)
from crisisdesk.domain.cases import REASON_TEXT
from tests.calls.builders import ALL_CLEAR, cad_record
from tests.conftest import protocol_text, sign_in

HTMX = {"HTTP_HX_REQUEST": "true"}
HIGH_RISK = {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": "no", "q6": "no"}
COMPLETE_PLAN = {
    "warning_signs": "Not sleeping, giving things away",
    "internal_coping_strategies": "Walk the dog",
    "professionals_and_agencies": "Call or text 988; Dr. Lee 612-555-0100",
    "making_environment_safe": "Pills locked away by sister",
}


@pytest.fixture
def open_protocol(db: Any) -> Any:
    """The MECC protocol open around the clock, so these tests pass at any hour."""
    return publish_protocol(None, protocol_text(version="2026.11.1-test-open", always_open=True), system=True)


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def recent_call(actor: Any, incident: str = "MP-26-000101", minutes_ago: int = 10, **extra: Any) -> Any:
    """A CAD call received `minutes_ago` (follow-up deadlines count from the call)."""
    received = (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()
    record = cad_record(incident, received_at=received, **extra)
    return services.intake_call(actor, CadCall.model_validate(record)).call


def claimed_case(tc: Any, sw: Any, incident: str = "MP-26-000101", minutes_ago: int = 10) -> Case:
    """A call screened all clear, transferred and claimed by `sw`: the claim opened its case."""
    services.set_availability(sw, "available")
    call = recent_call(tc, incident, minutes_ago)
    services.screen_call(tc, call.pk, dict(ALL_CLEAR))
    transfer = services.request_transfer(tc, call.pk)
    services.claim_transfer(sw, transfer.pk)
    return Case.objects.get(transfer=transfer)


def page(client: Client, case: Case) -> str:
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    """The HTML of one section of the page (from its id to the end of its <section>)."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


# --- the workspace --------------------------------------------------------------------------


def test_workspace_shows_the_call_screening_and_decision(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    response = client_for(social_worker).get(f"/cases/{case.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    call = case.call
    assert call is not None
    local = timezone.localtime(call.received_at)  # America/Chicago
    assert local.utcoffset() != timedelta(0)
    call_html = section(html, "call")
    assert "Emotionally Disturb Person" in call_html and call.incident_id in call_html
    assert local.strftime("%H:%M:%S") in call_html and "350 S 5th St" in call_html
    assert "Is there a weapon involved" in call_html  # the telecommunicator's screening answers
    assert "Every safety check passed" in call_html and ">eligible</code>" in call_html
    assert "tc-alex" in call_html  # screened by
    assert 'href="/cases/" accesskey="g" aria-current="page"' in html  # nav: Cases is current


def test_call_page_links_to_the_case_after_the_claim(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    html = client_for(social_worker).get(f"/calls/{case.call_id}/").content.decode()
    assert f'href="/cases/{case.pk}/"' in html and "Open the case workspace" in html
    queue = client_for(social_worker).get("/queue/live/", **HTMX).content.decode()
    assert f"/calls/{case.call_id}/" in queue  # My calls -> the call -> the case


@pytest.mark.parametrize("persona", ["telecommunicator", "evaluator", "administrator"])
def test_roles_without_cases_get_403(
    request: Any, open_protocol: Any, telecommunicator: Any, social_worker: Any, persona: str
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(request.getfixturevalue(persona))
    assert client.get(f"/cases/{case.pk}/").status_code == 403
    assert client.get("/cases/").status_code == 403
    assert client.post(f"/cases/{case.pk}/notes/", {"kind": "other", "text": "x"}).status_code == 403
    assert not CaseNote.objects.exists()


def test_supervisor_sees_the_case_read_only(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, supervisor: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(supervisor)
    html = page(client, case)
    assert "only sw-sam, who has it, can change it" in html
    assert f'action="/cases/{case.pk}/notes/"' not in html and f'action="/cases/{case.pk}/close/"' not in html
    refused = client.post(f"/cases/{case.pk}/notes/", {"kind": "other", "text": "x"})
    assert refused.status_code == 403 and not CaseNote.objects.exists()


def test_another_social_worker_cannot_change_the_case(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, make_user: Any
) -> None:
    """Another social worker's case is not theirs to see (domain.permissions: own scope), let alone
    change: not found, like a case that does not exist."""
    case = claimed_case(telecommunicator, social_worker)
    other = client_for(make_user("social_worker", "sw-two"))
    seen = other.get(f"/cases/{case.pk}/")
    assert seen.status_code == 404 and b"Ortiz" not in seen.content
    refused = other.post(f"/cases/{case.pk}/notes/", {"kind": "other", "text": "mine now"})
    assert refused.status_code == 404
    assert not CaseNote.objects.exists()


def test_a_case_that_is_not_there_is_404(open_protocol: Any, social_worker: Any) -> None:
    client = client_for(social_worker)
    assert client.get("/cases/999/").status_code == 404
    assert client.post("/cases/999/notes/", {"kind": "other", "text": "x"}).status_code == 404
    assert client.post("/cases/999/close/", {"disposition": "other", "reason": "x"}).status_code == 404


# --- people, candidate matches, links ---------------------------------------------------------


def test_add_person_keeps_and_flags_an_invalid_number(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    data = {"relation": "person_in_crisis", "given_name": "Dana", "family_name": "Ortiz", "phone": "555-12"}
    done = client.post(f"/cases/{case.pk}/people/", data)
    assert done.status_code == 302 and done["Location"] == f"/cases/{case.pk}/?saved=person#people"
    person = CaseParticipant.objects.get(case=case).person
    assert person.phone_raw == "555-12" and not person.phone_valid and person.phone_problem == "too_short"
    people = section(page(client, case), "people")
    assert "Dana Ortiz" in people and "555-12" in people and "check number" in people
    assert "too short to be a phone number" in people


def test_add_person_bad_input_is_422_with_the_field(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    nothing = client.post(f"/cases/{case.pk}/people/", {"relation": "caller"})
    assert nothing.status_code == 422
    assert "give a name or a phone number" in section(nothing.content.decode(), "people")
    bad_date = client.post(
        f"/cases/{case.pk}/people/", {"relation": "caller", "given_name": "Al", "date_of_birth": "1990-02-31"}
    )
    assert bad_date.status_code == 422 and "Date of birth: Enter a valid date." in bad_date.content.decode()
    unknown = client.post(f"/cases/{case.pk}/people/", {"relation": "neighbour", "given_name": "Al"})
    assert (
        unknown.status_code == 422
        and "Relation to the case: Select a valid choice" in unknown.content.decode()
    )
    assert not Person.objects.exists()


def test_candidate_match_confirm_shows_prior_contacts_and_undo_keeps_data(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    earlier = claimed_case(telecommunicator, social_worker, "MP-26-000050", minutes_ago=600)
    cs.add_person(
        social_worker, earlier.pk, relation="person_in_crisis", given_name="Robert", family_name="Smith",
        date_of_birth=date(1980, 3, 12),
    )  # fmt: skip
    old = Person.objects.get()
    case = claimed_case(telecommunicator, social_worker, "MP-26-000051")
    client = client_for(social_worker)
    client.post(
        f"/cases/{case.pk}/people/",
        {
            "relation": "person_in_crisis",
            "given_name": "Bob",
            "family_name": "Smith",
            "date_of_birth": "1980-03-12",
        },
    )
    new = Person.objects.exclude(pk=old.pk).get()
    people = section(page(client, case), "people")
    candidate = people[people.index(f'id="candidate-{new.pk}-{old.pk}"') :]
    assert "Robert Smith" in candidate and "67%" in candidate  # nickname .17 + family .20 + dob .30
    for reason in ("Given name is a nickname of the other", "Same family name", "Same date of birth"):
        assert reason in candidate
    assert "Prior contacts" not in people

    link_url = f"/cases/{case.pk}/people/{new.pk}/link/"
    stranger = Person.objects.create(
        given_name="Zed", family_name="Quill", created_at=timezone.now(), created_by=social_worker
    )
    assert client.post(link_url, {"other_id": stranger.pk}).status_code == 409  # not offered
    assert client.post(f"/cases/{case.pk}/people/{old.pk}/link/", {"other_id": new.pk}).status_code == 404
    assert not PersonLink.objects.exists()
    done = client.post(link_url, {"other_id": old.pk})
    assert done.status_code == 302 and done["Location"].endswith("?saved=link#people")
    link = PersonLink.objects.get()
    people = section(page(client, case), "people")
    assert "Prior contacts" in people and f'href="/cases/{earlier.pk}/"' in people
    assert "MP-26-000050" in people  # the earlier 911 call
    assert "No earlier referral." in people
    assert f'id="candidate-{new.pk}-{old.pk}"' not in people  # linked: no longer a candidate

    undo_url = f"/cases/{case.pk}/links/{link.pk}/undo/"
    missing = client.post(undo_url, {"reason": "  "})
    assert missing.status_code == 422 and "Reason: Give the reason." in missing.content.decode()
    assert client.post(f"/cases/{case.pk}/links/9999/undo/", {"reason": "x"}).status_code == 404
    undone = client.post(undo_url, {"reason": "Different person: the sister confirmed"})
    assert undone.status_code == 302
    link.refresh_from_db()
    assert link.undone_at is not None and link.undo_reason == "Different person: the sister confirmed"
    assert Person.objects.filter(pk__in=[old.pk, new.pk]).count() == 2  # nothing deleted
    assert CaseParticipant.objects.filter(case=earlier, person=old).exists()
    people = section(page(client, case), "people")
    assert "Prior contacts" not in people and "undone by sw-sam" in people
    assert f'id="candidate-{new.pk}-{old.pk}"' in people  # offered again
    assert client.post(undo_url, {"reason": "again"}).status_code == 409


# --- details, screening, safety plan, notes ---------------------------------------------------


def test_concerns_language_interpreter(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    url = f"/cases/{case.pk}/details/"
    data = {"concerns": ["mental_health", "substance_use"], "language": "Somali", "interpreter_used": "on"}
    assert client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert case.concerns() == {"mental_health", "substance_use"} and case.interpreter_used
    assert "Mental health, Substance use" in page(client, case)
    bad = client.post(url, {"concerns": ["aliens"]})
    assert bad.status_code == 422 and "Presenting concerns: Select a valid choice" in bad.content.decode()


def test_cssrs_questions_three_to_five_sit_under_question_two(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    form = section(page(client_for(social_worker), case), "cssrs")
    follow_ons = form[form.index('id="cssrs-q2-follow-ons"') : form.index('id="cssrs-q6"')]
    for q in ("q3", "q4", "q5"):
        assert f'name="{q}" value="yes"' in follow_ons
    assert 'class="q q-case q-yes_no gate' in form
    assert 'id="cssrs-q6-follow-ons"' in form and 'name="q6b"' in form


def test_cssrs_missing_answers_are_422_on_their_questions(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    response = client_for(social_worker).post(
        f"/cases/{case.pk}/assessments/cssrs_screener/", {"q1": "yes", "q2": "yes", "q6": "yes"}
    )
    assert response.status_code == 422
    html = section(response.content.decode(), "cssrs")
    for q in ("q3", "q4", "q5", "q6b"):
        fieldset = html[html.index(f'id="cssrs-{q}"') :]
        assert fieldset.index("an answer is required") < fieldset.index("</fieldset>")
    assert 'value="yes" checked' in html  # what was answered is kept
    assert not Assessment.objects.exists()


def test_cssrs_hidden_answers_are_dropped_and_high_risk_highlights_escalation(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    url = f"/cases/{case.pk}/assessments/cssrs_screener/"
    # Q3 was answered, then Q2 changed to no: Q3 is hidden, so its answer is not kept.
    low = client.post(url, {"q1": "yes", "q2": "no", "q3": "yes", "q6": "no"})
    assert low.status_code == 302 and low["Location"].endswith("?saved=cssrs#cssrs")
    first = Assessment.objects.get()
    assert first.answers == {"q1": "yes", "q2": "no", "q6": "no"} and first.risk_level == "low"
    html = page(client, case)
    assert "Low suicide risk" in section(html, "cssrs") and "Refer to behavioral health services." in html
    assert 'class="card case-section escalation-panel"' in html  # not highlighted

    assert client.post(url, HIGH_RISK).status_code == 302
    html = page(client, case)
    cssrs = section(html, "cssrs")
    assert 'data-risk="high"' in cssrs and "High suicide risk" in cssrs
    assert "Some intention of acting on the thoughts." in cssrs
    for action in ("Offer escalation to 911", "Complete a safety plan", "Do not leave the person alone"):
        assert action in cssrs
    assert "Earlier: Low suicide risk" in cssrs
    assert 'class="card case-section escalation-panel is-urgent"' in html
    assert 'href="#escalation" class="is-urgent"' in html
    assert 'id="plan-status">The screening asks for a safety plan' in html
    assert client.post(f"/cases/{case.pk}/assessments/phq9/", HIGH_RISK).status_code == 404


def test_substance_and_housing_section(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    url = f"/cases/{case.pk}/assessments/substance_housing/"
    missing = client.post(url, {"substance_use_30d": "opioids", "using_now": "no"})
    assert missing.status_code == 422 and "an answer is required" in section(
        missing.content.decode(), "context"
    )
    answers = {
        "substance_use_30d": "opioids",
        "using_now": "no",
        "overdose_12m": "yes",
        "housing_status": "unsheltered",
    }
    assert client.post(url, answers).status_code == 302
    context = section(page(client, case), "context")
    assert "Offer naloxone (and where to get it)." in context and "Refer to housing services." in context
    assert "An overdose in the past 12 months." in context and ">Unsheltered</span>" in context
    assert '<option value="stimulants">Stimulants</option>' in context


def test_safety_plan_complete_or_incomplete_in_words(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    url = f"/cases/{case.pk}/safety-plan/"
    assert (
        client.post(
            url, {"warning_signs": "Not sleeping", "professionals_and_agencies": "Dr. Lee"}
        ).status_code
        == 302
    )
    plan = section(page(client, case), "safety-plan")
    assert 'data-complete="false"' in plan
    assert "Include the 988 Suicide &amp; Crisis Lifeline among the contacts." in plan
    assert "Add a step on making the environment safe" in plan
    assert client.post(url, COMPLETE_PLAN).status_code == 302
    plan = section(page(client, case), "safety-plan")
    assert 'data-complete="true"' in plan and "Pills locked away by sister" in plan  # the form keeps the plan


def test_notes_are_timestamped_and_validated(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    url = f"/cases/{case.pk}/notes/"
    assert client.post(url, {"kind": "counseling", "text": "Talked through the evening."}).status_code == 302
    note = CaseNote.objects.get()
    notes = section(page(client, case), "notes")
    assert "Counseling" in notes and "Talked through the evening." in notes
    assert timezone.localtime(note.written_at).strftime("%H:%M") in notes
    empty = client.post(url, {"kind": "counseling", "text": "   "})
    assert empty.status_code == 422 and "Note: Write the note." in empty.content.decode()
    bad = client.post(url, {"kind": "gossip", "text": "x"})
    assert bad.status_code == 422 and CaseNote.objects.count() == 1


# --- escalation back to 911 and its acknowledgement --------------------------------------------


def strip_version(html: str) -> str:
    return html.split('id="escalations-v" name="v" value="', 1)[1].split('"', 1)[0]


def test_escalate_from_the_case_and_a_telecommunicator_acknowledges(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, make_user: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    sw = client_for(social_worker)
    url = f"/cases/{case.pk}/escalate/"
    missing = sw.post(url, {"responder": "ems", "reason": " "})
    assert (
        missing.status_code == 422
        and "Reason: Say why the call goes back to 911." in missing.content.decode()
    )
    assert sw.post(url, {"responder": "coast_guard", "reason": "x"}).status_code == 422
    assert not Escalation.objects.exists()

    done = sw.post(url, {"responder": "ems", "reason": "Took pills an hour ago."})
    assert done.status_code == 302 and done["Location"].endswith("?saved=escalated#escalation")
    escalation = Escalation.objects.get()
    case.refresh_from_db()
    assert case.status == "escalated" and Transfer.objects.get(pk=case.transfer_id).status == "escalated"
    html = page(sw, case)
    assert "Escalated to 911 for EMS" in html and 'data-ack="waiting"' in html
    assert f'hx-get="/cases/{case.pk}/escalations/live/" hx-trigger="every 2s"' in html
    again = sw.post(url, {"responder": "police", "reason": "again"})
    assert again.status_code == 409 and "The case was already escalated to 911." in again.content.decode()

    # Every console shows it, prominently, until one telecommunicator acknowledges it.
    tc = client_for(telecommunicator)
    other_tc = client_for(make_user("telecommunicator", "tc-two"))
    console = tc.get("/console/").content.decode()
    assert 'hx-get="/console/escalations/live/" hx-trigger="every 2s"' in console
    strip = other_tc.get("/console/escalations/live/", **HTMX).content.decode()
    assert 'role="alert"' in strip and ">EMS<" in strip and "Took pills an hour ago." in strip
    assert case.call is not None and case.call.incident_id in strip and "sw-sam" in strip
    assert other_tc.get("/console/escalations/live/", {"v": strip_version(strip)}, **HTMX).status_code == 204
    assert (
        client_for(social_worker).post(f"/console/escalations/{escalation.pk}/acknowledge/").status_code
        == 403
    )
    acked = tc.post(f"/console/escalations/{escalation.pk}/acknowledge/", **HTMX)
    assert acked.status_code == 200 and 'role="alert"' not in acked.content.decode()
    escalation.refresh_from_db()
    assert escalation.acknowledged_by == telecommunicator and escalation.acknowledged_at is not None
    assert 'role="alert"' not in other_tc.get("/console/escalations/live/", **HTMX).content.decode()
    assert tc.post("/console/escalations/999/acknowledge/", **HTMX).status_code == 404

    live = sw.get(f"/cases/{case.pk}/escalations/live/", **HTMX)
    assert live.status_code == 286  # htmx stops polling: it was acknowledged
    assert "Acknowledged by <strong>tc-alex</strong> after" in live.content.decode()


def test_escalation_offered_and_declined_is_recorded(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    url = f"/cases/{case.pk}/escalation-declined/"
    assert client.post(url, {"note": ""}).status_code == 422
    assert client.post(url, {"note": "Offered EMS; she refused, sister is with her."}).status_code == 302
    html = page(client, case)
    assert 'id="escalation-declined"' in html
    assert "Escalation offered and declined: Offered EMS; she refused" in section(html, "notes")


def test_supervisor_floor_alerts_on_an_unacknowledged_escalation(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, supervisor: Any
) -> None:
    late = claimed_case(telecommunicator, social_worker, "MP-26-000201")
    recent = claimed_case(telecommunicator, social_worker, "MP-26-000202")
    cs.escalate_case(
        social_worker, late.pk, "police", "Knife in the kitchen", now=timezone.now() - timedelta(seconds=120)
    )
    cs.escalate_case(social_worker, recent.pk, "ems", "Dizzy", now=timezone.now() - timedelta(seconds=5))
    client = client_for(supervisor)
    for url in ("/floor/live/", "/floor/casework/live/"):
        html = client.get(url, **HTMX).content.decode()
        alert = html[
            html.index('id="escalation-alerts"') : html.index(
                "</section>", html.index('id="escalation-alerts"')
            )
        ]
        assert "not acknowledged within 60 s" in alert  # the protocol's escalation_ack_seconds
        assert "Knife in the kitchen" in alert and "MP-26-000201" in alert
        assert "Dizzy" not in alert  # 5 s: not yet past the limit
    cs.acknowledge_escalation(telecommunicator, Escalation.objects.get(case=late).pk)
    assert 'id="escalation-alerts"' not in client.get("/floor/live/", **HTMX).content.decode()


# --- consent, follow-up, close, reopen -----------------------------------------------------------


def test_follow_up_needs_a_consent(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    follow = section(page(client, case), "follow-up")
    assert "Schedule follow-up" not in follow and "a follow-up needs the person" in follow
    assert 'value="(612) 555-0142"' in follow  # the caller's number, prefilled
    assert client.post(f"/cases/{case.pk}/follow-ups/", {"consent_id": 999}).status_code == 404
    consent = {"given_by": "Dana", "relation": "caller", "method": "verbal_on_call", "channel": "phone"}
    missing = client.post(f"/cases/{case.pk}/consents/", consent)
    assert (
        missing.status_code == 422
        and "Number to contact: This field is required." in missing.content.decode()
    )
    assert (
        client.post(f"/cases/{case.pk}/consents/", {**consent, "contact": "612-555-0142"}).status_code == 302
    )
    row = ContactConsent.objects.get()
    follow = section(page(client, case), "follow-up")
    assert f'id="schedule-{row.pk}"' in follow and "Verbally, on the call".lower() in follow
    done = client.post(f"/cases/{case.pk}/follow-ups/", {"consent_id": row.pk})
    assert done.status_code == 302 and done["Location"].endswith("?saved=follow_up#follow-up")
    follow_up = FollowUp.objects.get()
    assert follow_up.case_id == case.pk and follow_up.assigned_to == social_worker
    again = client.post(f"/cases/{case.pk}/follow-ups/", {"consent_id": row.pk})
    assert (
        again.status_code == 409
        and "A follow-up on this consent is already planned." in again.content.decode()
    )
    # Another case's consent is not this case's to schedule.
    other = claimed_case(telecommunicator, social_worker, "MP-26-000102")
    assert client.post(f"/cases/{other.pk}/follow-ups/", {"consent_id": row.pk}).status_code == 404


def refusal_reasons(html: str) -> list[str]:
    block = section(html, "close")
    assert 'role="alert"' in block and "The case cannot close yet:" in block
    return [r for r in REASON_TEXT.values() if escape(r) in block]


def test_close_refused_lists_every_reason_in_words(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    url = f"/cases/{case.pk}/close/"
    nothing = client.post(url, {"disposition": "", "reason": ""})
    assert nothing.status_code == 409
    assert refusal_reasons(nothing.content.decode()) == [
        REASON_TEXT["disposition_unknown"],
        REASON_TEXT["close_reason_missing"],
    ]
    cs.record_assessment(social_worker, case.pk, "cssrs_screener", HIGH_RISK)
    high = client.post(url, {"disposition": "resolved_by_phone", "reason": " "})
    assert high.status_code == 409
    assert refusal_reasons(high.content.decode()) == [
        REASON_TEXT["close_reason_missing"],
        REASON_TEXT["concern_missing"],
        REASON_TEXT["high_risk_escalation_not_offered"],
        REASON_TEXT["high_risk_safety_plan_missing"],
    ]
    assert '<option value="resolved_by_phone" selected>Resolved by phone</option>' in high.content.decode()
    police = client.post(url, {"disposition": "police_requested", "reason": "sent"})
    assert refusal_reasons(police.content.decode()) == [
        REASON_TEXT["concern_missing"],
        REASON_TEXT["responder_disposition_needs_escalation"],
    ]
    case.refresh_from_db()
    assert case.status == "open"


def test_close_then_reopen(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    cs.update_case_details(social_worker, case.pk, concerns={"mental_health"})
    done = client.post(
        f"/cases/{case.pk}/close/", {"disposition": "resolved_by_phone", "reason": "Calmer, has a plan"}
    )
    assert done.status_code == 302 and done["Location"].endswith("?saved=closed#close")
    case.refresh_from_db()
    assert case.status == "closed" and case.disposition == "resolved_by_phone"
    assert Transfer.objects.get(pk=case.transfer_id).status == "completed"
    html = page(client, case)
    assert "Resolved by phone" in section(html, "close") and f'action="/cases/{case.pk}/reopen/"' in html
    assert f'action="/cases/{case.pk}/notes/"' not in html  # closed: read-only but for reopen
    closed = client.post(f"/cases/{case.pk}/close/", {"disposition": "resolved_by_phone", "reason": "again"})
    assert closed.status_code == 409 and REASON_TEXT["case_not_open"] in closed.content.decode()
    note = client.post(f"/cases/{case.pk}/notes/", {"kind": "other", "text": "late"})
    assert (
        note.status_code == 409
        and "The case is closed: reopen it to add a note to it." in note.content.decode()
    )
    escalate = client.post(f"/cases/{case.pk}/escalate/", {"responder": "ems", "reason": "now"})
    assert escalate.status_code == 409 and "The case is closed: reopen it first." in escalate.content.decode()
    assert client.post(f"/cases/{case.pk}/reopen/", {"reason": ""}).status_code == 422
    assert client.post(f"/cases/{case.pk}/reopen/", {"reason": "She called back"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "open" and case.disposition == ""
    again = client.post(f"/cases/{case.pk}/reopen/", {"reason": "twice"})
    assert (
        again.status_code == 409
        and "The case is not closed: there is nothing to reopen." in again.content.decode()
    )


def test_escalated_case_closes_only_as_a_responder_disposition(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    cs.update_case_details(social_worker, case.pk, concerns={"mental_health"})
    cs.escalate_case(social_worker, case.pk, "ems", "Overdose")
    client = client_for(social_worker)
    wrong = client.post(f"/cases/{case.pk}/close/", {"disposition": "resolved_by_phone", "reason": "x"})
    assert refusal_reasons(wrong.content.decode()) == [
        REASON_TEXT["escalated_case_needs_responder_disposition"]
    ]
    assert (
        client.post(
            f"/cases/{case.pk}/close/", {"disposition": "ems_requested", "reason": "EMS took her"}
        ).status_code
        == 302
    )


# --- my cases, callback cases -------------------------------------------------------------------


def test_my_cases_and_a_new_callback_case(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    client = client_for(social_worker)
    html = client.get("/cases/").content.decode()
    assert f'href="/cases/{case.pk}/"' in html and "Emotionally Disturb Person" in html
    assert 'action="/cases/new/"' in html
    response = client.post("/cases/new/", {"note": "Ms. Ortiz rang the desk, call her back"})
    new = Case.objects.exclude(pk=case.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{new.pk}/"
    assert new.origin == "callback" and new.call_id is None and new.owner == social_worker
    html = page(client, new)
    assert "Callback case" in html and "Ms. Ortiz rang the desk" in section(html, "notes")
    assert client.post("/cases/new/", {"note": "x" * 5000}).status_code == 422


# --- supervisor's casework view -----------------------------------------------------------------


def casework_fixture(tc: Any, sw: Any, n: int, start: int) -> None:
    """n open cases, each escalated (half acknowledged) with an overdue after-case follow-up."""
    for i in range(n):
        case = claimed_case(tc, sw, f"MP-26-00{start + i:04d}", minutes_ago=60 * 30)  # 30 h ago: overdue
        consent = cs.record_consent(
            sw, case.pk, given_by="caller", relation="caller", method="verbal_on_call", contact="612-555-0142"
        )
        cs.schedule_follow_up(sw, consent.pk)
        escalation = cs.escalate_case(sw, case.pk, "ems", f"reason {i}")
        if i % 2:
            cs.acknowledge_escalation(tc, escalation.pk)


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **HTMX).status_code == 200
    return len(ctx.captured_queries)


def test_supervisor_casework_view_and_its_query_count(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, supervisor: Any
) -> None:
    casework_fixture(telecommunicator, social_worker, 2, 1)
    client = client_for(supervisor)
    page_html = client.get("/floor/casework/").content.decode()
    assert 'hx-get="/floor/casework/live/" hx-trigger="every 5s"' in page_html
    html = client.get("/floor/casework/live/", **HTMX).content.decode()
    open_cases = html[html.index('id="open-cases"') :]
    assert (
        open_cases.count('href="/cases/') >= 2 and "sw-sam" in open_cases and "Escalated to 911" in open_cases
    )
    today = html[html.index('id="escalations-today"') :]
    assert "by tc-alex" in today and "not yet" in today
    overdue = html[html.index('id="overdue-follow-ups"') :]
    assert overdue.count("<tr>") >= 3 and "0 / 3" in overdue  # header + 2 rows
    few = count_queries(client, "/floor/casework/live/")
    casework_fixture(telecommunicator, social_worker, 6, 10)
    many = count_queries(client, "/floor/casework/live/")
    assert many == few, f"{few} queries for 2 cases, {many} for 8: the page grows with its rows"
