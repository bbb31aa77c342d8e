"""Retention decisions without a database: the boundary day, live records, holders, the policy."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.domain.calendar import NaiveDatetimeError
from crisisdesk.domain.retention import (
    RECORD_TYPES,
    SIX_YEARS,
    Outcome,
    Reason,
    RecordFacts,
    RetentionPolicyError,
    decide,
    parse_policy,
    policy_document,
)
from crisisdesk.retention.policy_file import load_policy_file

CHICAGO = ZoneInfo("America/Chicago")
CLOSED = datetime(2026, 11, 25, 15, 30, tzinfo=CHICAGO)
POLICY = load_policy_file()
CASE_DAYS = POLICY.rules["case"].days


def case(closed_at: datetime | None = CLOSED, **extra: Any) -> RecordFacts:
    return RecordFacts("case", {"closed_at": closed_at}, **extra)


def test_the_shipped_policy_covers_every_record_type_and_keeps_the_floors() -> None:
    assert set(POLICY.rules) == {t.key for t in RECORD_TYPES}
    assert POLICY.rules["audit_event"].days >= SIX_YEARS
    assert POLICY.rules["disclosure_ledger"].days >= SIX_YEARS
    assert (POLICY.rules["case"].days, POLICY.rules["case"].counted_from) == (2555, "closed_at")
    assert POLICY.rules["call"].counted_from == "received_at"
    assert POLICY.rules["follow_up"].counted_from == "ended_at"
    assert all(r.basis for r in POLICY.rules.values()), "every period says where it comes from"
    assert parse_policy(policy_document(POLICY)) == POLICY


@pytest.mark.parametrize(
    ("after_close", "outcome", "reason"),
    [
        (timedelta(days=CASE_DAYS - 1), Outcome.KEEP, Reason.INSIDE_RETENTION),
        (timedelta(days=CASE_DAYS) - timedelta(microseconds=1), Outcome.KEEP, Reason.INSIDE_RETENTION),
        (timedelta(days=CASE_DAYS), Outcome.DUE, Reason.PERIOD_ELAPSED),
        (timedelta(days=CASE_DAYS + 1), Outcome.DUE, Reason.PERIOD_ELAPSED),
    ],
    ids=["day-before", "last-microsecond", "boundary", "day-after"],
)
def test_a_closed_case_is_due_exactly_when_its_period_ends(
    after_close: timedelta, outcome: Outcome, reason: Reason
) -> None:
    decision = decide(case(), POLICY, CLOSED + after_close)
    assert (decision.outcome, decision.reasons, decision.version) == (outcome, (reason,), POLICY.version)
    assert decision.due_at == CLOSED.astimezone(UTC) + timedelta(days=CASE_DAYS)


def test_days_are_elapsed_days_across_daylight_saving_changes() -> None:
    # A call received at 12:00 CDT in July: 365 elapsed days later is 11:00 CST on the wall clock.
    received = datetime(2026, 7, 1, 12, 0, tzinfo=CHICAGO)
    facts = RecordFacts("call", {"received_at": received})
    assert not decide(facts, POLICY, datetime(2027, 7, 1, 6, 59, tzinfo=CHICAGO)).due
    # 2027-07-01 12:00 CDT is exactly 365 days (no DST difference in July to July).
    assert decide(facts, POLICY, datetime(2027, 7, 1, 12, 0, tzinfo=CHICAGO)).due
    winter = datetime(2026, 1, 10, 12, 0, tzinfo=CHICAGO)  # CST
    facts = RecordFacts("call", {"received_at": winter})
    # 365 days later in UTC; on the wall clock of 2027-01-10 it is 12:00 CST again.
    assert decide(facts, POLICY, datetime(2027, 1, 10, 12, 0, tzinfo=CHICAGO)).due
    assert not decide(facts, POLICY, datetime(2027, 1, 10, 11, 59, tzinfo=CHICAGO)).due


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (case(live=(Reason.CASE_OPEN,)), Reason.CASE_OPEN),
        (RecordFacts("call", {"received_at": CLOSED}, live=(Reason.TRANSFER_LIVE,)), Reason.TRANSFER_LIVE),
        (
            RecordFacts("follow_up", {"ended_at": CLOSED}, live=(Reason.FOLLOW_UP_PENDING,)),
            Reason.FOLLOW_UP_PENDING,
        ),
        (
            RecordFacts("referral", {"ended_at": CLOSED}, live=(Reason.REFERRAL_ACTIVE,)),
            Reason.REFERRAL_ACTIVE,
        ),
    ],
    ids=["open-case", "live-transfer", "pending-follow-up", "active-referral"],
)
def test_live_records_are_never_due_whatever_their_age(facts: RecordFacts, reason: Reason) -> None:
    decision = decide(facts, POLICY, CLOSED + timedelta(days=100 * 365))
    assert decision.outcome is Outcome.KEEP and decision.reasons == (reason,)


def test_a_record_with_nothing_to_count_from_is_kept() -> None:
    decision = decide(case(closed_at=None), POLICY, CLOSED + timedelta(days=50 * 365))
    assert (decision.outcome, decision.reasons, decision.due_at) == (Outcome.KEEP, (Reason.NOT_ENDED,), None)


def test_a_record_held_by_a_kept_record_is_kept_and_says_by_what() -> None:
    facts = RecordFacts("call", {"received_at": CLOSED}, held_by=("case", "case", "follow_up"))
    decision = decide(facts, POLICY, CLOSED + timedelta(days=4000))
    assert (decision.outcome, decision.reasons, decision.held_by) == (
        Outcome.KEEP,
        (Reason.HELD,),
        ("case", "follow_up"),
    )


def test_every_reason_to_keep_is_given_at_once() -> None:
    facts = case(live=(Reason.CASE_OPEN, Reason.ESCALATION_UNACKNOWLEDGED), held_by=("referral",))
    decision = decide(facts, POLICY, CLOSED + timedelta(days=1))
    assert decision.reasons == (
        Reason.CASE_OPEN,
        Reason.ESCALATION_UNACKNOWLEDGED,
        Reason.INSIDE_RETENTION,
        Reason.HELD,
    )


def test_the_rule_counts_from_the_instant_the_policy_names() -> None:
    doc = policy_document(POLICY)
    doc["version"] = "referrals-from-creation"
    doc["rules"]["referral"] = {"days": 30, "counted_from": "created_at"}
    policy = parse_policy(doc)
    created, ended = CLOSED, CLOSED + timedelta(days=20)
    facts = RecordFacts("referral", {"created_at": created, "ended_at": ended})
    assert decide(facts, policy, created + timedelta(days=30)).due
    assert decide(facts, POLICY, created + timedelta(days=30)).reasons == (Reason.INSIDE_RETENTION,)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        decide(case(), POLICY, datetime(2040, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(NaiveDatetimeError):
        decide(case(closed_at=datetime(2026, 1, 1)), POLICY, CLOSED)  # noqa: DTZ001


def test_only_live_state_reasons_count_as_live() -> None:
    with pytest.raises(ValueError, match="live-state"):
        decide(case(live=(Reason.PERIOD_ELAPSED,)), POLICY, CLOSED)


def _broken(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(policy_document(POLICY))
    for key, value in changes.items():
        if value is None:
            del doc["rules"][key]
        else:
            doc["rules"][key] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (_broken(audit_event={"days": 365, "counted_from": "at"}), "audit_event.days: at least 2190"),
        (_broken(disclosure_ledger={"days": 2189}), "disclosure_ledger.days: at least 2190"),
        (_broken(case={"days": 2555, "counted_from": "opened_at"}), "case.counted_from: one of closed_at"),
        (_broken(case={"days": True}), "case.days: must be a whole number"),
        (_broken(case={"days": 7.5}), "case.days: must be a whole number"),
        (_broken(call={"days": -1}), "call.days: between 0"),
        (_broken(call=None), "no rule for call"),
        (_broken(tweets={"days": 1}), "unknown record types tweets"),
        (_broken(call={"days": 1, "keep": "forever"}), "call: unknown keys keep"),
    ],
)
def test_an_invalid_policy_is_refused_with_the_problem(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(RetentionPolicyError) as caught:
        parse_policy(doc)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_not_just_the_first() -> None:
    doc = _broken(case={"days": "seven years"}, call=None)
    doc["version"] = ""
    with pytest.raises(RetentionPolicyError) as caught:
        parse_policy(doc)
    assert len(caught.value.problems) == 3
