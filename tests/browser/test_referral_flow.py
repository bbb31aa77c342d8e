"""The referral flow a social worker clicks through, in real Chromium against the live server:

from a case, search the directory for housing support open now, refer with the person's consent,
record the agency's acceptance (manual mode: what it said, who, when, how), see the follow-up check
appear in the worklist, complete the referral; the tracker and the FHIR download follow.

Screenshots go to tests/browser/artifacts/ (20-*.png).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisisdesk.calls import services
from crisisdesk.calls.models import Transfer
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.calls.schemas import CadCall
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import Case, FollowUp, FollowUpPolicyVersion
from crisisdesk.directory.models import Organization, Service, ServiceTag
from crisisdesk.domain.followups import DEFAULT_POLICY, policy_document
from crisisdesk.referrals.models import Referral
from tests.calls.builders import ALL_CLEAR, cad_record
from tests.conftest import protocol_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def housing_services() -> tuple[Service, Service]:
    """Two housing listings: one open around the clock, one with no hours (never "open now")."""
    now = timezone.now()
    out = []
    for name, org, hours in (
        ("Housing Support Walk-in", "Hennepin Housing Help", "open_24_7"),
        ("Housing Counseling by Appointment", "Northside Housing", ""),
    ):
        organization = Organization.objects.create(hsds_id=str(uuid.uuid4()), name=org, updated_at=now)
        service = Service.objects.create(
            hsds_id=str(uuid.uuid4()), organization=organization, name=name, status="active", updated_at=now,
            description="Help with rent, eviction notices and finding housing.", last_verified_at=now,
        )  # fmt: skip
        ServiceTag.objects.create(service=service, kind="need", value="housing_support")
        if hours:
            ServiceTag.objects.create(service=service, kind="hours", value=hours)
        out.append(service)
    return out[0], out[1]


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
    record = cad_record(incident, narrative="Caller says her landlord locked her out.", received_at=received)
    call = services.intake_call(cad, CadCall.model_validate(record)).call
    services.screen_call(tc, call.pk, dict(ALL_CLEAR))
    return services.request_transfer(tc, call.pk)


def minute_now() -> str:
    """Now in America/Chicago, as a datetime-local field takes it (to the minute)."""
    return timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")


def test_refer_from_a_case_accept_follow_up_and_complete(new_page: Any, shot: Any, make_user: Any) -> None:
    open_now, by_appointment = housing_services()
    transfer = transfer_waiting(make_user, "MP-26-000900")
    sw = new_page("sw-sam")

    # Claim -> the case; the person is recorded.
    sw.locator(f"#claim-{transfer.pk}").click()
    expect(sw).to_have_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get(transfer=transfer)
    sw.get_by_label("Given name").fill("Dana")
    sw.get_by_label("Family name").fill("Ortiz")
    sw.locator("#person-phone").fill("612-555-0142")
    sw.get_by_role("button", name="Add the person").click()
    expect(sw.locator("#saved-people")).to_have_text("Person added.")
    expect(sw.locator("#no-referrals")).to_be_visible()

    # From the case: search the directory for housing support, open now.
    sw.locator("#find-service").click()
    expect(sw).to_have_url(re.compile(rf"/directory/\?case={case.pk}$"))
    expect(sw.locator("#from-case")).to_contain_text(f"case {case.pk}")
    filters = sw.locator("#directory-filters")
    filters.get_by_label("Housing support").check()
    filters.locator("select[name='when']").select_option("now")  # "Open now"
    filters.get_by_role("button", name="Search").click()
    result = sw.locator(f"#service-{open_now.pk}")
    expect(result).to_be_visible()
    expect(result).to_contain_text("Open 24 hours")
    expect(sw.locator(f"#service-{by_appointment.pk}")).to_have_count(0)  # not open now
    shot(sw, "20-directory-housing-open-now")

    # Refer: the case has no consent for this service, so the page asks who agreed and how.
    result.get_by_role("link", name=re.compile("^Refer")).click()
    expect(sw.locator("#refer-title")).to_have_text("Refer to Housing Support Walk-in")
    expect(sw.get_by_label("Consent given by (name or role)")).to_have_value("Dana Ortiz")
    expect(sw.get_by_label("Number to contact about the referral")).to_have_value("612-555-0142")
    expect(sw.get_by_label("Need", exact=True)).to_have_value("housing_instability")
    sw.get_by_label(re.compile("^For the agency")).fill(
        "Locked out by her landlord tonight; needs help with the lease."
    )
    shot(sw, "21-refer-with-consent")
    sw.get_by_role("button", name="Record consent, refer and send").click()

    referral = Referral.objects.get(case=case)
    expect(sw).to_have_url(
        re.compile(rf"/cases/{case.pk}/\?saved=referral_sent&ref={referral.pk}#referral-{referral.pk}$")
    )
    expect(sw.locator("#saved-referrals")).to_contain_text("Referred and sent")
    item = sw.locator(f"#referral-{referral.pk}")
    expect(item.locator(".ref-status")).to_have_text("Sent: waiting for the agency")
    expect(item.locator(".ref-history")).to_contain_text("Sent to the agency")
    expect(item.locator(".ref-check")).to_contain_text("check due by")

    # The agency phones back: accepted. Manual mode records what it said, who, when and how.
    item.get_by_text("Record what the agency said").click()
    form = item.locator(f"#report-{referral.pk}")
    expect(form.get_by_label("Accepted")).to_be_checked()
    form.get_by_label("When they said it").fill(minute_now())
    form.get_by_label("Who said it").fill("Maria, intake")
    form.get_by_label("What they said").fill("We can see her tomorrow at 10; bring the lease.")
    form.get_by_role("button", name="Record it").click()
    item = sw.locator(f"#referral-{referral.pk}")
    expect(item.locator(".ref-status")).to_have_text("Accepted by the agency")
    expect(item.locator(".ref-history")).to_contain_text("We can see her tomorrow at 10; bring the lease.")
    expect(item.locator(".ref-history")).to_contain_text("Maria, intake")
    item.scroll_into_view_if_needed()
    shot(sw, "22-referral-accepted")

    # The follow-up check is on the worklist.
    check = FollowUp.objects.get(referral=referral)
    sw.get_by_role("link", name="Follow-ups").click()
    row = sw.locator(f"#fu-{check.pk}")
    expect(row).to_have_attribute("data-state", "due")
    expect(row).to_contain_text("Referral check: did the person get connected to Housing Support Walk-in?")
    expect(row.locator(".ref-status")).to_have_text("referral accepted")
    expect(row).to_contain_text("612-555-0142")
    shot(sw, "23-worklist-referral-check")

    # Back to the case: the person went, and the agency confirms. Complete.
    row.get_by_role("link", name=f"Case {case.pk}").click()
    item = sw.locator(f"#referral-{referral.pk}")
    item.get_by_text("Record what the agency said").click()
    form = item.locator(f"#report-{referral.pk}")
    form.get_by_label("Completed: the person got the service").check()
    form.get_by_label("How it reached you").select_option("in_person")
    form.get_by_label("When they said it").fill(minute_now())
    form.get_by_label("What they said").fill("Dana came in; the lease problem is sorted.")
    form.get_by_role("button", name="Record it").click()
    item = sw.locator(f"#referral-{referral.pk}")
    expect(item.locator(".ref-status")).to_have_text("Completed")
    expect(item.locator(f"#report-{referral.pk}")).to_have_count(0)  # nothing more to report
    kinds = item.locator(".ref-history li")
    expect(kinds).to_have_count(4)  # written, sent, accepted, completed
    shot(sw, "24-referral-completed")

    # The tracker lists it under ended referrals; the FHIR export downloads.
    sw.get_by_role("navigation", name="Pages").get_by_role("link", name="Referrals").click()
    expect(sw.locator("#referrals-ended")).to_contain_text("Housing Support Walk-in")
    expect(sw.locator(f"#tracker-{referral.pk}")).to_contain_text("Completed")
    shot(sw, "25-referral-tracker")
    sw.goto(f"/cases/{case.pk}/#referral-{referral.pk}")
    with sw.expect_download() as info:
        sw.locator(f"#referral-{referral.pk}").get_by_role("link", name="FHIR").click()
    bundle = json.loads(open(info.value.path(), encoding="utf-8").read())  # noqa: SIM115
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    assert task["status"] == "completed" and task["code"]["coding"][0]["code"] == "fulfill"

    referral.refresh_from_db()
    assert referral.status == "completed" and referral.mode == "manual"
    assert referral.consent.given_by == "Dana Ortiz" and referral.consent.agency_may_contact
    assert list(referral.events.values_list("kind", flat=True).order_by("pk")) == [
        "created",
        "sent",
        "accepted",
        "completed",
    ]
    assert FollowUp.objects.get(pk=check.pk).status == "pending"  # the check is the social worker's to do
