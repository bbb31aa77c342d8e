"""`seed_demo` and `demo`: every role, a realistic MECC weekday, idempotent."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.test import Client

from crisisdesk.accounts.models import ApiToken, User
from crisisdesk.accounts.services import authenticate_token
from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.models import (
    Call,
    Decision,
    Escalation,
    FallbackRoute,
    IntakeConflict,
    ProtocolVersion,
    SocialWorkerStatus,
    Transfer,
)
from crisisdesk.calls.protocols import active_protocol
from crisisdesk.casework import queries
from crisisdesk.casework.models import Case, FollowUp, Person, PersonLink
from crisisdesk.domain.roles import Role
from crisisdesk.protocols import load_protocol
from crisisdesk.web.management.commands.demo import ensure_open_for_demo
from crisisdesk.web.management.commands.seed_demo import DEMO_USERS, demo_window

CHICAGO = ZoneInfo("America/Chicago")
# A Tuesday evening after the desk closed: the demo day is that Tuesday, 12:00-20:30.
NOW = datetime(2026, 11, 24, 21, 15, tzinfo=CHICAGO)


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "calls": Call.objects.count(),
        "decisions": Decision.objects.count(),
        "transfers": Transfer.objects.count(),
        "fallbacks": FallbackRoute.objects.count(),
        "escalations": Escalation.objects.count(),
        "conflicts": IntakeConflict.objects.count(),
        "protocols": ProtocolVersion.objects.count(),
        "live tokens": ApiToken.objects.filter(revoked_at=None).count(),
    }


def seed(**options: Any) -> str:
    out = StringIO()
    options.setdefault("history_weeks", 0)  # months of history cost time; one test below loads some
    call_command("seed_demo", now=NOW, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_twice_creates_every_role_once() -> None:
    first_output = seed()
    after_first = counts()
    second_output = seed()
    assert counts() == after_first, "a second run must not add anything"
    assert "already loaded" in second_output
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {r.value for r in Role}
    for spec in DEMO_USERS:
        assert len(spec.password) >= 15
        user = User.objects.get(username=spec.username)
        validate_password(spec.password, user)
        assert spec.password in first_output and spec.username in first_output
        assert Client().login(username=spec.username, password=spec.password)
    assert User.objects.get(username="admin.taylor").is_staff
    # The printed CAD token works; a later run revokes it and prints a new one.
    token = first_output.split("API token ", 1)[1].split()[0]
    new_token = second_output.split("API token ", 1)[1].split()[0]
    assert authenticate_token(token) is None
    assert authenticate_token(new_token) == User.objects.get(username="cad.mecc")


@pytest.mark.django_db
def test_demo_day_looks_like_a_weekday_at_mecc() -> None:
    seed(no_logins=True)
    _, protocol, _ = active_protocol()
    # The demo day (the week of casework before it is checked in the next test).
    calls = [c for c in Call.objects.all() if c.received_at.astimezone(CHICAGO).date() == NOW.date()]
    unscreened = [c for c in calls if not Decision.objects.filter(call=c).exists()]
    assert len(calls) >= 40
    known = [c for c in calls if protocol.find_call_type(c.call_type_raw)]
    assert len(known) >= len(calls) - 1  # one deliberately misspelt CAD name, flagged for review
    assert Call.objects.filter(call_type_needs_review=True).count() == 1
    for c in calls:
        local = c.received_at.astimezone(CHICAGO)
        assert c.caller_phone.startswith("(612) 555-01"), c.caller_phone
        assert "fictional" in c.narrative
        if Decision.objects.filter(call=c).exists():
            assert local.date() == NOW.date() and time(12) <= local.time() < time(20, 30)
    outcomes = set(Decision.objects.values_list("outcome", flat=True))
    assert outcomes == {"transfer", "dispatch", "fallback", "not_eligible"}
    statuses = set(Transfer.objects.values_list("status", flat=True))
    assert {"completed", "escalated", "timed_out", "claimed"} <= statuses
    assert not Transfer.objects.filter(status="requested").exists()  # nothing stale to time out later
    timed_out = Transfer.objects.get(status="timed_out")
    assert FallbackRoute.objects.filter(transfer=timed_out).exists()
    assert Escalation.objects.filter(escalated_at__date=NOW.date()).count() == 1
    assert len(unscreened) == 3  # fresh calls waiting on the console, not screened
    assert SocialWorkerStatus.objects.get(user__username="sw.morgan").status == "available"
    assert AuditEvent.objects.filter(action="transfer.claim").exists()


@pytest.mark.django_db
def test_demo_has_a_closed_week_of_cases_repeat_callers_and_open_follow_ups() -> None:
    seed(no_logins=True)
    week = Case.objects.filter(opened_at__date__lt=NOW.date())
    days = {c.opened_at.astimezone(CHICAGO).date() for c in week}
    assert len(days) == 5 and all(d.weekday() < 5 for d in days)
    assert week.count() == 10 and not week.exclude(status="closed").exists()
    # Repeat callers: one number on several cases, linked by the social workers where confirmed.
    by_phone = Counter(Person.objects.exclude(phone_e164="").values_list("phone_e164", flat=True))
    assert by_phone.most_common(1)[0][1] >= 4  # Dana: three calls in the week and one today
    assert PersonLink.objects.filter(undone_at=None).count() == 3
    assert Person.objects.filter(phone_valid=False, phone_raw="6736").exists()  # kept raw and flagged
    first_dana = (
        Case.objects.filter(participants__person__family_name="Whitfield").order_by("opened_at").first()
    )
    assert first_dana is not None and queries.repeat_calls_after_close(first_dana)[30] >= 2
    # Open follow-ups, among them last night's callbacks, visible when the shift opened.
    morgan = User.objects.get(username="sw.morgan")
    worklist = queries.worklist(morgan, NOW)
    assert worklist.counts["due"] + worklist.counts["overdue"] >= 2 and worklist.counts["done"] >= 1
    callbacks = FollowUp.objects.filter(kind="callback")
    assert callbacks.count() == 2
    assert all(
        f.visible_from.astimezone(CHICAGO) == datetime(2026, 11, 24, 12, 0, tzinfo=CHICAGO) for f in callbacks
    )
    # Cases still open today for the social workers to finish; the escalation was acknowledged.
    assert Case.objects.filter(status="open").count() >= 2
    assert not Escalation.objects.filter(acknowledged_at=None).exists()


@pytest.mark.django_db
def test_demo_history_lets_the_evaluation_count_repeat_calls() -> None:
    from crisisdesk.evaluation.report import evaluation_for

    out = seed(no_logins=True, history_weeks=8)
    assert "8 weeks of demo history" in out
    start = datetime(2026, 9, 1, tzinfo=CHICAGO)
    ev = evaluation_for(start, datetime(2026, 11, 1, tzinfo=CHICAGO), as_of=NOW)
    assert ev.funnel["answered"] > 0 and ev.comparison.calls > 0
    thirty = ev.program.repeats[0]
    assert thirty.days == 30 and thirty.eligible > 0  # some 30-day windows have passed
    assert ev.by_neighbourhood and "not recorded" not in ev.by_neighbourhood
    assert seed(no_logins=True, history_weeks=8).count("weeks of demo history") == 0  # once


def test_demo_window_never_lies_in_the_future() -> None:
    # Wednesday 13:00: too early for a day today, so the previous service day (Tuesday).
    start, end = demo_window(datetime(2026, 11, 25, 13, 0, tzinfo=CHICAGO))
    assert start == datetime(2026, 11, 24, 12, 0, tzinfo=CHICAGO) and end.astimezone(CHICAGO).hour == 20
    # Wednesday 17:00: today from noon until ten minutes ago.
    now = datetime(2026, 11, 25, 17, 0, tzinfo=CHICAGO)
    start, end = demo_window(now)
    assert start.date() == now.date() and end.astimezone(CHICAGO) == datetime(
        2026, 11, 25, 16, 50, tzinfo=CHICAGO
    )
    # Friday after Thanksgiving, 10:00: Thursday is a holiday, so Wednesday.
    start, _ = demo_window(datetime(2026, 11, 27, 10, 0, tzinfo=CHICAGO))
    assert start.date().isoformat() == "2026-11-25"


@pytest.mark.django_db
def test_demo_publishes_an_always_open_variant_only_when_closed(mecc_protocol: Any) -> None:
    open_at = datetime(2026, 11, 25, 13, 0, tzinfo=CHICAGO)
    assert ensure_open_for_demo(print, now=open_at) is None
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=CHICAGO)
    version = ensure_open_for_demo(print, now=sunday)
    assert version == "2026.11.1-demo-always-open"
    row, protocol, calendar = active_protocol()
    assert row.version == version and "DEMO ONLY" in row.change_note
    assert calendar.is_open(datetime(2026, 12, 25, 3, 0, tzinfo=CHICAGO)).open  # Christmas, 3 a.m.
    assert protocol.questions == load_protocol().questions  # only the hours changed
    assert ensure_open_for_demo(print, now=sunday) is None  # already the demo variant


@pytest.mark.django_db
def test_seed_demo_refuses_production_settings(settings: Any) -> None:
    from dataclasses import replace

    settings.CONFIG = replace(settings.CONFIG, debug=False)
    with pytest.raises(Exception, match="CRISISDESK_DEBUG"):
        seed()
    assert not User.objects.exists()
