"""Builders for referral tests: a directory service, a claimed case with a person, a consent."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from crisisdesk.calls import services as calls
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import Case
from crisisdesk.directory.models import Organization, Service
from crisisdesk.referrals import services as rs
from crisisdesk.referrals.models import ReferralConsent
from tests.calls.builders import OPEN_AT, requested_transfer


def agency_service(
    name: str = "Housing Support Walk-in",
    organization: str | None = "Hennepin Housing Help",
    status: str = "active",
) -> Service:
    """A directory service (HSDS ids are UUIDs); `organization=None` gives a service without one."""
    org = (
        Organization.objects.create(hsds_id=str(uuid.uuid4()), name=organization, updated_at=timezone.now())
        if organization
        else None
    )
    return Service.objects.create(
        hsds_id=str(uuid.uuid4()), organization=org, name=name, status=status, updated_at=timezone.now()
    )


def claimed_case(tc: Any, sw: Any, incident_id: str = "MP-26-000101") -> Case:
    """A 911 call transferred and claimed by `sw`: its case is open, with Dana Ortiz in it."""
    transfer = requested_transfer(tc, sw, incident_id)
    calls.claim_transfer(sw, transfer.pk, now=OPEN_AT + timedelta(seconds=20))
    case = Case.objects.get(transfer=transfer)
    cs.add_person(
        sw, case.pk, relation="person_in_crisis", given_name="Dana", family_name="Ortiz",
        date_of_birth=date(1988, 4, 2), phone="612-555-0142", address="12 Elm St", language="Somali",
    )  # fmt: skip
    return case


def person_id(case: Case) -> int:
    return case.participants.get().person_id


def consent(sw: Any, case: Case, service: Service, **extra: Any) -> ReferralConsent:
    fields: dict[str, Any] = {
        "given_by": "Dana Ortiz",
        "relation": "person_in_crisis",
        "method": "verbal_on_call",
        "contact": "(612) 555-0142",
        "person_id": person_id(case),
    }
    fields.update(extra)
    return rs.record_referral_consent(sw, case.pk, service.pk, **fields)
