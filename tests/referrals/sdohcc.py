"""What a Gravity SDOH Clinical Care referral bundle must satisfy, as checks the tests run.

fhir.resources (R4B models) checks structure: element names, types, cardinality of the base
resources. It does not check profiles, code values or invariants, so these functions do, for the
rules of the profiles in /work/shared/data/standards/gravity-sdoh-clinicalcare (copied to
tests/data/gravity-sdoh-clinicalcare): SDOHCC-ServiceRequest (on US Core ServiceRequest 7.0.0),
SDOHCC-TaskForReferralManagement, SDOHCC-Consent, and the US Core Patient / Organization elements we
rely on. Each returns a list of problems (empty = conforms to what we check).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

SDOHCC_SD = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/"
TEMP = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
SCT = "http://snomed.info/sct"
MODELS: dict[str, Any] = {
    "ServiceRequest": ServiceRequest,
    "Task": Task,
    "Consent": Consent,
    "Patient": Patient,
    "Organization": Organization,
    "HealthcareService": HealthcareService,
}
# FHIR R4 TaskStatus; SDOHCC-ValueSetReferralTaskStatus excludes ready and received.
TASK_STATUS = {
    "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled", "in-progress",
    "on-hold", "failed", "completed", "entered-in-error",
}  # fmt: skip
REFERRAL_TASK_STATUS = TASK_STATUS - {"ready", "received"}
REQUEST_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
REQUEST_INTENT = {
    "proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order",
    "instance-order", "option",
}  # fmt: skip
PRIORITY = {"routine", "urgent", "asap", "stat"}
CONSENT_STATUS = {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}
# The SDOH categories of SDOHCC-ValueSetSDOHCategory (the temporary code system's category codes).
SDOH_CATEGORIES = {
    "sdoh-category-unspecified", "food-insecurity", "housing-instability", "homelessness",
    "inadequate-housing", "transportation-insecurity", "financial-insecurity", "material-hardship",
    "educational-attainment", "employment-status", "veteran-status", "stress", "social-connection",
    "intimate-partner-violence", "elder-abuse", "personal-health-literacy",
    "health-insurance-coverage-status", "medical-cost-burden", "digital-literacy", "digital-access",
    "utility-insecurity", "language-access", "incarceration-status",
}  # fmt: skip
# Task.code values with SDOH-Task invariants 1-4 and 7 (they constrain inputs/outputs/focus).
PATIENT_TASK_CODES = {"complete-questionnaire", "general-information", "review-material", "make-contact"}


def codings(concept: dict[str, Any] | None) -> set[tuple[str, str]]:
    return {(c.get("system", ""), c.get("code", "")) for c in (concept or {}).get("coding", [])}


def parse(bundle: dict[str, Any]) -> list[str]:
    """Parse the Bundle and every resource with the R4B models; the problems as text."""
    problems = []
    try:
        Bundle.model_validate(bundle)
    except Exception as exc:  # pydantic's ValidationError, or a model error
        problems.append(f"Bundle: {exc}")
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        model = MODELS.get(resource.get("resourceType", ""))
        if model is None:
            problems.append(f"unexpected resource {resource.get('resourceType')}")
            continue
        try:
            model.model_validate(resource)
        except Exception as exc:
            problems.append(f"{resource['resourceType']}: {exc}")
    return problems


def by_type(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle.get("entry", []):
        out.setdefault(entry["resource"]["resourceType"], []).append(entry)
    return out


def _target(bundle: dict[str, Any], ref: dict[str, Any] | None) -> str:
    """The resourceType a reference points to inside the bundle ("" if it does not resolve)."""
    urls = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle.get("entry", [])}
    return urls.get((ref or {}).get("reference", ""), "")


def _profiled(resource: dict[str, Any], profile: str) -> bool:
    return profile in resource.get("meta", {}).get("profile", [])


def check_bundle(bundle: dict[str, Any]) -> list[str]:
    """Every rule below, over the whole bundle: parse problems first, then the profiles'."""
    problems = parse(bundle)
    if bundle.get("type") != "transaction":
        problems.append("Bundle.type must be transaction")
    for entry in bundle.get("entry", []):
        if not entry.get("fullUrl", "").startswith("urn:uuid:"):
            problems.append("entries need urn:uuid full URLs")
        request = entry.get("request", {})
        if request.get("method") not in {"POST", "PUT"} or not request.get("url"):
            problems.append("transaction entries need request.method and request.url")
    kinds = by_type(bundle)
    for kind in ("ServiceRequest", "Task", "Consent", "Patient"):
        if len(kinds.get(kind, [])) != 1:
            problems.append(f"exactly one {kind} expected")
    if problems:
        return problems
    sr = kinds["ServiceRequest"][0]
    task = kinds["Task"][0]
    consent = kinds["Consent"][0]
    problems += check_service_request(bundle, sr["resource"])
    problems += check_task(bundle, task["resource"], sr["fullUrl"])
    problems += check_consent(bundle, consent["resource"])
    problems += check_patient(kinds["Patient"][0]["resource"])
    for org in kinds.get("Organization", []):
        if not org["resource"].get("name") or "active" not in org["resource"]:
            problems.append("US Core Organization: name and active are required")
    return problems


def check_service_request(bundle: dict[str, Any], sr: dict[str, Any]) -> list[str]:
    p = []
    if not _profiled(sr, SDOHCC_SD + "SDOHCC-ServiceRequest"):
        p.append("ServiceRequest: meta.profile SDOHCC-ServiceRequest missing")
    if sr.get("status") not in REQUEST_STATUS:
        p.append(f"ServiceRequest.status {sr.get('status')!r} not a RequestStatus")
    if sr.get("intent") not in REQUEST_INTENT:
        p.append("ServiceRequest.intent must be a RequestIntent")
    cats = set().union(*(codings(c) for c in sr.get("category", []))) if sr.get("category") else set()
    sdoh = {code for system, code in cats if system == TEMP}
    if not sdoh or not sdoh <= SDOH_CATEGORIES:
        p.append(
            f"ServiceRequest.category needs an SDOH category from SDOHCC-ValueSetSDOHCategory, got {sdoh}"
        )
    # US Core ServiceRequest 7.0.0: code 1..1 (SDOHCC binds it to US Core procedure codes: SNOMED CT here).
    if not any(system == SCT for system, _ in codings(sr.get("code"))):
        p.append("ServiceRequest.code (US Core: required) must be a SNOMED CT procedure code")
    if _target(bundle, sr.get("subject")) != "Patient":
        p.append("ServiceRequest.subject must reference the Patient")
    if sr.get("requester") and _target(bundle, sr["requester"]) not in {"Organization", "PractitionerRole"}:
        p.append("ServiceRequest.requester must reference an Organization or PractitionerRole")
    for ref in sr.get("performer", []):
        if _target(bundle, ref) not in {"HealthcareService", "Organization", "PractitionerRole"}:
            p.append("ServiceRequest.performer must resolve to a HealthcareService or Organization")
    for ref in sr.get("supportingInfo", []):
        if _target(bundle, ref) != "Consent":
            p.append("ServiceRequest.supportingInfo must resolve (to the SDOHCC Consent)")
    if "specimen" in sr or "bodySite" in sr:
        p.append("ServiceRequest: specimen and bodySite are 0..0 in SDOHCC")
    if sr.get("priority") and sr["priority"] not in PRIORITY:
        p.append("ServiceRequest.priority must be a RequestPriority")
    for detail in sr.get("orderDetail", []):
        if (TEMP, "contacting-subject-prohibited") not in codings(detail):
            p.append("ServiceRequest.orderDetail: only contacting-subject-prohibited is used")
    return p


def check_task(bundle: dict[str, Any], task: dict[str, Any], request_url: str) -> list[str]:
    p = []
    if not _profiled(task, SDOHCC_SD + "SDOHCC-TaskForReferralManagement"):
        p.append("Task: meta.profile SDOHCC-TaskForReferralManagement missing")
    if task.get("status") not in REFERRAL_TASK_STATUS:
        p.append(f"Task.status {task.get('status')!r} is not in SDOHCC-ValueSetReferralTaskStatus")
    if task.get("intent") != "order":
        p.append("Task.intent must be order (fixed)")
    task_codes = codings(task.get("code"))
    if ("http://hl7.org/fhir/CodeSystem/task-code", "fulfill") not in task_codes:
        p.append("Task.code must be task-code#fulfill")
    if {code for _, code in task_codes} & PATIENT_TASK_CODES:
        p.append("Task.code of a patient task: SDOH-Task-1..4,7 would apply")
    if (task.get("focus") or {}).get("reference") != request_url:
        p.append("Task.focus must reference the SDOHCC ServiceRequest")
    if _target(bundle, task.get("for")) not in {"Patient", "RelatedPerson", "Group"}:
        p.append("Task.for must reference the Patient")
    if not task.get("authoredOn"):
        p.append("Task.authoredOn is required")
    if _target(bundle, task.get("requester")) not in {"Organization", "PractitionerRole"}:
        p.append("Task.requester must reference an Organization or PractitionerRole")
    if "owner" in task and not _target(bundle, task["owner"]):
        p.append("Task.owner must resolve inside the bundle")
    if "statusReason" in task and not task["statusReason"].get("text"):
        p.append("Task.statusReason.text is 1.. when statusReason is present")
    if task.get("status") in {"rejected", "cancelled", "on-hold", "failed"} and "statusReason" not in task:
        p.append("Task.statusReason.text should be included for rejected/cancelled/on-hold/failed")
    if task.get("priority") and task["priority"] not in PRIORITY:
        p.append("Task.priority must be a RequestPriority")
    return p


def check_consent(bundle: dict[str, Any], consent: dict[str, Any]) -> list[str]:
    p = []
    if not _profiled(consent, SDOHCC_SD + "SDOHCC-Consent"):
        p.append("Consent: meta.profile SDOHCC-Consent missing")
    if consent.get("status") not in CONSENT_STATUS:
        p.append("Consent.status must be a ConsentState")
    scope = codings(consent.get("scope"))
    if not scope:
        p.append("Consent.scope is required")
    cats = [codings(c) for c in consent.get("category", [])]
    idscl = [c for c in cats if ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IDSCL") in c]
    if len(idscl) != 1:
        p.append("Consent.category[IDSCL] is 1..1")
    if _target(bundle, consent.get("patient")) != "Patient":
        p.append("Consent.patient must reference the Patient (1..)")
    if not consent.get("dateTime"):
        p.append("Consent.dateTime is required")
    orgs = consent.get("organization", [])
    if len(orgs) != 1 or _target(bundle, orgs[0]) != "Organization":
        p.append("Consent.organization is 1..1 and references an Organization")
    if not (consent.get("sourceAttachment") or consent.get("sourceReference")):
        p.append("Consent.source[x] is required")
    # ppc-1: either a policy or a policy rule; ppc-2: a privacy consent has a patient.
    if not (consent.get("policy") or consent.get("policyRule")):
        p.append("ppc-1: Consent needs policy or policyRule")
    if ("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy") in scope and not consent.get(
        "patient"
    ):
        p.append("ppc-2: a privacy consent needs a patient")
    for performer in consent.get("performer", []):
        if _target(bundle, performer) not in {"Patient", "RelatedPerson", "Organization", "Practitioner"}:
            p.append("Consent.performer must resolve")
    return p


def check_patient(patient: dict[str, Any]) -> list[str]:
    p = []
    if not patient.get("identifier"):
        p.append("US Core Patient: identifier 1..*")
    if patient.get("gender") not in {"male", "female", "other", "unknown"}:
        p.append("US Core Patient: gender 1..1 from AdministrativeGender")
    names = patient.get("name", [])
    if not names:
        p.append("US Core Patient: name 1..*")
    for name in names:
        has_name = bool(name.get("family") or name.get("given"))
        absent = any(
            e.get("url") == "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
            for e in name.get("extension", [])
        )
        if has_name == absent:  # us-core-6: a name xor the data-absent-reason extension
            p.append("us-core-6: a name or a data-absent-reason, not both or neither")
    return p
