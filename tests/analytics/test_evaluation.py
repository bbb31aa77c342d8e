"""Program evaluation measures on generated rows with known answers (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.analytics.evaluation import evaluate, in_comparison, month_bounds
from crisisdesk.analytics.evaluation_published import publish

pytestmark = pytest.mark.analytics

T0 = datetime(2026, 10, 5, 18, 0, tzinfo=UTC)


def row(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "call_id": 1,
        "received_at": T0,
        "call_type": "Emotionally Disturb Person",
        "apco_code": "EDP",
        "scope": "in_scope",
        "neighbourhood": "Whittier",
        "caller_key": "",
        "screened": True,
        "outcome": "transfer",
        "reasons": ["eligible"],
        "transferred": True,
        "answered": True,
        "seconds_to_answer": 20.0,
        "transfer_status": "completed",
        "escalated": False,
        "escalation_responder": "",
        "seconds_to_acknowledge": None,
        "case_id": 1,
        "case_status": "closed",
        "case_closed_at": T0 + timedelta(minutes=30),
        "disposition": "resolved_by_phone",
        "language": "English",
        "interpreter_used": False,
        "follow_ups": 0,
        "follow_ups_done": 0,
        "follow_ups_reached": 0,
        "referrals": 0,
        "referrals_completed": 0,
        "referrals_failed": 0,
    }
    base.update(kw)
    return base


def fallback(**kw: Any) -> dict[str, Any]:
    return row(
        outcome="fallback", reasons=["outside_service_hours"], transferred=False, answered=False,
        seconds_to_answer=None, transfer_status="", case_id=None, case_status="", case_closed_at=None,
        disposition="", language="", **kw,
    )  # fmt: skip


def test_funnel_answer_times_outcomes_and_follow_ups() -> None:
    rows = [
        row(call_id=1, seconds_to_answer=10.0, follow_ups=1, follow_ups_done=1, follow_ups_reached=1),
        row(call_id=2, seconds_to_answer=30.0, referrals=2, referrals_completed=1, referrals_failed=1),
        row(
            call_id=3,
            seconds_to_answer=50.0,
            escalated=True,
            escalation_responder="ems",
            seconds_to_acknowledge=12.0,
            disposition="ems_requested",
            transfer_status="escalated",
        ),  # fmt: skip
        row(
            call_id=4,
            transferred=True,
            answered=False,
            seconds_to_answer=None,
            transfer_status="timed_out",
            case_id=None,
            case_status="",
            disposition="",
        ),  # fmt: skip
        fallback(call_id=5),
        row(
            call_id=6,
            scope="emergency_only",
            outcome="dispatch",
            reasons=["call_type_emergency_only"],
            transferred=False,
            answered=False,
            seconds_to_answer=None,
            transfer_status="",
            case_id=None,
            case_status="",
            disposition="",
        ),  # fmt: skip
        row(
            call_id=7,
            screened=False,
            outcome="",
            reasons=[],
            transferred=False,
            answered=False,
            seconds_to_answer=None,
            transfer_status="",
            case_id=None,
            case_status="",
            disposition="",
        ),  # fmt: skip
    ]
    ev = evaluate(rows, [], start=T0, end=T0 + timedelta(days=1), as_of=T0 + timedelta(days=1))
    assert ev.funnel == {
        "calls": 7, "screened": 6, "in_scope": 6, "decided_transfer": 4, "transferred": 4, "answered": 3,
        "timed_out_or_declined": 1, "fallback": 1, "kept_with_police_fire_ems": 1,
    }  # fmt: skip
    assert ev.seconds_to_answer == {"median": 30.0, "p90": 50.0}
    assert ev.outcomes["resolved_without_police_or_ems"] == 2
    assert ev.outcomes["escalations"] == 1 and ev.outcomes["escalations_ems"] == 1
    assert ev.seconds_to_acknowledge["median"] == 12.0
    assert ev.follow_ups == {"planned": 1, "done": 1, "reached": 1}
    assert ev.comparison.calls == 2  # the timed-out transfer and the after-hours fallback
    assert ev.comparison_by_reason == {"outside service hours": 1, "transfer timed out": 1}
    assert ev.referrals == {"made": 2, "completed": 1, "failed": 1}
    assert ev.notes == ()


def test_repeat_calls_count_only_full_windows_and_known_callers() -> None:
    a, b, c = "key-a", "key-b", "key-c"
    rows = [
        row(call_id=1, caller_key=a),  # repeats 10 and 100 days later
        row(call_id=2, caller_key=b),  # no repeat
        row(call_id=3, caller_key=""),  # unknown caller: left out of the measure
        fallback(call_id=4, caller_key=c),  # comparison: repeat 45 days later
    ]
    later = [(a, T0), (a, T0 + timedelta(days=10)), (a, T0 + timedelta(days=100)), (b, T0),
             (c, T0), (c, T0 + timedelta(days=45))]  # fmt: skip
    ev = evaluate(rows, later, start=T0, end=T0 + timedelta(days=1), as_of=T0 + timedelta(days=120))
    program = {r.days: (r.eligible, r.with_repeat) for r in ev.program.repeats}
    assert program == {30: (2, 1), 90: (2, 1), 180: (0, 0)}  # 180 days have not passed yet
    assert ev.program.no_caller_key == 1
    comparison = {r.days: (r.eligible, r.with_repeat) for r in ev.comparison.repeats}
    assert comparison == {30: (1, 0), 90: (1, 1), 180: (0, 0)}
    assert ev.program.repeats[0].rate == 0.5 and ev.program.repeats[2].rate is None


def test_the_index_call_itself_is_not_a_repeat() -> None:
    ev = evaluate([row(caller_key="k")], [("k", T0)], start=T0, end=T0, as_of=T0 + timedelta(days=31))
    assert ev.program.repeats[0].with_repeat == 0


def test_small_cells_are_withheld_with_a_complement_in_breakdowns() -> None:
    # 14 answered calls are printed in the funnel: withholding Somali (3) alone would give it away
    # as 14 - 11, so English is withheld too.
    rows = [row(call_id=i, language="Somali" if i < 3 else "English") for i in range(14)]
    ev = evaluate(rows, [], start=T0, end=T0 + timedelta(days=1), as_of=T0)
    assert ev.by_language == {"English": 11, "Somali": 3}  # raw, for analysis only
    published = publish(ev)
    assert published.shown(("funnel", "answered")) == "14"
    assert published.breakdown("answered_by_language") == {"English": "*", "Somali": "*"}


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, False),  # answered: the program group
        ({"answered": False, "transfer_status": "declined"}, True),
        ({"answered": False, "transferred": False, "reasons": ["social_worker_unavailable"]}, True),
        (
            {"answered": False, "transferred": False, "reasons": ["caller_declined"]},
            False,
        ),  # a choice, not capacity
        ({"answered": False, "transferred": False, "reasons": ["weapon"]}, False),
        ({"answered": False, "scope": "not_in_scope", "reasons": ["outside_service_hours"]}, False),
    ],
)
def test_who_is_in_the_comparison_group(kw: dict[str, Any], expected: bool) -> None:
    assert in_comparison(row(**kw)) is expected


def test_month_bounds_are_local_months() -> None:
    chicago = ZoneInfo("America/Chicago")
    start, end = month_bounds(2026, 12, chicago)
    assert start == datetime(2026, 12, 1, tzinfo=chicago) and end == datetime(2027, 1, 1, tzinfo=chicago)
    assert (end - start) == timedelta(days=31)
