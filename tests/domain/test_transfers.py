"""The transfer lifecycle table (`crisisdesk.domain.transfers`): every (status, action) pair."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.domain.transfers import (
    ACTIVE,
    NEEDS_FALLBACK,
    TERMINAL,
    TRANSITIONS,
    InvalidTransition,
    TransferAction,
    TransferStatus,
    Transition,
    is_overdue,
    transition,
)
from crisisdesk.protocols import load_protocol

S, A = TransferStatus, TransferAction

# The lifecycle as the module docstring draws it, written out again so a change to the table is seen.
ALLOWED = {
    (S.REQUESTED, A.CLAIM): S.CLAIMED,
    (S.REQUESTED, A.TIMEOUT): S.TIMED_OUT,
    (S.REQUESTED, A.DECLINE): S.DECLINED,
    (S.REQUESTED, A.CANCEL): S.CANCELLED,
    (S.CLAIMED, A.ESCALATE): S.ESCALATED,
    (S.CLAIMED, A.COMPLETE): S.COMPLETED,
}
EVERY_PAIR = [
    pytest.param(status, action, id=f"{status.value}-{action.value}")
    for status, action in itertools.product(TransferStatus, TransferAction)
]


def test_table_is_the_documented_lifecycle() -> None:
    assert TRANSITIONS == ALLOWED


@pytest.mark.parametrize(("status", "action"), EVERY_PAIR)
def test_every_status_action_pair(status: TransferStatus, action: TransferAction) -> None:
    if (status, action) in ALLOWED:
        step = transition(status, action)
        assert step == Transition(status, action, ALLOWED[(status, action)])
        # Plain strings, as they arrive from the API or the database, give the same step.
        assert transition(status.value, action.value) == step
    else:
        with pytest.raises(InvalidTransition) as info:
            transition(status, action)
        assert info.value.status is status
        assert info.value.action is action
        assert str(info.value) == f"cannot {action.value} a transfer that is {status.value}"


def test_the_cross_product_is_complete() -> None:
    assert len(EVERY_PAIR) == len(TransferStatus) * len(TransferAction) == 42


@pytest.mark.parametrize(
    ("status", "action"),
    [
        pytest.param("lost", "claim", id="unknown-status"),
        pytest.param("requested", "grab", id="unknown-action"),
    ],
)
def test_unknown_codes_are_value_errors_not_invalid_transitions(status: str, action: str) -> None:
    with pytest.raises(ValueError):
        transition(status, action)


def test_active_and_terminal_partition_the_statuses() -> None:
    assert {S.REQUESTED, S.CLAIMED} == ACTIVE
    assert {S.TIMED_OUT, S.DECLINED, S.CANCELLED, S.ESCALATED, S.COMPLETED} == TERMINAL
    assert ACTIVE.isdisjoint(TERMINAL)
    assert set(TransferStatus) == ACTIVE | TERMINAL
    assert {S.TIMED_OUT, S.DECLINED} == NEEDS_FALLBACK
    assert NEEDS_FALLBACK <= TERMINAL


@pytest.mark.parametrize("status", list(TransferStatus), ids=lambda s: s.value)
def test_only_active_statuses_have_a_way_out(status: TransferStatus) -> None:
    outgoing = [action for (before, action) in TRANSITIONS if before is status]
    assert bool(outgoing) is (status in ACTIVE)


def test_every_status_is_reachable_from_requested() -> None:
    reached, frontier = {S.REQUESTED}, [S.REQUESTED]
    while frontier:
        current = frontier.pop()
        for (before, _), after in TRANSITIONS.items():
            if before is current and after not in reached:
                reached.add(after)
                frontier.append(after)
    assert reached == set(TransferStatus)


# --- timeout ------------------------------------------------------------------------------------------

TIMEOUT = load_protocol().transfer_timeout_seconds
REQUESTED_AT = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("elapsed", "overdue"),
    [
        pytest.param(timedelta(0), False, id="just-requested"),
        pytest.param(timedelta(seconds=TIMEOUT - 1), False, id="one-second-early"),
        pytest.param(
            timedelta(seconds=TIMEOUT) - timedelta(microseconds=1), False, id="one-microsecond-early"
        ),
        pytest.param(timedelta(seconds=TIMEOUT), True, id="exactly-at-timeout"),
        pytest.param(timedelta(seconds=TIMEOUT + 1), True, id="after-timeout"),
        pytest.param(timedelta(seconds=-5), False, id="clock-skew-backwards"),
    ],
)
def test_is_overdue_boundary(elapsed: timedelta, overdue: bool) -> None:
    assert TIMEOUT == 90
    assert is_overdue(REQUESTED_AT, REQUESTED_AT + elapsed, TIMEOUT) is overdue


def test_is_overdue_compares_instants_across_zones() -> None:
    now_local = (REQUESTED_AT + timedelta(seconds=TIMEOUT)).astimezone(ZoneInfo("America/Chicago"))
    assert is_overdue(REQUESTED_AT, now_local, TIMEOUT) is True
    assert is_overdue(REQUESTED_AT, now_local - timedelta(seconds=1), TIMEOUT) is False


def test_is_overdue_across_the_fall_back_hour() -> None:
    """01:59:30 CDT and 01:01:00 CST on 2026-11-01 are 90 s apart, though the wall clock went backwards."""
    chicago = ZoneInfo("America/Chicago")
    requested = datetime(2026, 11, 1, 1, 59, 30, tzinfo=chicago, fold=0)
    now = datetime(2026, 11, 1, 1, 1, 0, tzinfo=chicago, fold=1)
    assert is_overdue(requested.astimezone(UTC), now.astimezone(UTC), 90) is True


@pytest.mark.parametrize(
    ("requested", "now", "overdue"),
    [
        # Fall back: 01:59:30 CDT, then 90 real seconds later the wall clock reads 01:01:00 CST.
        pytest.param((2026, 11, 1, 1, 59, 30, 0), (2026, 11, 1, 1, 1, 0, 1), True, id="fall-back"),
        # Spring forward: 01:59:50 CST, then 20 real seconds later the wall clock reads 03:00:10 CDT.
        pytest.param((2026, 3, 8, 1, 59, 50, 0), (2026, 3, 8, 3, 0, 10, 0), False, id="spring-forward"),
    ],
)
def test_regression_is_overdue_with_local_times_across_a_dst_change(
    requested: tuple[int, ...], now: tuple[int, ...], overdue: bool
) -> None:
    """FAILS today: two datetimes sharing one ZoneInfo subtract as wall-clock times (Python ignores the
    offsets when both operands have the same tzinfo), so elapsed time is off by an hour across DST."""
    chicago = ZoneInfo("America/Chicago")

    def local(parts: tuple[int, ...]) -> datetime:
        year, month, day, hour, minute, second, fold = parts
        return datetime(year, month, day, hour, minute, second, tzinfo=chicago, fold=fold)

    assert is_overdue(local(requested), local(now), 90) is overdue
