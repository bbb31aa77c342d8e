"""The case transition table and the close rules (no database)."""

from __future__ import annotations

from dataclasses import replace
from itertools import product

import pytest

from crisisdesk.domain.cases import (
    REASON_TEXT,
    TRANSITIONS,
    CaseAction,
    CaseStatus,
    CloseFacts,
    Disposition,
    InvalidCaseTransition,
    close_check,
    transition,
)
from crisisdesk.domain.instruments import RiskLevel

EXPECTED = {
    ("open", "escalate"): "escalated",
    ("open", "close"): "closed",
    ("escalated", "close"): "closed",
    ("closed", "reopen"): "open",
}


@pytest.mark.parametrize(("status", "action"), list(product(CaseStatus, CaseAction)))
def test_every_pair_of_status_and_action(status: CaseStatus, action: CaseAction) -> None:
    expected = EXPECTED.get((status.value, action.value))
    if expected is None:
        with pytest.raises(
            InvalidCaseTransition, match=f"cannot {action.value} a case that is {status.value}"
        ):
            transition(status, action)
    else:
        assert transition(status, action) == CaseStatus(expected)


def test_the_table_is_exactly_the_documented_one() -> None:
    assert {(b.value, a.value): t.value for (b, a), t in TRANSITIONS.items()} == EXPECTED


OK = CloseFacts(
    status=CaseStatus.OPEN,
    disposition="resolved_by_phone",
    reason="Calm and safe",
    concerns=frozenset({"mental_health"}),
    risk_level=RiskLevel.LOW,
    escalated=False,
    escalation_offer_declined=False,
    safety_plan_complete=False,
)


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({}, ()),
        ({"status": CaseStatus.CLOSED}, ("case_not_open",)),
        ({"status": CaseStatus.ESCALATED, "escalated": True, "disposition": "ems_requested"}, ()),
        ({"disposition": "vanished"}, ("disposition_unknown",)),
        ({"reason": "  "}, ("close_reason_missing",)),
        ({"concerns": frozenset()}, ("concern_missing",)),
        ({"concerns": frozenset(), "disposition": "caller_disconnected"}, ()),
        ({"concerns": frozenset(), "disposition": "unable_to_reach"}, ()),
        ({"escalated": True}, ("escalated_case_needs_responder_disposition",)),
        ({"disposition": "police_requested"}, ("responder_disposition_needs_escalation",)),
        (
            {"risk_level": RiskLevel.HIGH},
            ("high_risk_escalation_not_offered", "high_risk_safety_plan_missing"),
        ),
        (
            {"risk_level": RiskLevel.HIGH, "escalation_offer_declined": True},
            ("high_risk_safety_plan_missing",),
        ),
        ({"risk_level": RiskLevel.HIGH, "escalation_offer_declined": True, "safety_plan_complete": True}, ()),
        # High risk does not block other dispositions (e.g. mobile crisis dispatched).
        ({"risk_level": RiskLevel.HIGH, "disposition": "mobile_crisis_dispatched"}, ()),
        ({"risk_level": RiskLevel.MODERATE}, ()),
        (
            {"status": CaseStatus.CLOSED, "reason": "", "disposition": "x"},
            ("case_not_open", "disposition_unknown", "close_reason_missing"),
        ),
    ],
)
def test_close_rules_return_every_broken_rule(changes: dict[str, object], reasons: tuple[str, ...]) -> None:
    check = close_check(replace(OK, **changes))  # type: ignore[arg-type]
    assert check.reasons == reasons and check.ok is (not reasons)
    assert all(r in REASON_TEXT for r in check.reasons)


def test_every_disposition_has_a_readable_code() -> None:
    assert all(d.value == d.value.lower() and " " not in d.value for d in Disposition)
