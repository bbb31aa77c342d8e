"""FHIR R4 export of one referral, for partners whose systems accept FHIR (Gravity SDOH Clinical Care).

`build_bundle(facts, now)` is pure: it turns `ExportFacts` into a FHIR R4 transaction Bundle of

- `ServiceRequest` (profile SDOHCC-ServiceRequest): the referral itself: status (requester's view),
  intent `order`, categories "Social service procedure" (SNOMED CT 410606002) and the Gravity SDOH
  category of the need, code "Referral to service" (SNOMED CT 306206005), subject, requester,
  performer (the service), supportingInfo -> the consent, and "contacting subject prohibited" when the
  person does not want the agency to contact them;
- `Task` (profile SDOHCC-TaskForReferralManagement): intent `order`, code `fulfill`, focus -> the
  ServiceRequest, for -> the Patient, owner -> the agency, requester -> the 911 center's program,
  status one to one with the referral status (`domain.referrals.FHIR_TASK_STATUS`), statusReason.text
  when rejected / failed / cancelled, businessStatus.text with the latest report in words;
- `Consent` (profile SDOHCC-Consent): the person's consent to disclose to the agency (scope
  patient-privacy, category IDSCL, provision permit with the agency as information recipient);
- `Patient` (US Core), and `Organization` x2 and `HealthcareService` for the references to resolve.

Entries use `urn:uuid:` full URLs (uuid5 of the center, the kind and our row id: stable from one
export to the next) and conditional requests, so a partner server can take the Bundle as a
transaction and a later export updates the same ServiceRequest, Task and Consent (by identifier).

42 CFR Part 2: `facts.shared` (case items the social worker chose to share) and the request text
have already passed the disclosure gate (domain.part2, applied in referrals.services): Part 2 items
without a covering consent are not in the facts, and the ServiceRequest says how many were
withheld. When Part 2 items are included, the Bundle and the ServiceRequest carry the 42CFRPart2 /
ETH / R security labels and a note with the 2.32 notice and the consent's identifier.

De-identification: the partner gets what it needs to act on the referral and nothing else. Exported:
the person's name and date of birth (when recorded), the consented contact number only when the
agency may contact the person, an opaque identifier (never the database id, the phone key or the
911 incident), the need, the request text written for the agency, the priority, who consented (as a
relation: the person or a family member, never a name) and how, and the case items the social
worker chose to share with the agency (after the gate). Never exported: other case notes and
answers, risk levels, the 911 call (incident, call type, address, narrative), the caller's
number, staff names (the requester is the program, an Organization).

The tests parse the output with fhir.resources' R4B models (the library has no R4 4.0.1 package; for
these resources R4B is structurally the same as R4) and assert the profiles' required elements,
codes and invariants one by one.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from crisisdesk.domain.part2 import withheld_text
from crisisdesk.domain.referrals import (
    FHIR_SERVICE_REQUEST_STATUS,
    FHIR_TASK_STATUS,
    NEEDS_REASON,
    SDOH_CATEGORY,
    SDOHCC_TEMP_CODES,
    ReferralNeed,
    ReferralStatus,
)

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
PROFILE = {
    "ServiceRequest": SDOHCC + "SDOHCC-ServiceRequest",
    "Task": SDOHCC + "SDOHCC-TaskForReferralManagement",
    "Consent": SDOHCC + "SDOHCC-Consent",
    "Patient": US_CORE + "us-core-patient",
    "Organization": US_CORE + "us-core-organization",
}
SNOMED = "http://snomed.info/sct"
SOCIAL_SERVICE_PROCEDURE = (SNOMED, "410606002", "Social service procedure")
REFERRAL_TO_SERVICE = (SNOMED, "306206005", "Referral to service")
TASK_CODE = ("http://hl7.org/fhir/CodeSystem/task-code", "fulfill", "Fulfill the focal request")
CONSENT_SCOPE = ("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy", "Privacy Consent")
IDSCL = ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IDSCL", "information disclosure")
RECIPIENT = ("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP", "information recipient")
CONTACT_PROHIBITED = (SDOHCC_TEMP_CODES, "contacting-subject-prohibited", "Contacting Subject Prohibited")
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
# Security labels of a resource that carries Part 2 information (HL7 v3 ActCode 42CFRPart2 privacy
# policy, ETH substance-abuse sensitivity, confidentiality R "restricted").
PART2_SECURITY = [
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2", "display": "42 CFR Part2"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "ETH",
     "display": "substance abuse information sensitivity"},
    {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R", "display": "restricted"},
]  # fmt: skip
HSDS_ORGANIZATION = "https://openreferral.org/hsds/organization"  # identifier systems for HSDS ids
HSDS_SERVICE = "https://openreferral.org/hsds/service"
_NS = uuid.UUID("0d6b7f1c-58a4-4bb0-9d0e-3a1f4f7b9c21")

RELATION_WORDS = {
    "person_in_crisis": "the person",
    "caller": "the caller",
    "family_member": "a family member",
    "other": "someone on the person's behalf",
}
METHOD_WORDS = {
    "verbal_on_call": "verbally on the phone",
    "written": "in writing",
    "text_message": "by text message",
}


@dataclass(frozen=True)
class PatientFacts:
    key: str  # the Person row id (turned into an opaque identifier); "" when the referral names nobody
    given: str
    family: str
    birth_date: date | None
    phone: str  # the consented contact number, E.164 when it parsed; "" when the agency may not call


@dataclass(frozen=True)
class ConsentFacts:
    key: str
    relation: str  # domain.cases.Relation of who consented
    method: str  # ContactConsent.Method
    recorded_at: datetime
    withdrawn: bool
    agency_may_contact: bool


@dataclass(frozen=True)
class SharedItem:
    """A piece of the case the social worker chose to share, as the disclosure gate let it through."""

    label: str
    text: str


@dataclass(frozen=True)
class Part2Stamp:
    """What the disclosure gate (domain.part2) decided for this artifact, as the artifact shows it.

    `withheld`: how many Part 2 items were left out (never what they were). When Part 2 items are
    included, `notice` is the 42 CFR 2.32 statement and `consent_key` / `consent_expires_at` /
    `purpose` say which disclosure consent allowed it."""

    withheld: int = 0
    notice: str = ""
    consent_key: str = ""
    consent_expires_at: datetime | None = None
    purpose: str = ""
    need_withheld: bool = False  # the need itself is Part 2 (substance use) and was withheld

    @property
    def included(self) -> bool:
        return bool(self.notice)


@dataclass(frozen=True)
class ExportFacts:
    """Everything the export may show, gathered by `facts_for` (or written out by a test)."""

    center: str  # the 911 center's key (protocol `center`), e.g. "MECC"
    program_name: str  # the requester: the center's social worker program
    referral_key: str
    status: ReferralStatus
    need: ReferralNeed
    priority: str
    request_text: str
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    status_reason: str
    business_status: str
    organization_hsds_id: str
    organization_name: str
    service_hsds_id: str
    service_name: str
    patient: PatientFacts
    consent: ConsentFacts
    # Set by the disclosure gate (referrals.services), never by the query: a query's facts carry
    # no shared case content and no Part 2 stamp.
    shared: tuple[SharedItem, ...] = ()
    part2: Part2Stamp = Part2Stamp()


def _url(facts: ExportFacts, kind: str, key: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_NS, f"{facts.center}:{kind}:{key}"))


def _system(facts: ExportFacts, kind: str) -> str:
    return f"urn:crisisdesk:{facts.center.lower()}:{kind}"


def _cc(coding: tuple[str, str, str], text: str = "") -> dict[str, Any]:
    system, code, display = coding
    out: dict[str, Any] = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        out["text"] = text
    return out


def _when(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("FHIR dateTime values need a time zone")
    return at.isoformat(timespec="seconds")


def build_bundle(facts: ExportFacts, now: datetime) -> dict[str, Any]:
    """The FHIR R4 transaction Bundle of one referral (a JSON-ready dict). Pure; see the module doc."""
    # A service without an organization in the directory (HSDS allows it) stands for its provider.
    agency_key = facts.organization_hsds_id or f"provider-of-{facts.service_hsds_id}"
    urls = {
        "patient": _url(facts, "patient", facts.patient.key or f"referral-{facts.referral_key}"),
        "program": _url(facts, "organization", "program"),
        "agency": _url(facts, "organization", agency_key),
        "service": _url(facts, "healthcareservice", facts.service_hsds_id),
        "consent": _url(facts, "consent", facts.consent.key),
        "request": _url(facts, "servicerequest", facts.referral_key),
        "task": _url(facts, "task", facts.referral_key),
    }
    program_id = {"system": _system(facts, "organization"), "value": facts.center}
    agency_id = (
        {"system": HSDS_ORGANIZATION, "value": facts.organization_hsds_id}
        if facts.organization_hsds_id
        else {"system": _system(facts, "provider-of-service"), "value": facts.service_hsds_id}
    )
    service_id = {"system": HSDS_SERVICE, "value": facts.service_hsds_id}
    patient_id = {"system": _system(facts, "person"), "value": urls["patient"].removeprefix("urn:uuid:")}
    consent_id = {"system": _system(facts, "referral-consent"), "value": facts.consent.key}
    request_id = {"system": _system(facts, "referral"), "value": facts.referral_key}
    task_id = {"system": _system(facts, "referral-task"), "value": facts.referral_key}
    entries = [
        _entry(urls["program"], _organization(program_id, facts.program_name), "POST", program_id),
        _entry(urls["agency"], _organization(agency_id, facts.organization_name), "POST", agency_id),
        _entry(urls["service"], _healthcare_service(facts, service_id, urls), "POST", service_id),
        _entry(urls["patient"], _patient(facts, patient_id), "POST", patient_id),
        _entry(urls["consent"], _consent(facts, consent_id, urls), "PUT", consent_id),
        _entry(urls["request"], _service_request(facts, request_id, urls), "PUT", request_id),
        _entry(urls["task"], _task(facts, task_id, urls), "PUT", task_id),
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "transaction",
        "timestamp": _when(now),
        "entry": entries,
    }
    if facts.part2.included:
        bundle["meta"] = {"security": PART2_SECURITY}
    return bundle


def _entry(
    full_url: str, resource: dict[str, Any], method: str, identifier: dict[str, str]
) -> dict[str, Any]:
    """POST with ifNoneExist (create once: the partner keeps its own copy of people and agencies), or
    a conditional PUT by identifier (a later export updates the same referral)."""
    search = f"identifier={identifier['system']}|{identifier['value']}"
    kind = resource["resourceType"]
    request = (
        {"method": "POST", "url": kind, "ifNoneExist": search}
        if method == "POST"
        else {"method": "PUT", "url": f"{kind}?{search}"}
    )
    return {"fullUrl": full_url, "resource": resource, "request": request}


def _organization(identifier: dict[str, str], name: str) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "meta": {"profile": [PROFILE["Organization"]]},
        "identifier": [identifier],
        "active": True,
        "name": name,
    }


def _healthcare_service(
    facts: ExportFacts, identifier: dict[str, str], urls: dict[str, str]
) -> dict[str, Any]:
    return {
        "resourceType": "HealthcareService",
        "identifier": [identifier],
        "active": True,
        "providedBy": {"reference": urls["agency"], "display": facts.organization_name},
        "name": facts.service_name,
    }


def _patient(facts: ExportFacts, identifier: dict[str, str]) -> dict[str, Any]:
    p = facts.patient
    name: dict[str, Any] = {}
    if p.family:
        name["family"] = p.family
    if p.given:
        name["given"] = [p.given]
    if not name:
        # US Core (us-core-6): a name, or the data-absent-reason extension saying why there is none.
        name = {"extension": [{"url": DATA_ABSENT, "valueCode": "unknown"}]}
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "meta": {"profile": [PROFILE["Patient"]]},
        "identifier": [identifier],
        "name": [name],
        "gender": "unknown",  # not collected by the program; US Core requires the element
    }
    if p.birth_date is not None:
        out["birthDate"] = p.birth_date.isoformat()
    if p.phone and facts.consent.agency_may_contact:
        out["telecom"] = [{"system": "phone", "value": p.phone}]
    return out


def _consent(facts: ExportFacts, identifier: dict[str, str], urls: dict[str, str]) -> dict[str, Any]:
    c = facts.consent
    who = RELATION_WORDS.get(c.relation, "someone on the person's behalf")
    how = METHOD_WORDS.get(c.method, c.method.replace("_", " "))
    statement = (
        f"Consent to be referred to {facts.service_name} ({facts.organization_name}) and to share the "
        f"information in this referral with it, given {how} by {who}, recorded by {facts.program_name} "
        f"at {_when(c.recorded_at)}."
        + ("" if c.agency_may_contact else " The agency may not contact the person directly.")
    )
    out: dict[str, Any] = {
        "resourceType": "Consent",
        "meta": {"profile": [PROFILE["Consent"]]},
        "identifier": [identifier],
        "status": "inactive" if c.withdrawn else "active",
        "scope": _cc(CONSENT_SCOPE),
        "category": [_cc(IDSCL)],
        "patient": {"reference": urls["patient"]},
        "dateTime": _when(c.recorded_at),
        "organization": [{"reference": urls["program"], "display": facts.program_name}],
        "sourceAttachment": {
            "contentType": "text/plain",
            "language": "en",
            "title": "Consent to referral as recorded",
            "data": base64.b64encode(statement.encode()).decode(),
        },
        # ppc-1: a policy or a policy rule. The program's own consent wording, not HIPAA: a 911 center
        # is not a HIPAA covered entity.
        "policy": [{"uri": f"urn:crisisdesk:{facts.center.lower()}:policy:referral-consent"}],
        "provision": {
            "type": "permit",
            "period": {"start": _when(c.recorded_at)},
            "actor": [{"role": _cc(RECIPIENT), "reference": {"reference": urls["agency"]}}],
        },
    }
    if c.relation == "person_in_crisis":
        out["performer"] = [{"reference": urls["patient"]}]
    return out


def _service_request(facts: ExportFacts, identifier: dict[str, str], urls: dict[str, str]) -> dict[str, Any]:
    code, display = SDOH_CATEGORY[facts.need]
    out: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "meta": {"profile": [PROFILE["ServiceRequest"]]},
        "identifier": [identifier],
        "status": FHIR_SERVICE_REQUEST_STATUS[facts.status],
        "intent": "order",
        "category": [_cc(SOCIAL_SERVICE_PROCEDURE), _cc((SDOHCC_TEMP_CODES, code, display))],
        "priority": facts.priority,
        "code": _cc(REFERRAL_TO_SERVICE, f"Referral to {facts.service_name}"),
        "subject": {"reference": urls["patient"]},
        "authoredOn": _when(facts.sent_at or facts.created_at),
        "requester": {"reference": urls["program"], "display": facts.program_name},
        "performer": [{"reference": urls["service"], "display": facts.service_name}],
        "supportingInfo": [{"reference": urls["consent"]}],
    }
    if not facts.consent.agency_may_contact:
        out["orderDetail"] = [_cc(CONTACT_PROHIBITED)]
    notes = [{"text": t} for t in part2_notes(facts)]
    if notes:
        out["note"] = notes
    if facts.part2.included:
        out["meta"]["security"] = PART2_SECURITY
    return out


def consent_reference(facts: ExportFacts) -> str:
    """How an artifact names the disclosure consent it was made under (system|value, as FHIR)."""
    return f"{_system(facts, 'disclosure-consent')}|{facts.part2.consent_key}"


def part2_notes(facts: ExportFacts) -> list[str]:
    """The texts the agency reads, in order: the request, what was shared, what was withheld, and
    (when Part 2 items are included) the 2.32 notice with the consent it was disclosed under."""
    out = [facts.request_text.strip()] if facts.request_text.strip() else []
    out += [f"{item.label}: {item.text}" for item in facts.shared]
    stamp = facts.part2
    if stamp.withheld:
        out.append(withheld_text(stamp.withheld))
    if stamp.included:
        until = f", valid until {_when(stamp.consent_expires_at)}" if stamp.consent_expires_at else ""
        out.append(stamp.notice)
        out.append(
            f"Disclosed with the person's written consent {consent_reference(facts)} "
            f"(purpose: {stamp.purpose.replace('_', ' ')}{until})."
        )
    return out


def _task(facts: ExportFacts, identifier: dict[str, str], urls: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Task",
        "meta": {"profile": [PROFILE["Task"]]},
        "identifier": [identifier],
        "status": FHIR_TASK_STATUS[facts.status],
        "intent": "order",
        "priority": facts.priority,
        "code": _cc(TASK_CODE),
        "focus": {"reference": urls["request"]},
        "for": {"reference": urls["patient"]},
        "authoredOn": _when(facts.created_at),
        "lastModified": _when(facts.updated_at),
        "requester": {"reference": urls["program"], "display": facts.program_name},
        "owner": {"reference": urls["agency"], "display": facts.organization_name},
    }
    if facts.status in NEEDS_REASON:
        # The IG: "If the Task.status is rejected, cancelled, on-hold, or failed, then
        # Task.statusReason.text should be included" (and statusReason.text is 1.. when present).
        out["statusReason"] = {"text": facts.status_reason.strip() or "No reason was recorded."}
    if facts.business_status:
        out["businessStatus"] = {"text": facts.business_status}
    start = facts.started_at or (facts.sent_at if facts.status is not ReferralStatus.DRAFT else None)
    if start is not None:
        period = {"start": _when(start)}
        if facts.ended_at is not None:
            period["end"] = _when(facts.ended_at)
        out["executionPeriod"] = period
    return out
