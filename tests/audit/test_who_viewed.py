"""The privacy review: who read or changed a person's records between two dates (Minn. Stat. 13.055)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crisisdesk.audit.models import AuditEvent
from crisisdesk.audit.queries import records_of_person, who_viewed_person
from crisisdesk.calls.models import Call
from crisisdesk.domain.roles import Role
from tests.access.world import build_world
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_who_viewed_lists_exactly_the_people_who_saw_the_persons_records(
    make_user: Any, mecc_protocol: Any
) -> None:
    world = build_world(make_user)
    a, b = world.a, world.b
    supervisor = world.people[Role.SUPERVISOR]
    person = a.records["person"]
    # Both sides' calls came from the same test number; make B's another caller's, so that case B is
    # not about this person (calls from the person's keyed number are: see records_of_person).
    Call.objects.filter(pk=b.records["call"]).update(caller_key="another-callers-key")
    start = timezone.now() - timedelta(minutes=1)
    assert sign_in(Client(), a.sw).get(f"/cases/{a.case.pk}/").status_code == 200
    assert sign_in(Client(), supervisor).get(f"/cases/{a.case.pk}/").status_code == 200
    assert sign_in(Client(), a.tc).get(f"/console/calls/{a.records['call']}/").status_code == 200
    assert sign_in(Client(), b.sw).get(f"/cases/{a.case.pk}/").status_code == 404  # not theirs
    assert sign_in(Client(), b.sw).get(f"/cases/{b.case.pk}/").status_code == 200  # someone else's person
    end = timezone.now() + timedelta(minutes=1)
    # Independently computed: every audit row about a record of this person, and nothing else.
    refs = records_of_person(person)
    expected = {
        e.seq
        for e in AuditEvent.objects.filter(at__gte=start, at__lt=end)
        if e.object_id in refs.get(e.object_type, set())
    }

    rows = who_viewed_person(supervisor, person, start, end)
    viewers = {(r["actor__username"], r["action"], r["outcome"]) for r in rows}
    assert ("sw-a", "case.read", "ok") in viewers and ("sw-a", "person.read", "ok") in viewers
    assert ("sup", "case.read", "ok") in viewers
    assert ("tc-a", "call.read", "ok") in viewers
    assert ("sw-b", "case.read", "denied") in viewers  # the refused attempt is part of the answer
    assert {r["seq"] for r in rows} == expected
    assert not any(r["object_type"] == "case" and r["object_id"] == str(b.case.pk) for r in rows)
    # Every row says who, role, what, when, from where and the outcome.
    # (rows of the pages; the world was built by calling services directly, outside any request)
    reads = [r for r in rows if r["action"].endswith(".read")]
    assert reads and all(
        r["request_id"] and r["client_addr"] == "127.0.0.1" and r["actor_role"] for r in reads
    )
    # The review itself is audited.
    assert AuditEvent.objects.filter(
        action="audit.who_viewed", actor=supervisor, object_id=str(person)
    ).exists()


def test_only_supervisors_run_the_review_and_the_page_answers(make_user: Any, mecc_protocol: Any) -> None:
    world = build_world(make_user)
    supervisor = world.people[Role.SUPERVISOR]
    page = sign_in(Client(), supervisor).get(f"/floor/privacy/?case={world.a.case.pk}")
    assert page.status_code == 200, page.content
    text = page.content.decode()
    # The world's writes (a note, a consent, a referral) by sw-a are about this person's records.
    assert "sw-a" in text and "case.note" in text, text[text.find("<h1") :][:3000]
    assert sign_in(Client(), world.a.sw).get("/floor/privacy/").status_code == 403
    assert sign_in(Client(), world.people[Role.EVALUATOR]).get("/floor/privacy/").status_code == 403
