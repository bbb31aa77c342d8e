"""Two of everything: telecommunicator, social worker and their records A (own) and B (other), plus a
supervisor, an evaluator, an administrator and the CAD account, for the access-matrix walk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from crisisdesk.casework import services as cs
from crisisdesk.casework.models import Case
from crisisdesk.domain.roles import Role
from crisisdesk.referrals import services as rs
from tests.calls.builders import OPEN_AT
from tests.referrals.builders import agency_service, claimed_case, consent, person_id

# Text that must never reach someone outside the program team (clinical) or outside casework.
CLINICAL_MARKER = "ZZCLINICALNOTE"
PERSON_MARKER = "Ortiz"


@dataclass
class Side:
    tc: Any
    sw: Any
    case: Case
    records: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    a: Side
    b: Side
    people: dict[Role, Any]


def _side(make_user: Any, suffix: str, incident: str) -> Side:
    tc = make_user(Role.TELECOMMUNICATOR, f"tc-{suffix}")
    sw = make_user(Role.SOCIAL_WORKER, f"sw-{suffix}")
    case = claimed_case(tc, sw, incident)
    cs.add_note(
        sw,
        case.pk,
        "crisis_intervention",
        f"{CLINICAL_MARKER} talked through the crisis",
        now=OPEN_AT + timedelta(minutes=5),
    )
    contact = cs.record_consent(
        sw, case.pk, given_by="Dana Ortiz", relation="person_in_crisis", method="verbal_on_call",
        contact="612-555-0142", person_id=person_id(case), now=OPEN_AT + timedelta(minutes=6),
    )  # fmt: skip
    follow_up = cs.schedule_follow_up(sw, contact.pk, now=OPEN_AT + timedelta(minutes=7))
    service = agency_service(name=f"Housing Support {suffix}", organization=f"Agency {suffix}")
    rc = consent(sw, case, service)
    referral = rs.create_referral(
        sw, case.pk, service.pk, rc.pk, need="housing_instability", request_text="needs a bed"
    )
    esc = cs.escalate_case(sw, case.pk, "ems", "chest pain mentioned", now=OPEN_AT + timedelta(minutes=8))
    pid = person_id(case)
    other = case.participants.get().person
    records = {
        "call": case.call_id or 0,
        "transfer": case.transfer_id or 0,
        "case": case.pk,
        "follow_up": follow_up.pk,
        "referral": referral.pk,
        "person": pid,
        "escalation": esc.pk,
        "consent": rc.pk,
        "service": service.pk,
        "link": 0,
        "run": 0,
        "user": tc.pk,
    }
    del other
    return Side(tc, sw, case, records)


def build_world(make_user: Any) -> World:
    from django.utils import timezone

    from crisisdesk.directory.models import ImportRun

    a = _side(make_user, "a", "MP-26-000201")
    b = _side(make_user, "b", "MP-26-000202")
    run = ImportRun.objects.create(started_at=timezone.now(), format="json", source="test.json")
    a.records["run"] = b.records["run"] = run.pk
    people = {
        Role.SUPERVISOR: make_user(Role.SUPERVISOR, "sup"),
        Role.EVALUATOR: make_user(Role.EVALUATOR, "eval"),
        Role.ADMINISTRATOR: make_user(Role.ADMINISTRATOR, "admin", is_staff=True),
        Role.CAD_INTEGRATION: make_user(Role.CAD_INTEGRATION, "cad"),
    }
    return World(a, b, people)
