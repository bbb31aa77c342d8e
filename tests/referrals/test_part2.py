"""S13, the Part 2 disclosure gate, on every artifact a referral produces (FHIR, packet, sending).

A case with a substance-use note (tagged Part 2 by the social worker) and a general note, both
shared with the agency: without a consent that covers that agency and purpose, unexpired and not
revoked, the Part 2 note is absent from the artifact (its text is not anywhere in the serialized
output), the artifact says that items were withheld, and the ledger row says so; with one, it is
included with the 42 CFR 2.32 notice and the consent's reference, and the ledger row names it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import NotFound
from crisisdesk.calls.services import InvalidInput
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import Case, Disclosure, DisclosureConsent
from crisisdesk.domain.part2 import REDISCLOSURE_NOTICE
from crisisdesk.referrals import services
from crisisdesk.referrals.models import Referral
from tests.referrals import sdohcc
from tests.referrals.builders import agency_service, claimed_case, consent, person_id

SECRET = "Drinks a fifth of vodka a day since the layoff"
GENERAL = "Needs a ride to the appointment on Thursday"
REQUEST = "Please call about an intake this week."
NOTICE_OPENING = "This record which has been disclosed to you is protected by Federal confidentiality rules"


def setup_case(tc: Any, sw: Any, before: Any = None) -> tuple[Case, Referral, Any]:
    """The case, its agency and a referral sharing both notes and the concerns, sent two hours ago;
    `before(case, service)` runs before the referral (to record a disclosure consent)."""
    case = claimed_case(tc, sw)
    part2 = cs.add_note(sw, case.pk, "counseling", SECRET, part2=True)
    general = cs.add_note(sw, case.pk, "support", GENERAL)
    cs.update_case_details(sw, case.pk, concerns={"substance_use", "mental_health"})
    service = agency_service("Recovery Walk-in", "Hennepin Recovery Services")
    at = timezone.now() - timedelta(hours=2)
    c = consent(sw, case, service, now=at)
    if before is not None:
        before(case, service)
    referral = services.refer(
        sw, case.pk, service.pk, c.pk, need="other", request_text=REQUEST, now=at,
        shared_items=[f"note:{part2.pk}", f"note:{general.pk}", "concern:substance_use",
                      "concern:mental_health"],
    )  # fmt: skip
    return case, referral, service


def disclosure_consent(sw: Any, case: Case, service: Any, **extra: Any) -> DisclosureConsent:
    fields: dict[str, Any] = {
        "purpose": "care_coordination",
        "given_by": "Dana Ortiz",
        "relation": "person_in_crisis",
        "method": "written",
        "recipient_organization_id": service.organization_id,
        "person_id": person_id(case),
        "now": timezone.now() - timedelta(hours=3),
    }
    fields.update(extra)
    return cs.record_disclosure_consent(sw, case.pk, **fields)


def artifacts(sw: Any, referral: Referral) -> dict[str, str]:
    return {
        "fhir": json.dumps(services.export_referral(sw, referral.pk)),
        "packet": services.referral_packet(sw, referral.pk),
    }


def assert_withheld(sw: Any, referral: Referral, reason: str) -> None:
    out = artifacts(sw, referral)
    for kind, text in out.items():
        assert SECRET not in text, kind
        assert "substance use" not in text, kind  # the concern "substance use" is Part 2 too
        assert GENERAL in text and "mental health" in text and REQUEST in text, kind  # the rest goes
        assert "2 item(s) of this record are protected by 42 CFR part 2 and were withheld" in text, kind
        assert NOTICE_OPENING not in text and "42CFRPart2" not in text, kind
    bundle = json.loads(out["fhir"])
    assert sdohcc.check_bundle(bundle) == []
    rows = list(Disclosure.objects.filter(referral=referral).order_by("pk"))
    assert [r.artifact for r in rows] == ["referral_sent", "fhir_bundle", "referral_packet"]
    for row in rows:
        assert row.outcome == "without_part2" and row.part2_withheld_count == 2
        assert row.part2_included == [] and row.consent is None and not row.notice_attached
        assert reason in row.reasons and "part2_withheld" in row.reasons
        assert SECRET not in json.dumps(row.part2_withheld)  # keys only, never the content
        assert row.recipient_name == "Hennepin Recovery Services" and row.purpose == "care_coordination"


@pytest.mark.django_db
def test_no_consent_withholds_part2(mecc_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    _, referral, _ = setup_case(telecommunicator, social_worker)
    assert_withheld(social_worker, referral, "no_disclosure_consent")


@pytest.mark.django_db
def test_expired_consent_withholds_part2(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    now = timezone.now()
    _, referral, _ = setup_case(
        telecommunicator, social_worker,
        lambda case, service: disclosure_consent(
            social_worker, case, service, given_at=now - timedelta(days=400), expires_at=now - timedelta(days=35)
        ),
    )  # fmt: skip
    assert_withheld(social_worker, referral, "consent_expired")


@pytest.mark.django_db
def test_consent_for_another_recipient_withholds_part2(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    other = agency_service("Housing Walk-in", "Hennepin Housing Help")
    _, referral, _ = setup_case(
        telecommunicator, social_worker, lambda case, service: disclosure_consent(social_worker, case, other)
    )
    assert_withheld(social_worker, referral, "consent_other_recipient")


@pytest.mark.django_db
def test_consent_for_another_purpose_withholds_part2(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    _, referral, _ = setup_case(
        telecommunicator, social_worker,
        lambda case, service: disclosure_consent(social_worker, case, service, purpose="treatment"),
    )  # fmt: skip
    assert_withheld(social_worker, referral, "consent_other_purpose")


@pytest.mark.django_db
def test_revoked_consent_withholds_part2(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    def revoked(case: Case, service: Any) -> None:
        c = disclosure_consent(social_worker, case, service)
        cs.revoke_disclosure_consent(
            social_worker, c.pk, "She changed her mind.", now=timezone.now() - timedelta(hours=3)
        )

    _, referral, _ = setup_case(telecommunicator, social_worker, revoked)
    assert_withheld(social_worker, referral, "consent_revoked")
    c = DisclosureConsent.objects.get()
    audit = AuditEvent.objects.get(action="disclosure_consent.revoke")
    assert audit.object_id == str(c.pk) and c.revoke_reason == "She changed her mind."


@pytest.mark.django_db
def test_verbal_consent_withholds_part2(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    _, referral, _ = setup_case(
        telecommunicator, social_worker,
        lambda case, service: disclosure_consent(social_worker, case, service, method="verbal"),
    )  # fmt: skip
    assert_withheld(social_worker, referral, "consent_not_written")


@pytest.mark.django_db
def test_valid_consent_includes_part2_with_notice_and_consent_reference(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any, supervisor: Any
) -> None:
    case, referral, service = setup_case(
        telecommunicator,
        social_worker,
        lambda case, service: disclosure_consent(social_worker, case, service),
    )
    c = DisclosureConsent.objects.get()
    bundle = services.export_referral(supervisor, referral.pk)
    packet = services.referral_packet(social_worker, referral.pk)
    assert sdohcc.check_bundle(bundle) == []
    fhir = json.dumps(bundle)
    reference = f"urn:crisisdesk:mecc:disclosure-consent|{c.pk}"
    for kind, text in (("fhir", fhir), ("packet", packet)):
        assert SECRET in text and GENERAL in text and REQUEST in text, kind
        assert NOTICE_OPENING in text and reference in text, kind
        assert "withheld" not in text, kind
    assert REDISCLOSURE_NOTICE in packet
    sr = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest")
    assert {s["code"] for s in sr["meta"]["security"]} == {"42CFRPart2", "ETH", "R"}
    assert {s["code"] for s in bundle["meta"]["security"]} == {"42CFRPart2", "ETH", "R"}
    rows = list(Disclosure.objects.filter(referral=referral).order_by("pk"))
    assert [r.artifact for r in rows] == ["referral_sent", "fhir_bundle", "referral_packet"]
    sent, exported, printed = rows
    for row, who in ((sent, social_worker), (exported, supervisor), (printed, social_worker)):
        assert row.outcome == "all" and row.consent == c and row.notice_attached
        assert row.part2_withheld == [] and row.part2_withheld_count == 0
        assert set(row.part2_included) == {next(k for k in referral.shared_items if k.startswith("note:")),
                                           "concern:substance_use"}  # fmt: skip
        assert row.disclosed_by == who and row.rule_version == "part2-disclosure/1"
        assert row.recipient_organization_id == service.organization_id and row.person_id == person_id(case)
    assert AuditEvent.objects.filter(action="disclosure.record").count() == 3
    assert AuditEvent.objects.get(action="disclosure_consent.record").object_id == str(c.pk)
    export_audit = AuditEvent.objects.get(action="referral.export_fhir")
    assert export_audit.details["disclosure_id"] == exported.pk


@pytest.mark.django_db
def test_a_referral_without_part2_items_discloses_without_notice(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    service = agency_service()
    c = consent(social_worker, case, service)
    referral = services.refer(social_worker, case.pk, service.pk, c.pk, need="housing_instability")
    text = json.dumps(services.export_referral(social_worker, referral.pk))
    assert "42 CFR" not in text and "withheld" not in text
    row = Disclosure.objects.filter(artifact="fhir_bundle").get()
    assert row.outcome == "all" and row.reasons == ["no_part2_items"] and not row.notice_attached
    assert row.items_included == [f"referral:{referral.pk}:need"]


@pytest.mark.django_db
def test_tagged_request_text_and_substance_use_need_are_part2(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    service = agency_service("Detox Intake", "Hennepin Recovery Services")
    c = consent(social_worker, case, service)
    referral = services.refer(
        social_worker, case.pk, service.pk, c.pk, need="substance_use",
        request_text="Wants a detox bed; last used this morning.", request_text_part2=True,
    )  # fmt: skip
    packet = services.referral_packet(social_worker, referral.pk)
    assert "detox bed" not in packet and "Need: (withheld: protected by 42 CFR part 2)" in packet
    assert "substance use" not in packet
    fhir = json.dumps(services.export_referral(social_worker, referral.pk))
    assert "detox bed" not in fhir and "were withheld" in fhir
    disclosure_consent(social_worker, case, service)
    packet = services.referral_packet(social_worker, referral.pk)
    assert "detox bed" in packet and "Need: substance use" in packet and NOTICE_OPENING in packet


@pytest.mark.django_db
def test_only_items_of_the_case_can_be_shared(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    case = claimed_case(telecommunicator, social_worker)
    other = claimed_case(telecommunicator, social_worker, incident_id="MP-26-000202")
    note = cs.add_note(social_worker, other.pk, "counseling", SECRET, part2=True)
    service = agency_service()
    c = consent(social_worker, case, service)
    with pytest.raises(InvalidInput) as exc:
        services.refer(
            social_worker, case.pk, service.pk, c.pk, need="other", shared_items=[f"note:{note.pk}"]
        )
    assert exc.value.errors[0]["field"] == "shared_items"
    assert not Referral.objects.exists() and not Disclosure.objects.exists()


@pytest.mark.django_db
def test_artifacts_are_not_for_telecommunicators(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    _, referral, _ = setup_case(telecommunicator, social_worker)
    before = Disclosure.objects.count()
    with pytest.raises(NotFound):
        services.referral_packet(telecommunicator, referral.pk)
    assert Disclosure.objects.count() == before


@pytest.mark.django_db
def test_revoking_stops_later_disclosures_and_keeps_earlier_ones(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    _, referral, _ = setup_case(
        telecommunicator,
        social_worker,
        lambda case, service: disclosure_consent(social_worker, case, service),
    )
    c = DisclosureConsent.objects.get()
    assert SECRET in services.referral_packet(social_worker, referral.pk)
    cs.revoke_disclosure_consent(social_worker, c.pk, "No longer agrees.")
    later = services.referral_packet(social_worker, referral.pk)
    assert SECRET not in later and "were withheld" in later
    rows = list(Disclosure.objects.filter(referral=referral).order_by("pk"))
    assert [(r.artifact, r.consent_id, r.notice_attached) for r in rows] == [
        ("referral_sent", c.pk, True),
        ("referral_packet", c.pk, True),
        ("referral_packet", None, False),
    ]
    assert "consent_revoked" in rows[-1].reasons


@pytest.mark.django_db
def test_no_ledger_row_for_an_artifact_that_failed(
    mecc_protocol: Any, telecommunicator: Any, social_worker: Any, monkeypatch: Any
) -> None:
    _, referral, _ = setup_case(telecommunicator, social_worker)
    before = (Disclosure.objects.count(), AuditEvent.objects.filter(action="disclosure.record").count())

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the bundle could not be built")

    monkeypatch.setattr("crisisdesk.referrals.fhir.build_bundle", broken)
    with pytest.raises(RuntimeError):
        services.export_referral(social_worker, referral.pk)
    # The ledger row and its audit row were in the export's transaction: both rolled back with it.
    assert (
        Disclosure.objects.count(),
        AuditEvent.objects.filter(action="disclosure.record").count(),
    ) == before
