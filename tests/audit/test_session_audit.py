"""A scripted session per role, through the real sign-in and pages, yields exactly the expected audit
rows: sign-in, every record shown, every change, every refusal, every export, sign-out; each with
actor, role, time, request id, client address and outcome; and the chain still verifies."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crisisdesk.audit.models import AuditEvent
from crisisdesk.audit.services import verify_chain
from crisisdesk.domain.roles import Role
from tests.access.world import World, build_world
from tests.accounts.helpers import give_device, sign_in_with_pages

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user: Any, mecc_protocol: Any) -> World:
    return build_world(make_user)


def _session(
    world: World, user: Any, steps: list[tuple[str, str, dict[str, Any] | None, int]]
) -> list[tuple[str, ...]]:
    """Sign in, run the steps (method, url, data, expected status), sign out; the rows written."""
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    client = Client(REMOTE_ADDR="10.1.2.3")
    device = give_device(user)
    assert sign_in_with_pages(client, user, device).status_code == 302
    for method, url, data, status in steps:
        response = getattr(client, method)(url, data or {})
        assert response.status_code == status, (method, url, response.status_code)
    assert client.post("/logout/").status_code == 302
    rows = list(AuditEvent.objects.filter(seq__gt=start).order_by("seq"))
    for row in rows:
        # who, role, when (UTC), where from, which request, outcome: on every row of the session
        assert row.actor_id == user.pk and row.actor_role == user.role, row
        assert (
            row.client_addr == "10.1.2.3"
            and len(row.request_id) == 32
            and row.at.utcoffset().total_seconds() == 0
        )
    assert verify_chain().ok
    return [(r.action, r.object_type, r.object_id, r.outcome) for r in rows]


def same(rows: list[tuple[str, ...]], expected: list[tuple[str, ...]]) -> bool:
    """Row by row; "*" in the expected row matches any value (ids the test cannot know)."""
    return len(rows) == len(expected) and all(
        all(e in ("*", g) for g, e in zip(got, want, strict=True))
        for got, want in zip(rows, expected, strict=True)
    )


def test_telecommunicator_session(world: World) -> None:
    a, b = world.a, world.b
    call, other_call = str(a.records["call"]), str(b.records["call"])
    rows = _session(
        world,
        a.tc,
        [
            ("get", f"/console/calls/{call}/", None, 200),
            ("get", f"/cases/{a.case.pk}/", None, 403),
        ],
    )
    escalations = [str(a.records["escalation"]), str(b.records["escalation"])]
    assert same(
        rows,
        [
            ("login.success", "loginsession", "*", "ok"),
            # the console: the call it opens, the center's recent calls, the escalation strip
            ("call.read", "call", call, "ok"),
            ("call.read", "call", other_call, "ok"),
            ("escalation.read", "escalation", escalations[0], "ok"),
            ("escalation.read", "escalation", escalations[1], "ok"),
            # a case is not part of a telecommunicator's role: refused, and the refusal audited
            ("access.denied", "", "", "denied"),
            ("logout", "loginsession", "*", "ok"),
        ],
    ), rows


def test_social_worker_session(world: World) -> None:
    a, b = world.a, world.b
    case, referral = a.case.pk, a.records["referral"]
    call, person = str(a.records["call"]), str(a.records["person"])
    rows = _session(
        world,
        a.sw,
        [
            ("get", f"/cases/{case}/", None, 200),
            ("post", f"/cases/{case}/notes/", {"kind": "support", "text": "called back, doing better"}, 302),
            ("get", f"/cases/{b.case.pk}/", None, 404),
            ("get", f"/referrals/{referral}/fhir.json", None, 200),
        ],
    )
    assert same(
        rows,
        [
            ("login.success", "loginsession", "*", "ok"),
            # the case workspace: the case, its person, its call, its referral, the prior contacts
            # (the person's linked records, and the other call from the same keyed number)
            ("case.read", "case", str(case), "ok"),
            ("person.read", "person", person, "ok"),
            ("call.read", "call", call, "ok"),
            ("referral.read", "referral", str(referral), "ok"),
            ("person.read_prior_contacts", "person", person, "ok"),
            ("prior_contact.read", "call", str(b.records["call"]), "ok"),
            # a note: the write, in its own transaction; the redirect after it shows nothing
            ("case.note", "casenote", "*", "ok"),
            # another social worker's case: not found, and the attempt is on record
            ("case.read", "case", str(b.case.pk), "denied"),
            # the FHIR export: the disclosure ledger row, the export, the referral it showed
            ("disclosure.record", "disclosure", "*", "ok"),
            ("referral.export_fhir", "referral", str(referral), "ok"),
            ("referral.read", "referral", str(referral), "ok"),
            ("logout", "loginsession", "*", "ok"),
        ],
    ), rows


def test_supervisor_session(world: World) -> None:
    a, b = world.a, world.b
    sup = world.people[Role.SUPERVISOR]
    person = str(a.records["person"])
    rows = _session(
        world,
        sup,
        [
            ("get", f"/cases/{a.case.pk}/", None, 200),
            ("get", f"/floor/privacy/?person={person}", None, 200),
        ],
    )
    assert same(
        rows,
        [
            ("login.success", "loginsession", "*", "ok"),
            ("case.read", "case", str(a.case.pk), "ok"),
            ("person.read", "person", person, "ok"),
            ("call.read", "call", str(a.records["call"]), "ok"),
            ("referral.read", "referral", str(a.records["referral"]), "ok"),
            ("person.read_prior_contacts", "person", person, "ok"),
            ("prior_contact.read", "call", str(b.records["call"]), "ok"),
            # the privacy review reads the audit trail: that is audited too (CJIS AU-2)
            ("audit.who_viewed", "person", person, "ok"),
            ("logout", "loginsession", "*", "ok"),
        ],
    ), rows


def test_evaluator_session(world: World) -> None:
    ev = world.people[Role.EVALUATOR]
    rows = _session(
        world,
        ev,
        [
            ("get", "/evaluation/program/", None, 200),  # aggregates only: no record is read
            ("get", "/evaluation/program/aggregates.csv", None, 200),
            ("get", f"/cases/{world.a.case.pk}/", None, 403),
        ],
    )
    assert same(
        rows,
        [
            ("login.success", "loginsession", "*", "ok"),
            ("export.evaluation_csv", "", "", "ok"),
            ("access.denied", "", "", "denied"),
            ("logout", "loginsession", "*", "ok"),
        ],
    ), rows


def test_administrator_session(world: World) -> None:
    adm = world.people[Role.ADMINISTRATOR]
    rows = _session(
        world, adm, [("get", "/admin/", None, 200), ("get", f"/cases/{world.a.case.pk}/", None, 403)]
    )
    assert same(
        rows,
        [
            ("login.success", "loginsession", "*", "ok"),
            ("access.denied", "", "", "denied"),
            ("logout", "loginsession", "*", "ok"),
        ],
    ), rows


def test_a_failed_sign_in_is_audited_without_an_actor(world: World) -> None:
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    client = Client(REMOTE_ADDR="10.1.2.3")
    assert (
        client.post(
            "/login/", {"username": world.a.sw.username, "password": "not the password at all"}
        ).status_code
        == 200
    )
    row = AuditEvent.objects.get(seq__gt=start)
    assert (row.action, row.outcome, row.object_id, row.client_addr) == (
        "login.failure",
        "denied",
        str(world.a.sw.pk),
        "10.1.2.3",
    )
    assert "not the password" not in str(row.details)
