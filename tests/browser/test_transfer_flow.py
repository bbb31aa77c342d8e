"""The flows a person clicks through, in real Chromium: screen, transfer, live queue, claim, timeout."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from crisisdesk.calls import services
from crisisdesk.calls.models import FallbackRoute, Transfer
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.calls.schemas import CadCall
from tests.calls.builders import cad_record
from tests.conftest import protocol_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXCLUSIONS = (
    "weapon",
    "violence",
    "crime_in_progress",
    "medical_emergency",
    "imminent_risk",
    "caller_requests_police",
)


def cad_call(actor: Any, incident: str, call_type: str = "Emotionally Disturb Person") -> Any:
    return services.intake_call(actor, CadCall.model_validate(cad_record(incident, call_type))).call


def test_screen_transfer_live_queue_claim(new_page: Any, shot: Any, make_user: Any) -> None:
    publish_protocol(None, protocol_text(version="browser-open", always_open=True), system=True)
    make_user("telecommunicator", "tc-alex", first_name="Alex", last_name="Rivera")
    make_user("social_worker", "sw-sam", first_name="Sam", last_name="Okafor")
    cad = make_user("cad_integration", "cad-mecc")
    call = cad_call(cad, "MP-26-000555")

    # The social worker's queue is open before anything is transferred.
    queue = new_page("sw-sam")
    expect(queue).to_have_url(re.compile(r"/queue/$"))
    queue.get_by_role("button", name="Available").click()
    expect(queue.locator("#availability .chip")).to_have_text("available")
    queue.evaluate("window.__noReload = true")
    shot(queue, "01-queue-empty")

    console = new_page("tc-alex")
    expect(console).to_have_url(re.compile(r"/console/$"))
    console.locator(f"#call-link-{call.pk}").click()
    expect(console.locator("#call-title")).to_contain_text("Emotionally Disturb Person")
    for question in EXCLUSIONS:
        console.locator(f"label[for='q-{question}-no']").click()
    console.locator("label[for='q-caller_accepts_social_worker-yes']").click()
    shot(console, "02-console-screening")
    console.get_by_role("button", name=re.compile("^Decide")).click()
    expect(console.locator('#decision [data-outcome="transfer"]')).to_have_text(
        "Transfer to the social worker"
    )
    expect(console.locator("#decision .reasons")).to_contain_text("Every safety check passed")
    expect(console.locator("#decision .reason-code")).to_have_text("eligible")
    shot(console, "03-console-decision-transfer")

    clicked = time.monotonic()
    console.locator("#transfer-button").click()
    item = queue.locator("[data-incident='MP-26-000555']")
    expect(item).to_be_visible(timeout=2000)  # without a reload, within 2 s of the click
    appeared = time.monotonic() - clicked
    assert appeared < 2.0, f"the transfer took {appeared:.2f} s to appear in the queue"
    assert queue.evaluate("window.__noReload") is True
    expect(console.locator('#transfer-status [data-status="requested"]')).to_be_visible()
    shot(queue, "04-queue-new-transfer")
    shot(console, "05-console-requested")

    transfer = Transfer.objects.get(call=call)
    queue.locator(f"#claim-{transfer.pk}").click()
    expect(queue).to_have_url(re.compile(r"/cases/\d+/$"))  # the claim opened the case
    case = Transfer.objects.get(pk=transfer.pk).case
    expect(queue).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(queue.locator("#case-title")).to_contain_text("Emotionally Disturb Person")
    shot(queue, "06-social-worker-call")

    expect(console.locator('#transfer-status [data-status="claimed"]')).to_be_visible(timeout=3000)
    expect(console.locator("#transfer-status .claimed-by")).to_have_text("Sam Okafor")
    shot(console, "07-console-claimed")


def test_unclaimed_transfer_times_out_into_the_fallback(new_page: Any, shot: Any, make_user: Any) -> None:
    publish_protocol(
        None, protocol_text(version="browser-timeout", always_open=True, timeout=10), system=True
    )
    make_user("telecommunicator", "tc-alex", first_name="Alex", last_name="Rivera")
    sw = make_user("social_worker", "sw-sam", first_name="Sam", last_name="Okafor")
    services.set_availability(sw, "available")  # available, but nobody claims
    cad = make_user("cad_integration", "cad-mecc")
    call = cad_call(cad, "MP-26-000666", "Check the Welfare")

    console = new_page("tc-alex")
    # Keyboard only: open the call, answer with the arrow keys and Tab, decide, transfer.
    console.locator(f"#call-link-{call.pk}").focus()
    console.keyboard.press("Enter")
    expect(console.locator("#q-weapon-yes")).to_be_focused()  # autofocus on the first question
    for _ in EXCLUSIONS:
        console.keyboard.press("ArrowRight")  # Yes -> No
        console.keyboard.press("Tab")  # next question
    console.keyboard.press("Space")  # the caller accepts: Yes
    expect(console.locator("#q-caller_accepts_social_worker-yes")).to_be_checked()
    for question in EXCLUSIONS:
        expect(console.locator(f"#q-{question}-no")).to_be_checked()
    console.keyboard.press("Tab")
    expect(console.locator("#decide-button")).to_be_focused()
    console.keyboard.press("Enter")
    expect(console.locator("#transfer-button")).to_be_focused()  # autofocus: Enter transfers
    console.keyboard.press("Enter")
    expect(console.locator('#transfer-status [data-status="requested"]')).to_be_visible()

    alert = console.locator("#transfer-status [role='alert']")
    expect(alert).to_be_visible(timeout=12_000)
    expect(alert).to_contain_text("Nobody claimed the transfer")
    for option in (
        "County mobile crisis team",
        "988 Suicide & Crisis Lifeline",
        "Callback when the social worker is free",
    ):
        expect(alert).to_contain_text(option)
    expect(console.locator("#alerts [role='alert']")).to_contain_text("MP-26-000666", timeout=3000)
    shot(console, "08-console-timed-out-alert")

    console.locator("label[for='fb-988']").click()
    console.get_by_role("button", name=re.compile("^Record the fallback")).click()
    expect(console.locator(".fallbacks-taken")).to_contain_text("988 Suicide & Crisis Lifeline")
    shot(console, "09-console-fallback-recorded")
    route = FallbackRoute.objects.select_related("transfer").get(call=call)
    assert route.option == "988" and route.transfer is not None and route.transfer.status == "timed_out"
