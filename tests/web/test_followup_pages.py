"""The follow-up worklist through Django's test client: counts and rows, callbacks from the night that
appear when the next shift starts, taking one, recording attempts, opening a callback case, and the
status of each POST (403 wrong role, 404 not there, 409 changed meanwhile, 422 bad input)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from crisisdesk.calls import services
from crisisdesk.calls.protocols import active_protocol, publish_protocol
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import Case, FollowUp, FollowUpAttempt
from crisisdesk.protocols import DEFAULT_PROTOCOL
from crisisdesk.web.views import casework as casework_views
from tests.calls.builders import ALL_CLEAR, CLOSED_AT, new_call
from tests.web.test_casework_pages import claimed_case, client_for, count_queries, open_protocol

__all__ = ["open_protocol"]  # the fixture, shared with the case page tests

ATTEMPT = {"channel": "phone", "outcome": "no_answer", "notes": ""}


def after_case_follow_up(tc: Any, sw: Any, incident: str = "MP-26-000101", minutes_ago: int = 10) -> FollowUp:
    """A case with the caller's consent and a follow-up planned on it (deadlines from the call)."""
    case = claimed_case(tc, sw, incident, minutes_ago=minutes_ago)
    consent = cs.record_consent(
        sw, case.pk, given_by="Dana", relation="caller", method="verbal_on_call", contact="(612) 555-0142"
    )
    return cs.schedule_follow_up(sw, consent.pk)


def callback(tc: Any, incident: str = "MP-26-000301", option: str = "callback_when_available") -> FollowUp:
    """A telecommunicator's callback fallback: a follow-up for the social workers, nobody's yet."""
    call = new_call(tc, incident)
    services.screen_call(tc, call.pk, dict(ALL_CLEAR))  # nobody available: fallback
    services.take_fallback(tc, call.pk, option, callback_number="612-555-0199")
    return FollowUp.objects.get(call=call)


def row(html: str, follow_up: FollowUp) -> str:
    """The HTML of one worklist row: up to the next row, or the end of the list."""
    start = html.index(f'id="fu-{follow_up.pk}"')
    ends = [i for i in (html.find('<li class="work-item', start), html.find("\n</ol>", start)) if i != -1]
    return html[start : min(ends)]


def test_worklist_counts_and_a_due_row(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    follow_up = after_case_follow_up(telecommunicator, social_worker)
    client = client_for(social_worker)
    response = client.get("/follow-ups/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="count-due">1<' in html and 'id="count-overdue">0<' in html and 'id="count-done">0<' in html
    item = row(html, follow_up)
    assert 'data-state="due"' in item and "(612) 555-0142" in item and "After a case" in item
    assert "0 / 3 attempts" in item and f'href="/cases/{follow_up.case_id}/"' in item
    due = timezone.localtime(follow_up.first_due_by)  # America/Chicago
    assert due.strftime("%H:%M") in item and "yours" in item
    assert 'href="/follow-ups/" accesskey="u" aria-current="page"' in html


def test_overdue_rows_come_first(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    due = after_case_follow_up(telecommunicator, social_worker, "MP-26-000101", minutes_ago=10)
    overdue = after_case_follow_up(telecommunicator, social_worker, "MP-26-000102", minutes_ago=60 * 30)
    html = client_for(social_worker).get("/follow-ups/").content.decode()
    assert 'id="count-due">1<' in html and 'id="count-overdue">1<' in html
    assert html.index(f'id="fu-{overdue.pk}"') < html.index(f'id="fu-{due.pk}"')
    assert 'data-state="overdue"' in row(html, overdue)


def test_callback_next_shift_appears_when_the_shift_starts(
    db: Any, telecommunicator: Any, social_worker: Any, monkeypatch: Any
) -> None:
    """Taken at 21:00 with the desk closed: counted as upcoming overnight, listed once the shift opens."""
    publish_protocol(None, Path(DEFAULT_PROTOCOL).read_text(encoding="utf-8"), system=True)  # real hours
    call = new_call(telecommunicator, "MP-26-000900")
    services.screen_call(telecommunicator, call.pk, dict(ALL_CLEAR), now=CLOSED_AT)
    services.take_fallback(
        telecommunicator, call.pk, "callback_next_shift", callback_number="612-555-0199", now=CLOSED_AT
    )
    follow_up = FollowUp.objects.get(call=call)
    _, _, calendar = active_protocol()
    opens = calendar.is_open(CLOSED_AT).next_opening
    assert opens is not None and follow_up.visible_from == opens
    client = client_for(social_worker)

    monkeypatch.setattr(casework_views, "clock", lambda: CLOSED_AT + timedelta(hours=1))
    night = client.get("/follow-ups/").content.decode()
    assert 'id="count-upcoming">1<' in night and f'id="fu-{follow_up.pk}"' not in night

    monkeypatch.setattr(casework_views, "clock", lambda: opens + timedelta(minutes=30))
    morning = client.get("/follow-ups/").content.decode()
    assert 'id="count-upcoming">0<' in morning and 'id="count-due">1<' in morning
    item = row(morning, follow_up)
    assert "Callback requested on a 911 call" in item and "612-555-0199" in item and "MP-26-000900" in item
    assert "nobody has it yet" in item and f'id="take-{follow_up.pk}"' in item
    assert f'id="open-case-{follow_up.pk}"' in item


def test_take_a_callback_and_then_it_is_the_takers_only(
    open_protocol: Any, telecommunicator: Any, social_worker: Any, make_user: Any
) -> None:
    follow_up = callback(telecommunicator)
    other = make_user("social_worker", "sw-two")
    assert (
        f'id="fu-{follow_up.pk}"' in client_for(other).get("/follow-ups/").content.decode()
    )  # unassigned: all see it
    taken = client_for(social_worker).post(f"/follow-ups/{follow_up.pk}/take/")
    assert taken.status_code == 302
    assert taken["Location"] == f"/follow-ups/?saved=take&id={follow_up.pk}#fu-{follow_up.pk}"
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == social_worker
    html = client_for(social_worker).get(taken["Location"]).content.decode()
    assert "You have this follow-up now." in row(html, follow_up) and "yours" in row(html, follow_up)
    # Once taken it is the taker's (domain.permissions: own scope): for anyone else it is not there.
    lost = client_for(other).post(f"/follow-ups/{follow_up.pk}/take/")
    assert lost.status_code == 404
    attempt = client_for(other).post(f"/follow-ups/{follow_up.pk}/attempts/", ATTEMPT)
    assert attempt.status_code == 404 and not FollowUpAttempt.objects.exists()


def test_record_attempts_until_done(open_protocol: Any, telecommunicator: Any, social_worker: Any) -> None:
    follow_up = after_case_follow_up(telecommunicator, social_worker)
    client = client_for(social_worker)
    url = f"/follow-ups/{follow_up.pk}/attempts/"
    bad = client.post(url, {"channel": "phone", "outcome": "abducted"})
    assert bad.status_code == 422 and "Select a valid choice" in row(bad.content.decode(), follow_up)
    assert client.post(url, {"channel": "pigeon", "outcome": "no_answer"}).status_code == 422
    assert not FollowUpAttempt.objects.exists()

    first = client.post(url, {**ATTEMPT, "notes": "Rang 8 times"})
    assert first.status_code == 302
    html = client.get(first["Location"]).content.decode()
    item = row(html, follow_up)
    assert "1 / 3 attempts" in item and "No answer" in item and "Rang 8 times" in item
    assert "Attempt recorded." in item and 'data-state="due"' in item  # the second attempt's deadline

    assert (
        client.post(url, {"channel": "phone", "outcome": "reached", "notes": "Doing better"}).status_code
        == 302
    )
    follow_up.refresh_from_db()
    assert follow_up.status == "completed"
    html = client.get("/follow-ups/").content.decode()
    assert 'id="count-done">1<' in html and 'data-state="done"' in row(html, follow_up)
    assert "Completed: reached" in row(html, follow_up) and "Record an attempt" not in row(html, follow_up)
    late = client.post(url, ATTEMPT)
    assert (
        late.status_code == 409 and "The follow-up is completed: no more attempts." in late.content.decode()
    )
    case_html = client.get(f"/cases/{follow_up.case_id}/").content.decode()
    assert (
        "completed: reached" in case_html.lower() and "2 attempts: no answer, reached the person" in case_html
    )


def test_open_a_callback_case_from_the_worklist(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    follow_up = callback(telecommunicator)
    client = client_for(social_worker)
    response = client.post(f"/follow-ups/{follow_up.pk}/case/")
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.origin == "callback" and case.call_id == follow_up.call_id and case.owner == social_worker
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == social_worker  # taken with it
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Callback requested on the 911 call: call <strong>612-555-0199</strong>" in html
    assert "Callback to 612-555-0199 requested on 911 call MP-26-000301" in html  # the opening note
    assert f'href="/cases/{case.pk}/"' in row(client.get("/follow-ups/").content.decode(), follow_up)
    again = client.post(f"/follow-ups/{follow_up.pk}/case/")
    assert again["Location"] == f"/cases/{case.pk}/" and Case.objects.count() == 1  # reused, not duplicated


def test_after_case_follow_up_opens_its_own_case(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    follow_up = after_case_follow_up(telecommunicator, social_worker)
    response = client_for(social_worker).post(f"/follow-ups/{follow_up.pk}/case/")
    assert response["Location"] == f"/cases/{follow_up.case_id}/" and Case.objects.count() == 1


@pytest.mark.parametrize("persona", ["telecommunicator", "supervisor", "evaluator"])
def test_worklist_is_for_social_workers(
    request: Any, open_protocol: Any, telecommunicator: Any, social_worker: Any, persona: str
) -> None:
    follow_up = after_case_follow_up(telecommunicator, social_worker)
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/follow-ups/").status_code == 403
    assert client.post(f"/follow-ups/{follow_up.pk}/attempts/", ATTEMPT).status_code == 403
    assert client.post(f"/follow-ups/{follow_up.pk}/take/").status_code == 403
    assert not FollowUpAttempt.objects.exists()


def test_a_follow_up_that_is_not_there_is_404(open_protocol: Any, social_worker: Any) -> None:
    client = client_for(social_worker)
    assert client.post("/follow-ups/999/attempts/", ATTEMPT).status_code == 404
    assert client.post("/follow-ups/999/take/").status_code == 404
    assert client.post("/follow-ups/999/case/").status_code == 404


def test_worklist_query_count_does_not_grow_with_rows(
    open_protocol: Any, telecommunicator: Any, social_worker: Any
) -> None:
    for n in range(2):
        follow_up = after_case_follow_up(telecommunicator, social_worker, f"MP-26-00010{n}")
        cs.record_attempt(social_worker, follow_up.pk, channel="phone", outcome="no_answer")
    callback(telecommunicator, "MP-26-000300")
    client = client_for(social_worker)
    few = count_queries(client, "/follow-ups/")
    for n in range(6):
        follow_up = after_case_follow_up(telecommunicator, social_worker, f"MP-26-00020{n}")
        cs.record_attempt(social_worker, follow_up.pk, channel="sms", outcome="left_message")
    for n in range(3):
        case_call = callback(telecommunicator, f"MP-26-00040{n}")
        client.post(f"/follow-ups/{case_call.pk}/case/")
    html = client.get("/follow-ups/").content.decode()
    assert html.count('class="work-item') == 12
    many = count_queries(client, "/follow-ups/")
    assert many == few, f"{few} queries for 3 rows, {many} for 12: the worklist grows with its rows"
