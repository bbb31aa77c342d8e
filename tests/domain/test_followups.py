"""Follow-up policy, lifecycle and worklist (`crisisdesk.domain.followups`), DST days included."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.domain.calendar import NaiveDatetimeError, ServiceCalendar
from crisisdesk.domain.followups import (
    ACTIVE,
    DEFAULT_POLICY,
    TERMINAL,
    TRANSITIONS,
    AttemptOutcome,
    FollowUpAction,
    FollowUpPolicy,
    FollowUpPolicyError,
    FollowUpStatus,
    InvalidFollowUpTransition,
    WorklistState,
    action_for_attempt,
    after_attempt,
    attempt_deadlines,
    next_shift_start,
    parse_policy,
    policy_document,
    transition,
    worklist_state,
)
from crisisdesk.protocols import load_protocol

CHI = ZoneInfo("America/Chicago")
S, A, Out = FollowUpStatus, FollowUpAction, AttemptOutcome
H = timedelta(hours=1)


def chi(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHI, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def policy(first: float, attempts: int, last: float) -> FollowUpPolicy:
    return FollowUpPolicy("test/1", timedelta(hours=first), attempts, timedelta(hours=last))


# --- policy as data -----------------------------------------------------------------------------------


def test_default_policy() -> None:
    assert DEFAULT_POLICY.first_within == 24 * H
    assert DEFAULT_POLICY.max_attempts == 3
    assert DEFAULT_POLICY.last_within == 72 * H
    assert policy_document(DEFAULT_POLICY) == {
        "version": DEFAULT_POLICY.version,
        "first_within_hours": 24,
        "max_attempts": 3,
        "last_within_hours": 72,
    }
    assert type(policy_document(DEFAULT_POLICY)["first_within_hours"]) is int


@pytest.mark.parametrize(
    "p",
    [DEFAULT_POLICY, policy(1.5, 5, 48), policy(0.25, 1, 0.25), policy(24, 10, 2160), policy(2, 2, 2)],
    ids=["default", "fractional", "single-attempt", "limits", "all-at-once"],
)
def test_policy_document_round_trip(p: FollowUpPolicy) -> None:
    doc = policy_document(p)
    assert all(isinstance(doc[k], int | float) for k in ("first_within_hours", "last_within_hours"))
    assert parse_policy(doc) == p


def _errors(doc: Any) -> list[str]:
    with pytest.raises(FollowUpPolicyError) as info:
        parse_policy(doc)
    assert isinstance(info.value, ValueError)
    return info.value.problems


def test_every_policy_problem_is_listed() -> None:
    problems = _errors(
        {"version": " ", "first_within_hours": 0, "max_attempts": 11, "last_within_hours": -1, "retries": 2}
    )
    assert problems == [
        "retries: unknown setting (expected version, first_within_hours, max_attempts, last_within_hours)",
        "version: must be a non-empty string, not ' '",
        "first_within_hours: must be positive, not 0",
        "last_within_hours: must be positive, not -1",
        "max_attempts: must be between 1 and 10, not 11",
    ]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        pytest.param(
            {"last_within_hours": 12},
            "last_within_hours: must be at least first_within_hours",
            id="last-before-first",
        ),
        pytest.param(
            {"max_attempts": 0}, "max_attempts: must be between 1 and 10, not 0", id="zero-attempts"
        ),
        pytest.param(
            {"max_attempts": 3.0}, "max_attempts: must be a whole number, not 3.0", id="float-attempts"
        ),
        pytest.param(
            {"max_attempts": True}, "max_attempts: must be a whole number, not True", id="bool-attempts"
        ),
        pytest.param(
            {"max_attempts": 1},
            "last_within_hours: with a single attempt it must equal first_within_hours",
            id="single-attempt-two-deadlines",
        ),
        pytest.param(
            {"first_within_hours": "24"},
            "first_within_hours: must be a number of hours, not '24'",
            id="string-hours",
        ),
        pytest.param(
            {"first_within_hours": True},
            "first_within_hours: must be a number of hours, not True",
            id="bool-hours",
        ),
        pytest.param(
            {"first_within_hours": math.nan},
            "first_within_hours: must be a number of hours, not nan",
            id="nan",
        ),
        pytest.param(
            {"last_within_hours": math.inf}, "last_within_hours: must be a number of hours, not inf", id="inf"
        ),
        pytest.param(
            {"last_within_hours": 1e300}, "last_within_hours: 1e+300 hours is more than 90 days", id="huge"
        ),
        pytest.param(
            {"last_within_hours": 2161},
            "last_within_hours: 2161 hours is more than 90 days",
            id="over-90-days",
        ),
        pytest.param({"version": None}, "version: must be a non-empty string, not None", id="no-version"),
    ],
)
def test_policy_problem(changes: dict[str, Any], problem: str) -> None:
    assert _errors({**policy_document(DEFAULT_POLICY), **changes}) == [problem]


def test_policy_must_be_a_mapping() -> None:
    assert _errors([24, 3, 72]) == ["the policy must be a mapping, not list"]


# --- deadlines ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "hours"),
    [
        pytest.param(DEFAULT_POLICY, (24, 48, 72), id="default"),
        pytest.param(policy(24, 4, 72), (24, 40, 56, 72), id="four-attempts"),
        pytest.param(policy(4, 2, 48), (4, 48), id="two-attempts"),
        pytest.param(policy(6, 1, 6), (6,), id="one-attempt"),
        pytest.param(policy(1, 4, 2), (1, 1 + 1 / 3, 1 + 2 / 3, 2), id="thirds-of-an-hour"),
    ],
)
def test_attempt_deadlines_are_evenly_spaced(p: FollowUpPolicy, hours: tuple[float, ...]) -> None:
    start = utc(2026, 11, 25, 19)
    deadlines = attempt_deadlines(p, start)
    assert len(deadlines) == p.max_attempts
    assert deadlines[-1] == start + p.last_within  # exact, whatever the rounding of the steps
    for got, h in zip(deadlines, hours, strict=True):
        assert abs(got - (start + timedelta(hours=h))) <= timedelta(microseconds=1)
    assert list(deadlines) == sorted(deadlines)
    assert all(d.tzinfo is UTC for d in deadlines)


@pytest.mark.parametrize(
    ("start", "local_deadlines"),
    [
        # Fall back (2026-11-01 02:00 CDT -> 01:00 CST): 24 elapsed hours after 12:00 CDT is 11:00 CST.
        pytest.param(
            chi(2026, 10, 31, 12),
            [chi(2026, 11, 1, 11), chi(2026, 11, 2, 11), chi(2026, 11, 3, 11)],
            id="fall-back",
        ),
        # Spring forward (2026-03-08 02:00 CST -> 03:00 CDT): 24 h after 12:00 CST is 13:00 CDT.
        pytest.param(
            chi(2026, 3, 7, 12),
            [chi(2026, 3, 8, 13), chi(2026, 3, 9, 13), chi(2026, 3, 10, 13)],
            id="spring-forward",
        ),
        # Started in the repeated hour: the first 01:30 (CDT) and the second (CST) are an hour apart.
        pytest.param(
            chi(2026, 11, 1, 1, 30, fold=0),
            [chi(2026, 11, 2, 0, 30), chi(2026, 11, 3, 0, 30), chi(2026, 11, 4, 0, 30)],
            id="fold-first-0130",
        ),
        pytest.param(
            chi(2026, 11, 1, 1, 30, fold=1),
            [chi(2026, 11, 2, 1, 30), chi(2026, 11, 3, 1, 30), chi(2026, 11, 4, 1, 30)],
            id="fold-second-0130",
        ),
        # 02:30 does not exist on 2026-03-08; zoneinfo reads it with the CST offset (= 03:30 CDT).
        pytest.param(
            chi(2026, 3, 8, 2, 30),
            [chi(2026, 3, 9, 3, 30), chi(2026, 3, 10, 3, 30), chi(2026, 3, 11, 3, 30)],
            id="gap-0230",
        ),
    ],
)
def test_deadlines_are_elapsed_hours_across_dst(start: datetime, local_deadlines: list[datetime]) -> None:
    deadlines = attempt_deadlines(DEFAULT_POLICY, start)
    assert [d.astimezone(UTC) for d in deadlines] == [d.astimezone(UTC) for d in local_deadlines]
    for d, hours in zip(deadlines, (24, 48, 72), strict=True):
        assert d.timestamp() - start.timestamp() == hours * 3600


def test_wall_clock_arithmetic_would_be_an_hour_off() -> None:
    """Why the module goes through UTC: same-zone aware arithmetic adds wall-clock time."""
    start = chi(2026, 10, 31, 12)
    wall_clock = start + 24 * H  # 12:00 CST on 11-01: 25 real hours later
    assert wall_clock.timestamp() - start.timestamp() == 25 * 3600
    assert attempt_deadlines(DEFAULT_POLICY, start)[0].timestamp() == wall_clock.timestamp() - 3600


def test_deadlines_refuse_naive_start() -> None:
    with pytest.raises(NaiveDatetimeError):
        attempt_deadlines(DEFAULT_POLICY, datetime(2026, 11, 25, 19))  # noqa: DTZ001


# --- lifecycle ------------------------------------------------------------------------------------------

ALLOWED = {
    (S.PENDING, A.RETRY): S.PENDING,
    (S.PENDING, A.COMPLETE): S.COMPLETED,
    (S.PENDING, A.DECLINE): S.DECLINED,
    (S.PENDING, A.GIVE_UP): S.UNREACHABLE,
    (S.PENDING, A.CANCEL): S.CANCELLED,
}
EVERY_PAIR = [
    pytest.param(status, action, id=f"{status.value}-{action.value}")
    for status, action in itertools.product(FollowUpStatus, FollowUpAction)
]


def test_table_is_the_documented_lifecycle() -> None:
    assert TRANSITIONS == ALLOWED
    assert len(EVERY_PAIR) == 25


@pytest.mark.parametrize(("status", "action"), EVERY_PAIR)
def test_every_status_action_pair(status: FollowUpStatus, action: FollowUpAction) -> None:
    if (status, action) in ALLOWED:
        assert transition(status, action) is ALLOWED[(status, action)]
        assert transition(status.value, action.value) is ALLOWED[(status, action)]
    else:
        with pytest.raises(InvalidFollowUpTransition) as info:
            transition(status, action)
        assert (info.value.status, info.value.action) == (status, action)
        assert str(info.value) == f"cannot {action.value} a follow-up that is {status.value}"


@pytest.mark.parametrize(("status", "action"), [("lost", "retry"), ("pending", "snooze")])
def test_unknown_codes_are_value_errors_not_invalid_transitions(status: str, action: str) -> None:
    with pytest.raises(ValueError):
        transition(status, action)


def test_active_and_terminal() -> None:
    assert {S.PENDING} == ACTIVE
    assert {S.COMPLETED, S.DECLINED, S.UNREACHABLE, S.CANCELLED} == TERMINAL
    reachable = {after for (before, _), after in TRANSITIONS.items() if before is S.PENDING}
    assert reachable == set(FollowUpStatus)
    assert all(before in ACTIVE for before, _ in TRANSITIONS)


CONTINUING = (Out.LEFT_MESSAGE, Out.NO_ANSWER, Out.OTHER)


# `attempts_so_far` includes the attempt being recorded: 1 for the first, 3 for the last by default.
@pytest.mark.parametrize(
    ("outcome", "attempts_so_far", "status"),
    [
        *[pytest.param(Out.REACHED, n, S.COMPLETED, id=f"reached-attempt-{n}") for n in (1, 2, 3)],
        *[pytest.param(Out.DECLINED, n, S.DECLINED, id=f"declined-attempt-{n}") for n in (1, 2, 3)],
        *[
            pytest.param(o, n, S.UNREACHABLE, id=f"{o.value}-attempt-{n}")
            for o in (Out.WRONG_NUMBER, Out.NUMBER_NOT_IN_SERVICE)
            for n in (1, 2, 3)
        ],
        *[pytest.param(o, n, S.PENDING, id=f"{o.value}-attempt-{n}") for o in CONTINUING for n in (1, 2)],
        *[pytest.param(o, 3, S.UNREACHABLE, id=f"{o.value}-last-attempt") for o in CONTINUING],
    ],
)
def test_after_attempt_with_the_default_policy(
    outcome: AttemptOutcome, attempts_so_far: int, status: FollowUpStatus
) -> None:
    assert after_attempt(DEFAULT_POLICY, attempts_so_far, outcome) is status
    assert after_attempt(DEFAULT_POLICY, attempts_so_far, outcome.value) is status


def test_every_outcome_is_covered() -> None:
    for outcome in AttemptOutcome:
        for n in range(1, DEFAULT_POLICY.max_attempts + 1):
            assert action_for_attempt(DEFAULT_POLICY, n, outcome) in FollowUpAction


def test_a_run_of_no_answers_ends_unreachable_on_the_last_attempt() -> None:
    """Replays a follow-up attempt by attempt, as the service does (count after the new row)."""
    for max_attempts in range(1, 11):
        p = policy(24, max_attempts, 72 if max_attempts > 1 else 24)
        statuses = [after_attempt(p, n, Out.NO_ANSWER) for n in range(1, max_attempts + 1)]
        assert statuses == [S.PENDING] * (max_attempts - 1) + [S.UNREACHABLE]


def test_single_attempt_policy_gives_up_after_one_no_answer() -> None:
    assert after_attempt(policy(24, 1, 24), 1, Out.NO_ANSWER) is S.UNREACHABLE


@pytest.mark.parametrize("attempts_so_far", [-1, 0, 4, 5])
def test_attempts_outside_the_policy_are_refused(attempts_so_far: int) -> None:
    with pytest.raises(ValueError, match="outside the policy's 3 attempts"):
        after_attempt(DEFAULT_POLICY, attempts_so_far, Out.NO_ANSWER)


def test_unknown_outcome_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        after_attempt(DEFAULT_POLICY, 1, "voicemail_full")


# --- worklist ------------------------------------------------------------------------------------------

START = utc(2026, 11, 25, 19)  # a Wednesday, 13:00 CST
US = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("attempts", "now", "visible_from", "state", "due_by"),
    [
        pytest.param(0, START, None, WorklistState.DUE, START + 24 * H, id="just-created"),
        pytest.param(
            0, START + 24 * H, None, WorklistState.DUE, START + 24 * H, id="at-the-deadline-still-due"
        ),
        pytest.param(
            0, START + 24 * H + US, None, WorklistState.OVERDUE, START + 24 * H, id="one-microsecond-late"
        ),
        pytest.param(1, START + 30 * H, None, WorklistState.DUE, START + 48 * H, id="second-attempt-due"),
        pytest.param(
            1, START + 49 * H, None, WorklistState.OVERDUE, START + 48 * H, id="second-attempt-late"
        ),
        pytest.param(2, START + 80 * H, None, WorklistState.OVERDUE, START + 72 * H, id="last-attempt-late"),
        pytest.param(
            3, START + 10 * H, None, WorklistState.DUE, START + 72 * H, id="attempts-used-up-still-listed"
        ),
        pytest.param(
            5, START + 99 * H, None, WorklistState.OVERDUE, START + 72 * H, id="more-attempts-than-policy"
        ),
        pytest.param(0, START - 1 * H, None, WorklistState.UPCOMING, START + 24 * H, id="before-start"),
        pytest.param(
            0, START + 2 * H, START + 3 * H, WorklistState.UPCOMING, START + 24 * H, id="not-visible-yet"
        ),
        pytest.param(0, START + 3 * H, START + 3 * H, WorklistState.DUE, START + 24 * H, id="visible-now"),
    ],
)
def test_worklist_state(
    attempts: int, now: datetime, visible_from: datetime | None, state: WorklistState, due_by: datetime
) -> None:
    assert worklist_state(DEFAULT_POLICY, START, S.PENDING, attempts, now, visible_from) == (state, due_by)


@pytest.mark.parametrize("status", sorted(TERMINAL), ids=lambda s: s.value)
def test_ended_follow_ups_are_done(status: FollowUpStatus) -> None:
    for now in (START - H, START, START + 200 * H):
        assert worklist_state(DEFAULT_POLICY, START, status, 1, now) == (WorklistState.DONE, None)
    assert worklist_state(DEFAULT_POLICY, START, status.value, 0, START) == (WorklistState.DONE, None)


def test_worklist_overdue_compares_instants_in_the_repeated_hour() -> None:
    """Due 01:30 CDT; at 01:10 CST (40 real minutes later, an earlier wall-clock time) it is overdue."""
    start = chi(2026, 10, 31, 1, 30)  # 01:30 CDT the day before
    due = chi(2026, 11, 1, 1, 30, fold=0)
    now = chi(2026, 11, 1, 1, 10, fold=1)
    state, due_by = worklist_state(DEFAULT_POLICY, start, S.PENDING, 0, now)
    assert due_by is not None and due_by.timestamp() == due.timestamp()
    assert state is WorklistState.OVERDUE
    assert (
        worklist_state(DEFAULT_POLICY, start, S.PENDING, 0, chi(2026, 11, 1, 1, 50, fold=0))[0]
        is WorklistState.OVERDUE
    )
    assert (
        worklist_state(DEFAULT_POLICY, start, S.PENDING, 0, chi(2026, 11, 1, 1, 20, fold=0))[0]
        is WorklistState.DUE
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"now": datetime(2026, 11, 25, 20)}, NaiveDatetimeError, id="naive-now"),  # noqa: DTZ001
        pytest.param({"start": datetime(2026, 11, 25, 20)}, NaiveDatetimeError, id="naive-start"),  # noqa: DTZ001
        pytest.param({"visible_from": datetime(2026, 11, 25, 20)}, NaiveDatetimeError, id="naive-visible"),  # noqa: DTZ001
        pytest.param({"attempts_made": -1}, ValueError, id="negative-attempts"),
        pytest.param({"status": "lost"}, ValueError, id="unknown-status"),
    ],
)
def test_worklist_refuses_bad_input(kwargs: dict[str, Any], error: type[Exception]) -> None:
    args: dict[str, Any] = {
        "start": START,
        "status": S.PENDING,
        "attempts_made": 0,
        "now": START,
        "visible_from": None,
    }
    with pytest.raises(error):
        worklist_state(DEFAULT_POLICY, **{**args, **kwargs})


# --- callback next shift -----------------------------------------------------------------------------------

MECC = ServiceCalendar(load_protocol().calendar)  # Mon-Fri 12:00-20:30 America/Chicago, US holidays


@pytest.mark.parametrize(
    ("requested", "opening"),
    [
        # Wednesday night before Thanksgiving: Thursday is a holiday, so Friday noon.
        pytest.param(chi(2026, 11, 25, 22), chi(2026, 11, 27, 12), id="over-thanksgiving"),
        # Friday night before the fall-back weekend: Monday noon CST.
        pytest.param(chi(2026, 10, 30, 22), chi(2026, 11, 2, 12), id="over-fall-back-weekend"),
        # Friday night before spring forward: Monday noon CDT.
        pytest.param(chi(2026, 3, 6, 22), chi(2026, 3, 9, 12), id="over-spring-forward-weekend"),
        # The desk is open: the callback goes on the list at once.
        pytest.param(chi(2026, 11, 25, 13), chi(2026, 11, 25, 13), id="open-now"),
    ],
)
def test_callback_next_shift_starts_at_the_next_opening(requested: datetime, opening: datetime) -> None:
    start = next_shift_start(MECC, requested)
    assert start.tzinfo is UTC
    assert start == opening.astimezone(UTC)


def test_callback_next_shift_on_the_worklist() -> None:
    """Called back from a Friday-night fallback: invisible all weekend, due 24 h after Monday's opening."""
    start = next_shift_start(MECC, chi(2026, 10, 30, 22))
    saturday = chi(2026, 10, 31, 10)
    state, due_by = worklist_state(DEFAULT_POLICY, start, S.PENDING, 0, saturday, visible_from=start)
    assert state is WorklistState.UPCOMING
    assert due_by == chi(2026, 11, 3, 12).astimezone(UTC)
    assert (
        worklist_state(DEFAULT_POLICY, start, S.PENDING, 0, chi(2026, 11, 2, 12), start)[0]
        is WorklistState.DUE
    )
    assert worklist_state(DEFAULT_POLICY, start, S.PENDING, 0, chi(2026, 11, 3, 12, 1), start)[0] is (
        WorklistState.OVERDUE
    )
