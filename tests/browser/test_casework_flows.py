"""The casework flows a person clicks through, in real Chromium against the live server:

1. claim -> assess (C-SSRS, high risk) -> escalate to 911 -> a telecommunicator acknowledges;
2. claim -> resolve by phone -> the consented follow-up appears in the worklist -> attempts -> done.

Screenshots of the case workspace, the console's escalation strip and the worklist go to
tests/browser/artifacts/.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisisdesk.calls import services
from crisisdesk.calls.models import Escalation, Transfer
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.calls.schemas import CadCall
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import Case, FollowUp, FollowUpPolicyVersion
from crisisdesk.domain.followups import DEFAULT_POLICY, policy_document
from tests.calls.builders import ALL_CLEAR, cad_record
from tests.conftest import protocol_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def transfer_waiting(make_user: Any, incident: str) -> Transfer:
    """The desk open, Alex (telecommunicator) and Sam (social worker) signed up, a call transferred."""
    publish_protocol(None, protocol_text(version="browser-open", always_open=True), system=True)
    tc = make_user("telecommunicator", "tc-alex", first_name="Alex", last_name="Rivera")
    sw = make_user("social_worker", "sw-sam", first_name="Sam", last_name="Okafor")
    cad = make_user("cad_integration", "cad-mecc")
    if not FollowUpPolicyVersion.objects.filter(is_active=True).exists():
        # A transactional test's flush removes the default policy its data migration installed.
        admin = make_user("administrator", "admin-lee")
        cs.publish_follow_up_policy(admin, policy_document(DEFAULT_POLICY), "default, after the test flush")
    services.set_availability(sw, "available")
    received = (timezone.now() - timedelta(minutes=3)).isoformat()
    record = cad_record(
        incident, narrative="Caller worried about her brother, says he has pills.", received_at=received
    )
    call = services.intake_call(cad, CadCall.model_validate(record)).call
    services.screen_call(tc, call.pk, dict(ALL_CLEAR))
    return services.request_transfer(tc, call.pk)


def claim_and_open_the_case(page: Any, transfer: Transfer) -> Case:
    """From the queue: Claim -> straight to the case workspace the claim opened."""
    page.locator(f"#claim-{transfer.pk}").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))  # the claim answered before we look
    case = Case.objects.get(transfer=transfer)
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(page.locator("#case-title")).to_contain_text("Emotionally Disturb Person")
    expect(page.locator("#call")).to_contain_text("Every safety check passed")
    return case


def test_claim_assess_high_risk_escalate_and_acknowledge(new_page: Any, shot: Any, make_user: Any) -> None:
    transfer = transfer_waiting(make_user, "MP-26-000700")
    console = new_page("tc-alex")  # the console is open: its escalation strip polls
    expect(console).to_have_url(re.compile(r"/console/$"))
    expect(console.locator("#escalations [role='alert']")).to_have_count(0)

    sw = new_page("sw-sam")
    case = claim_and_open_the_case(sw, transfer)

    # C-SSRS: Q3-Q5 are asked only after a "yes" to Q2.
    q3 = sw.locator("#cssrs-q3")
    expect(q3).to_be_hidden()
    sw.locator("label[for='cssrs-q1-yes']").click()
    sw.locator("label[for='cssrs-q2-yes']").click()
    expect(q3).to_be_visible()
    for answer in ("q3-yes", "q4-yes", "q5-no", "q6-no"):
        sw.locator(f"label[for='cssrs-{answer}']").click()
    expect(sw.locator("#cssrs-q6b")).to_be_hidden()  # Q6 is no: "within 3 months?" is not asked
    sw.get_by_role("button", name="Save and score the screening").click()
    expect(sw.locator("#saved-cssrs")).to_have_text("Screening saved.")
    result = sw.locator("#cssrs-result")
    expect(result).to_have_attribute("data-risk", "high")
    expect(result.locator(".risk-level")).to_have_text("High suicide risk")
    expect(result.locator(".required-actions")).to_contain_text("Offer escalation to 911")
    expect(result.locator(".required-actions")).to_contain_text("Do not leave the person alone")
    expect(sw.locator("#escalation")).to_have_class(re.compile(r"\bis-urgent\b"))
    expect(sw.locator("#escalation [role='alert']")).to_contain_text("High suicide risk")
    sw.locator("#call").scroll_into_view_if_needed()
    shot(sw, "10-case-workspace-high-risk")

    # One action from the case: responder and reason.
    sw.locator("label[for='case-esc-ems']").click()
    sw.locator("#case-esc-reason").fill("Took pills an hour ago; needs EMS now.")
    sw.get_by_role("button", name=re.compile("^Escalate to 911")).click()
    expect(sw.locator("#case-title .case-status")).to_have_text("Escalated to 911")
    expect(sw.locator("#case-escalations [data-ack='waiting']")).to_be_visible()

    # Every console shows it at once (it polls every 2 s) until someone acknowledges it.
    strip = console.locator("#escalations [role='alert']")
    expect(strip).to_contain_text("EMS", timeout=5000)
    expect(strip).to_contain_text("Took pills an hour ago; needs EMS now.")
    expect(strip).to_contain_text("MP-26-000700")
    expect(strip).to_contain_text("Sam Okafor")
    shot(console, "11-console-escalation-strip")
    console.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(strip).to_have_count(0)
    escalation = Escalation.objects.select_related("acknowledged_by").get(case=case)
    assert escalation.acknowledged_by is not None and escalation.acknowledged_by.username == "tc-alex"
    assert escalation.responder == "ems" and Transfer.objects.get(pk=transfer.pk).status == "escalated"

    # The social worker's case page follows the acknowledgement by itself.
    done = sw.locator("#case-escalations [data-ack='done']")
    expect(done).to_contain_text("Acknowledged by Alex Rivera", timeout=5000)
    shot(sw, "12-case-escalation-acknowledged")

    # The supervisor's casework view: the open case and the time to acknowledgement.
    make_user("supervisor", "sup-pat", first_name="Pat", last_name="Lind")
    sup = new_page("sup-pat")
    sup.get_by_role("link", name="Casework").click()
    expect(sup.locator("#escalations-today")).to_contain_text("by Alex Rivera")
    expect(sup.locator("#open-cases")).to_contain_text("Sam Okafor")
    expect(sup.locator("#escalation-alerts")).to_have_count(0)  # acknowledged in time
    shot(sup, "16-supervisor-casework")


def test_claim_resolve_by_phone_follow_up_attempts(new_page: Any, shot: Any, make_user: Any) -> None:
    transfer = transfer_waiting(make_user, "MP-26-000800")
    sw = new_page("sw-sam")
    case = claim_and_open_the_case(sw, transfer)

    # The person, a concern and a note.
    sw.get_by_label("Given name").fill("Dana")
    sw.get_by_label("Family name").fill("Ortiz")
    sw.locator("#person-phone").fill("612-555-01")  # mistyped: kept as typed and flagged
    sw.get_by_role("button", name="Add the person").click()
    expect(sw.locator("#saved-people")).to_have_text("Person added.")
    expect(sw.locator("#people .phone-flag")).to_contain_text("it looks wrong")
    sw.locator("label[for='concern-mental_health']").click()
    sw.locator("#details-form").get_by_role("button", name="Save").click()
    expect(sw.locator(".case-head .facts")).to_contain_text("Mental health")
    sw.locator("#note-kind").select_option("counseling")
    sw.locator("#note-text").fill("Talked through the evening; her sister is coming over.")
    sw.get_by_role("button", name="Add the note").click()
    expect(sw.locator("#notes .note-item")).to_contain_text("her sister is coming over")

    # Consent first: the follow-up button only exists with one.
    expect(sw.get_by_role("button", name="Schedule follow-up")).to_have_count(0)
    sw.get_by_label("Consent given by (name or role)", exact=True).fill("Dana Ortiz")
    expect(sw.locator("#consent-contact")).to_have_value("(612) 555-0142")  # the caller's number
    sw.get_by_role("button", name="Record consent").click()
    expect(sw.locator("#saved-follow-up")).to_have_text("Consent to contact recorded.")
    sw.get_by_role("button", name="Schedule follow-up").click()
    expect(sw.locator("#saved-follow-up")).to_have_text("Follow-up planned: it is on your worklist.")

    # Resolved by phone.
    sw.locator("#close-disposition").select_option("resolved_by_phone")
    sw.locator("#close-reason").fill("Calmer; sister with her; agreed to a call tomorrow.")
    sw.get_by_role("button", name="Close the case").click()
    expect(sw.locator("#closed-as")).to_contain_text("Resolved by phone")
    expect(sw.locator("#case-title .case-status")).to_have_text("Closed")
    sw.locator("#case-title").scroll_into_view_if_needed()
    shot(sw, "13-case-workspace-closed")

    # The worklist: due, 0 of 3 attempts; two attempts later it is done.
    follow_up = FollowUp.objects.get(case=case)
    sw.get_by_role("link", name="Follow-ups").click()
    expect(sw).to_have_url(re.compile(r"/follow-ups/$"))
    row = sw.locator(f"#fu-{follow_up.pk}")
    expect(row).to_have_attribute("data-state", "due")
    expect(row).to_contain_text("(612) 555-0142")
    expect(row.locator(".attempts")).to_have_text("0 / 3 attempts")
    expect(sw.locator("#count-due")).to_have_text("1")
    shot(sw, "14-worklist-due")

    row.get_by_text("Record an attempt").click()
    row.get_by_label("Outcome").select_option("no_answer")
    row.get_by_label("Notes").fill("Rang 8 times, no voicemail")
    row.get_by_role("button", name="Record the attempt").click()
    row = sw.locator(f"#fu-{follow_up.pk}")
    expect(row.locator(".attempts")).to_have_text("1 / 3 attempts")
    expect(row.locator(".attempt-list")).to_contain_text("No answer")

    row.get_by_text("Record an attempt").click()
    row.get_by_label("Outcome").select_option("reached")
    row.get_by_label("Notes").fill("Doing better; has an appointment Friday")
    row.get_by_role("button", name="Record the attempt").click()
    row = sw.locator(f"#fu-{follow_up.pk}")
    expect(row).to_have_attribute("data-state", "done")
    expect(row).to_contain_text("Completed: reached")
    expect(sw.locator("#count-done")).to_have_text("1")
    expect(sw.locator("#count-due")).to_have_text("0")
    shot(sw, "15-worklist-done")
    follow_up.refresh_from_db()
    case.refresh_from_db()
    assert (
        follow_up.status == "completed"
        and case.status == "closed"
        and case.disposition == "resolved_by_phone"
    )
