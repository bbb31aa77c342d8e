"""42 CFR Part 2 in casework: tagged notes, disclosure consents (services and the workspace section)
and the accounting of disclosures on the case workspace."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import Conflict, Forbidden, NotFound
from crisisdesk.calls.services import InvalidInput
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import CaseNote, DisclosureConsent
from crisisdesk.referrals import services as rs
from tests.conftest import sign_in
from tests.referrals.builders import agency_service, claimed_case, consent, person_id

SECRET = "Uses fentanyl most days; overdosed in March"


def client_for(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    assert match, section_id
    return match.group(0)


# --- services ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_note_is_part2_only_when_the_social_worker_says_so(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    tagged = cs.add_note(social_worker, case.pk, "counseling", SECRET, part2=True)
    plain = cs.add_note(social_worker, case.pk, "counseling", "Talked about heroin and rent.")
    assert CaseNote.objects.get(pk=tagged.pk).part2 and not CaseNote.objects.get(pk=plain.pk).part2
    audit = AuditEvent.objects.filter(action="case.note").order_by("pk")
    assert [a.details["part2"] for a in audit] == [True, False]


@pytest.mark.django_db
def test_record_consent_defaults_to_one_year_and_is_audited(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    service = agency_service("Recovery Walk-in", "Hennepin Recovery Services")
    now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    c = cs.record_disclosure_consent(
        social_worker, case.pk, purpose="care_coordination", given_by="Dana Ortiz",
        relation="person_in_crisis", method="written", recipient_organization_id=service.organization_id,
        person_id=person_id(case), now=now,
    )  # fmt: skip
    assert c.given_at == now and c.expires_at == datetime(2027, 11, 24, 18, 0, tzinfo=UTC)
    assert c.recipient_name == "Hennepin Recovery Services" and c.covers_part2 and c.covers_general
    audit = AuditEvent.objects.get(action="disclosure_consent.record")
    assert audit.object_id == str(c.pk) and audit.details["purpose"] == "care_coordination"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"purpose": "gossip"}, "purpose"),
        ({"method": "telepathy"}, "method"),
        ({"purpose": "other"}, "purpose_text"),
        ({"recipient_name": "", "recipient_organization_id": None}, "recipient_name"),
        ({"recipient_organization_id": 999999}, "recipient_organization_id"),
        ({"covers_part2": False, "covers_general": False}, "covers_part2"),
        ({"given_at": datetime(2026, 11, 24, 18, 0, tzinfo=UTC), "expires_at": datetime(2026, 11, 24, tzinfo=UTC)},
         "expires_at"),
        ({"expires_at": datetime(2027, 1, 1)}, "expires_at"),  # noqa: DTZ001 (naive on purpose)
        ({"given_at": timezone.now() + timedelta(days=2)}, "given_at"),
    ],
)  # fmt: skip
def test_record_consent_refuses_bad_input_with_the_field(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any, extra: dict[str, Any], field: str
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    fields: dict[str, Any] = {
        "purpose": "treatment", "given_by": "Dana", "relation": "person_in_crisis", "method": "written",
        "recipient_name": "Dr. Lee, Hennepin Healthcare",
    }  # fmt: skip
    fields.update(extra)
    with pytest.raises(InvalidInput) as exc:
        cs.record_disclosure_consent(social_worker, case.pk, **fields)
    assert exc.value.errors[0]["field"] == field
    assert not DisclosureConsent.objects.exists()


@pytest.mark.django_db
def test_only_the_case_owner_records_and_revokes(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any, make_user: Any, supervisor: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    other = make_user("social_worker", "sw-other")
    fields: dict[str, Any] = {
        "purpose": "treatment", "given_by": "Dana", "relation": "person_in_crisis", "method": "written",
        "recipient_name": "Dr. Lee",
    }  # fmt: skip
    with pytest.raises(Forbidden):
        cs.record_disclosure_consent(other, case.pk, **fields)
    with pytest.raises(Forbidden):
        cs.record_disclosure_consent(supervisor, case.pk, **fields)
    c = cs.record_disclosure_consent(social_worker, case.pk, **fields)
    with pytest.raises(Forbidden):
        cs.revoke_disclosure_consent(other, c.pk, "no")
    cs.revoke_disclosure_consent(social_worker, c.pk, "Changed her mind.")
    with pytest.raises(Conflict):
        cs.revoke_disclosure_consent(social_worker, c.pk, "again")
    with pytest.raises(NotFound):
        cs.revoke_disclosure_consent(social_worker, 999999, "x")
    assert AuditEvent.objects.filter(action="disclosure_consent.revoke").count() == 1


# --- the workspace -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_workspace_tags_part2_and_records_a_consent_through_the_form(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any, supervisor: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    service = agency_service("Recovery Walk-in", "Hennepin Recovery Services")
    client = client_for(social_worker)
    # The note form's checkbox tags the note.
    assert client.post(
        f"/cases/{case.pk}/notes/", {"kind": "counseling", "text": SECRET, "part2": "on"}
    ).status_code == 302  # fmt: skip
    assert (
        client.post(f"/cases/{case.pk}/notes/", {"kind": "support", "text": "Brought water."}).status_code
        == 302
    )
    assert [n.part2 for n in CaseNote.objects.order_by("pk")] == [True, False]
    html = client.get(f"/cases/{case.pk}/").content.decode()
    notes = section(html, "notes")
    assert 'name="part2"' in notes and "About substance use (42 CFR Part 2)" in notes
    tagged, plain = re.findall(r'<li class="note-item".*?</li>', notes, re.S)
    assert "part2-tag" in tagged and "part2-tag" not in plain
    assert "part2-tag" in section(html, "context")  # the substance use and housing section
    assert "part2-tag" not in section(html, "cssrs")
    details = section(html, "details")
    assert re.search(r'for="concern-substance_use">[^<]*<span class="badge tone-warn part2-tag"', details)
    assert not re.search(r'for="concern-mental_health">[^<]*<span', details)
    part2 = section(html, "part2")
    assert 'id="disclosure-consent-form"' in part2 and "No disclosure consent recorded" in part2
    assert "Hennepin Recovery Services" in part2  # offered as a recipient from the directory
    # Record a consent through the form (empty expiry: a year).
    response = client.post(
        f"/cases/{case.pk}/disclosure-consents/",
        {"recipient_organization_id": str(service.organization_id), "purpose": "care_coordination",
         "covers_part2": "on", "covers_general": "on", "given_by": "Dana Ortiz",
         "relation": "person_in_crisis", "method": "written", "person_id": str(person_id(case))},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith("?saved=disclosure_consent#part2")
    c = DisclosureConsent.objects.get()
    assert c.covers_part2 and c.method == "written"
    assert timedelta(days=364) < c.expires_at - c.given_at <= timedelta(days=366)
    part2 = section(client.get(f"/cases/{case.pk}/?saved=disclosure_consent").content.decode(), "part2")
    assert (
        "Disclosure consent recorded." in part2 and f'id="dconsent-{c.pk}"' in part2 and "in force" in part2
    )
    # A bad post: 422 with the problem in the section, nothing written.
    bad = client.post(
        f"/cases/{case.pk}/disclosure-consents/",
        {"purpose": "other", "given_by": "Dana", "relation": "person_in_crisis", "method": "written"},
    )
    assert bad.status_code == 422 and 'id="problem-part2"' in bad.content.decode()
    assert DisclosureConsent.objects.count() == 1
    # Revoke through the button's form.
    assert client.post(
        f"/cases/{case.pk}/disclosure-consents/{c.pk}/revoke/", {"reason": "Changed her mind."}
    ).status_code == 302  # fmt: skip
    c.refresh_from_db()
    assert c.revoked_at is not None and c.revoke_reason == "Changed her mind."
    # A supervisor sees the section read-only.
    sup = section(client_for(supervisor).get(f"/cases/{case.pk}/").content.decode(), "part2")
    assert "revoked" in sup and "disclosure-consent-form" not in sup
    assert client_for(supervisor).post(
        f"/cases/{case.pk}/disclosure-consents/", {"purpose": "treatment"}
    ).status_code == 403  # fmt: skip


@pytest.mark.django_db
def test_workspace_lists_the_accounting_of_disclosures(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    note = cs.add_note(social_worker, case.pk, "counseling", SECRET, part2=True)
    service = agency_service("Recovery Walk-in", "Hennepin Recovery Services")
    c = consent(social_worker, case, service)
    referral = rs.refer(
        social_worker, case.pk, service.pk, c.pk, need="other", shared_items=[f"note:{note.pk}"]
    )
    client = client_for(social_worker)
    packet = client.get(f"/referrals/{referral.pk}/packet.txt")
    assert packet.status_code == 200 and packet["Content-Type"].startswith("text/plain")
    assert "no-store" in packet["Cache-Control"]
    assert SECRET not in packet.content.decode() and "withheld" in packet.content.decode()
    ledger = section(client.get(f"/cases/{case.pk}/").content.decode(), "part2")
    rows = re.findall(r'<li class="disclosure".*?</li>', ledger, re.S)
    assert len(rows) == 2  # the referral sent, then the packet
    assert "Referral packet printed" in rows[0] and "Referral sent" in rows[1]
    assert all("1 Part 2 item withheld" in r and "Hennepin Recovery Services" in r for r in rows)
    assert SECRET not in ledger


@pytest.mark.django_db
def test_refer_page_offers_case_items_to_share_with_part2_marked(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    note = cs.add_note(social_worker, case.pk, "counseling", SECRET, part2=True)
    service = agency_service("Recovery Walk-in", "Hennepin Recovery Services")
    client = client_for(social_worker)
    url = f"/referrals/new/?case={case.pk}&service={service.pk}"
    html = client.get(url).content.decode()
    assert f'value="note:{note.pk}"' in html and "[Part 2]" in html and 'name="request_text_part2"' in html
    response = client.post(
        url,
        {"given_by": "Dana Ortiz", "relation": "person_in_crisis", "method": "verbal_on_call",
         "contact": "612-555-0142", "agency_may_contact": "on", "person_id": str(person_id(case)),
         "need": "other", "mode": "manual", "priority": "routine", "request_text": "Call her.",
         "request_text_part2": "on", "shared_items": [f"note:{note.pk}", "concern:unknown"]},
    )  # fmt: skip
    assert response.status_code == 422  # an item that is not offered
    response = client.post(
        url,
        {"given_by": "Dana Ortiz", "relation": "person_in_crisis", "method": "verbal_on_call",
         "contact": "612-555-0142", "agency_may_contact": "on", "person_id": str(person_id(case)),
         "need": "other", "mode": "manual", "priority": "routine", "request_text": "Call her.",
         "request_text_part2": "on", "shared_items": [f"note:{note.pk}"]},
    )  # fmt: skip
    assert response.status_code == 302
    referral = case.referrals.get()
    assert referral.shared_items == [f"note:{note.pk}"] and referral.request_text_part2
