"""FHIR R4 export of a referral (Gravity SDOH Clinical Care): parsed with fhir.resources' R4B models and
checked against the SDOHCC profiles' required elements, codes and invariants (tests/referrals/sdohcc.py).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import NotFound
from crisisdesk.casework import services as cs
from crisisdesk.domain.referrals import FHIR_TASK_STATUS, ReferralNeed, ReferralStatus
from crisisdesk.referrals import services
from crisisdesk.referrals.fhir import ConsentFacts, ExportFacts, PatientFacts, build_bundle
from tests.referrals import sdohcc
from tests.referrals.builders import agency_service, claimed_case, consent

PROFILES = Path(__file__).resolve().parents[1] / "data" / "gravity-sdoh-clinicalcare"
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def facts(status: ReferralStatus = ReferralStatus.REQUESTED, **extra: Any) -> ExportFacts:
    base: dict[str, Any] = {
        "center": "MECC",
        "program_name": "Minneapolis Emergency Communications Center: social worker program",
        "referral_key": "41",
        "status": status,
        "need": ReferralNeed.HOUSING_INSTABILITY,
        "priority": "routine",
        "request_text": "Behind on rent; eviction notice for Dec 1.",
        "created_at": datetime(2026, 11, 25, 19, 0, tzinfo=UTC),
        "sent_at": datetime(2026, 11, 25, 19, 2, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 26, 15, 0, tzinfo=UTC),
        "started_at": None,
        "ended_at": None,
        "status_reason": "",
        "business_status": "Sent (by phone)",
        "organization_hsds_id": "5d0e8a57-1f0e-4a86-a0f2-6a4d8b3c9f10",
        "organization_name": "Hennepin Housing Help",
        "service_hsds_id": "a3c1b2d4-7e6f-4a1b-9c8d-0e1f2a3b4c5d",
        "service_name": "Housing Support Walk-in",
        "patient": PatientFacts("17", "Dana", "Ortiz", date(1988, 4, 2), "+16125550142"),
        "consent": ConsentFacts(
            "9", "person_in_crisis", "verbal_on_call", datetime(2026, 11, 25, 18, 58, tzinfo=UTC), False, True
        ),
    }
    base.update(extra)
    return ExportFacts(**base)


def resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    (entry,) = sdohcc.by_type(bundle)[kind]
    return dict(entry["resource"])


# --- the pure builder ------------------------------------------------------------------------------


def test_a_requested_referral_conforms() -> None:
    bundle = build_bundle(facts(), NOW)
    assert sdohcc.check_bundle(bundle) == []
    sr, task = resource(bundle, "ServiceRequest"), resource(bundle, "Task")
    assert sr["status"] == "active" and sr["intent"] == "order"
    assert sdohcc.codings(sr["category"][0]) == {("http://snomed.info/sct", "410606002")}
    assert sdohcc.codings(sr["category"][1]) == {(sdohcc.TEMP, "housing-instability")}
    assert sdohcc.codings(sr["code"]) == {("http://snomed.info/sct", "306206005")}
    assert sr["authoredOn"] == "2026-11-25T19:02:00+00:00" and sr["note"][0]["text"].startswith(
        "Behind on rent"
    )
    assert (task["status"], task["intent"], task["authoredOn"]) == (
        "requested",
        "order",
        "2026-11-25T19:00:00+00:00",
    )
    assert (
        task["owner"]["display"] == "Hennepin Housing Help"
        and task["businessStatus"]["text"] == "Sent (by phone)"
    )
    assert "statusReason" not in task
    assert task["executionPeriod"] == {"start": "2026-11-25T19:02:00+00:00"}


@pytest.mark.parametrize("status", list(ReferralStatus), ids=lambda s: s.value)
def test_every_status_exports_a_conforming_bundle(status: ReferralStatus) -> None:
    ended = (
        datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
        if status in {"rejected", "completed", "failed", "cancelled"}
        else None
    )
    bundle = build_bundle(facts(status, status_reason="Full until January", ended_at=ended), NOW)
    assert sdohcc.check_bundle(bundle) == []
    task = resource(bundle, "Task")
    assert task["status"] == FHIR_TASK_STATUS[status]
    if status in {"rejected", "failed", "cancelled"}:
        assert task["statusReason"] == {"text": "Full until January"}
        assert resource(bundle, "ServiceRequest")["status"] == "revoked"
    if ended:
        assert task["executionPeriod"]["end"] == "2026-11-26T15:00:00+00:00"


def test_a_missing_reason_still_gives_statusreason_text() -> None:
    task = resource(build_bundle(facts(ReferralStatus.CANCELLED, status_reason=" "), NOW), "Task")
    assert task["statusReason"]["text"] == "No reason was recorded."


def test_the_consent_is_an_sdohcc_disclosure_consent() -> None:
    bundle = build_bundle(facts(), NOW)
    c = resource(bundle, "Consent")
    assert c["status"] == "active" and c["dateTime"] == "2026-11-25T18:58:00+00:00"
    assert sdohcc.codings(c["scope"]) == {
        ("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")
    }
    agency_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"].get("name") == "Hennepin Housing Help"
    )
    assert (
        c["provision"]["type"] == "permit"
        and c["provision"]["actor"][0]["reference"]["reference"] == agency_url
    )
    statement = base64.b64decode(c["sourceAttachment"]["data"]).decode()
    assert "given verbally on the phone by the person" in statement and "Housing Support Walk-in" in statement
    assert c["performer"][0]["reference"] == resource(bundle, "ServiceRequest")["subject"]["reference"]
    withdrawn = facts(consent=ConsentFacts("9", "family_member", "written", NOW, True, True))
    c2 = resource(build_bundle(withdrawn, NOW), "Consent")
    assert c2["status"] == "inactive" and "performer" not in c2  # a relative is not the patient
    assert "by a family member" in base64.b64decode(c2["sourceAttachment"]["data"]).decode()


def test_no_contact_means_no_phone_and_the_request_says_so() -> None:
    no_call = facts(consent=ConsentFacts("9", "person_in_crisis", "verbal_on_call", NOW, False, False))
    bundle = build_bundle(no_call, NOW)
    assert sdohcc.check_bundle(bundle) == []
    assert "telecom" not in resource(bundle, "Patient")
    details = resource(bundle, "ServiceRequest")["orderDetail"]
    assert sdohcc.codings(details[0]) == {(sdohcc.TEMP, "contacting-subject-prohibited")}
    assert "+16125550142" not in json.dumps(bundle)


def test_a_referral_without_a_named_person_uses_data_absent_reason() -> None:
    bundle = build_bundle(facts(patient=PatientFacts("", "", "", None, "")), NOW)
    assert sdohcc.check_bundle(bundle) == []
    patient = resource(bundle, "Patient")
    assert patient["name"] == [{"extension": [{"url": sdohcc_dar(), "valueCode": "unknown"}]}]
    assert "birthDate" not in patient


def sdohcc_dar() -> str:
    return "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def test_a_service_without_an_organization_still_has_an_owner() -> None:
    bundle = build_bundle(facts(organization_hsds_id="", organization_name="Peer warmline"), NOW)
    assert sdohcc.check_bundle(bundle) == []
    owner = resource(bundle, "Task")["owner"]
    assert owner["display"] == "Peer warmline"


def test_mental_health_is_an_unspecified_sdoh_category() -> None:
    sr = resource(build_bundle(facts(need=ReferralNeed.MENTAL_HEALTH), NOW), "ServiceRequest")
    assert sdohcc.codings(sr["category"][1]) == {(sdohcc.TEMP, "sdoh-category-unspecified")}


def test_full_urls_are_stable_and_the_transaction_is_conditional() -> None:
    a, b = build_bundle(facts(), NOW), build_bundle(facts(ReferralStatus.ACCEPTED), NOW + timedelta(days=1))
    assert [e["fullUrl"] for e in a["entry"]] == [e["fullUrl"] for e in b["entry"]]
    requests = {e["resource"]["resourceType"]: e["request"] for e in a["entry"]}
    assert requests["Task"] == {
        "method": "PUT",
        "url": "Task?identifier=urn:crisisdesk:mecc:referral-task|41",
    }
    assert requests["Patient"]["method"] == "POST" and requests["Patient"]["ifNoneExist"].startswith(
        "identifier="
    )
    # The patient's identifier is opaque: not our database id.
    patient_id = resource(a, "Patient")["identifier"][0]["value"]
    assert patient_id != "17" and re.fullmatch(r"[0-9a-f-]{36}", patient_id)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        build_bundle(facts(created_at=datetime(2026, 11, 25, 19, 0)), NOW)  # noqa: DTZ001


# --- the checks catch what they claim to (so a passing export means something) -----------------------


def _broken(mutate: Any) -> list[str]:
    bundle = copy.deepcopy(build_bundle(facts(ReferralStatus.REJECTED, status_reason="Full"), NOW))
    mutate({e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]})
    return sdohcc.check_bundle(bundle)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r["Task"].__setitem__("status", "received"), "SDOHCC-ValueSetReferralTaskStatus"),
        (lambda r: r["Task"].__setitem__("intent", "plan"), "Task.intent must be order"),
        (lambda r: r["Task"].pop("focus"), "Task.focus"),
        (lambda r: r["Task"].pop("statusReason"), "statusReason.text should be included"),
        (lambda r: r["Task"]["code"]["coding"][0].__setitem__("code", "approve"), "task-code#fulfill"),
        (lambda r: r["ServiceRequest"]["category"].pop(1), "SDOH category"),
        (lambda r: r["ServiceRequest"].pop("code"), "ServiceRequest.code"),
        (lambda r: r["Consent"].pop("policy"), "ppc-1"),
        (lambda r: r["Consent"].__setitem__("organization", []), "Consent.organization"),
        (lambda r: r["Patient"].pop("gender"), "gender"),
        (lambda r: r["Task"].pop("intent"), "Task"),  # the R4B model: intent is 1..1
    ],
)
def test_the_checks_catch_a_broken_bundle(mutate: Any, expected: str) -> None:
    problems = _broken(mutate)
    assert any(expected in p for p in problems), problems


def test_the_fixed_values_checked_are_the_profiles() -> None:
    task = (PROFILES / "SDOHCCTaskForReferralManagement.fsh").read_text(encoding="utf-8")
    assert "* intent = #order (exactly)" in task and "* code = $task-code#fulfill" in task
    assert "* focus only Reference(SDOHCCServiceRequest)" in task and "* authoredOn 1.. MS" in task
    statuses = (PROFILES / "SDOHCCValueSetReferralTaskStatus.fsh").read_text(encoding="utf-8")
    assert {"ready", "received"} == set(re.findall(r"exclude TaskStatus#(\S+)", statuses))
    assert {"ready", "received"} == sdohcc.TASK_STATUS - sdohcc.REFERRAL_TASK_STATUS
    consent_fsh = (PROFILES / "SDOHCCConsent.fsh").read_text(encoding="utf-8")
    assert "* category[IDSCL] = $v3-ActCode#IDSCL" in consent_fsh and "* organization 1..1 MS" in consent_fsh
    sr = (PROFILES / "SDOHCCServiceRequest.fsh").read_text(encoding="utf-8")
    assert (
        "* specimen ..0" in sr
        and "orderDetail[SubjectContactDetail] = $SDOHCC-CodeSystemTemporaryCodes#contacting-subject-prohibited"
        in sr
    )


# --- from the database ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_from_the_database_conforms_and_leaves_out_the_case(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any, supervisor: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    cs.add_note(social_worker, case.pk, "crisis_intervention", "Talked about the pills in the cabinet.")
    cs.record_assessment(social_worker, case.pk, "cssrs_screener", {"q1": "yes", "q2": "no", "q6": "no"})
    service = agency_service()
    at = timezone.now() - timedelta(hours=2)
    c = consent(social_worker, case, service, now=at)
    referral = services.refer(
        social_worker, case.pk, service.pk, c.pk, need="housing_instability",
        request_text="Needs help with rent this month.", now=at,
    )  # fmt: skip
    services.record_agency_response(
        social_worker, referral.pk, accepted=True, said="Thursday 10:00", said_by="Maria", channel="phone",
        occurred_at=at + timedelta(minutes=30),
    )  # fmt: skip
    bundle = services.export_referral(supervisor, referral.pk)
    assert sdohcc.check_bundle(bundle) == []
    task, patient = resource(bundle, "Task"), resource(bundle, "Patient")
    assert (
        task["status"] == "accepted" and task["businessStatus"]["text"] == "Accepted by the agency (by phone)"
    )
    assert task["requester"]["display"].startswith("Minneapolis Emergency Communications Center")
    assert (
        patient["name"] == [{"family": "Ortiz", "given": ["Dana"]}] and patient["birthDate"] == "1988-04-02"
    )
    assert patient["telecom"] == [{"system": "phone", "value": "+16125550142"}]
    text = json.dumps(bundle)
    for secret in (
        "pills in the cabinet",  # case notes
        "MP-26-000101",  # the 911 incident
        "350 S 5th St",  # the call's address
        "12 Elm St",  # the person's address
        "sw-sam",  # staff
        "Maria",  # the agency's words stay in our history
        "cssrs",
    ):
        assert secret not in text, secret
    audit = AuditEvent.objects.get(action="referral.export_fhir")
    assert audit.actor == supervisor and audit.object_id == str(referral.pk)


@pytest.mark.django_db
def test_export_is_not_for_telecommunicators(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    service = agency_service()
    c = consent(social_worker, case, service)
    draft = services.create_referral(social_worker, case.pk, service.pk, c.pk, need="other")
    with pytest.raises(NotFound):
        services.export_referral(telecommunicator, draft.pk)
    assert not AuditEvent.objects.filter(action="referral.export_fhir").exists()
    assert sdohcc.check_bundle(services.export_referral(social_worker, draft.pk)) == []
