"""The referral lifecycle, reports, needs and the follow-up check (`crisisdesk.domain.referrals`)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.domain.calendar import NaiveDatetimeError
from crisisdesk.domain.referrals import (
    ACTIVE,
    AGENCY_ACTIONS,
    DEFAULT_CHECK_RULE,
    FHIR_SERVICE_REQUEST_STATUS,
    FHIR_TASK_STATUS,
    OPEN,
    REASON_TEXT,
    SDOH_CATEGORY,
    TERMINAL,
    TRANSITIONS,
    InvalidReferralTransition,
    ReferralAction,
    ReferralCheckRule,
    ReferralMode,
    ReferralNeed,
    ReferralStatus,
    Report,
    allowed_actions,
    check_plan,
    parse_check_rule,
    response_problems,
    suggest_need,
    transition,
)

S, A = ReferralStatus, ReferralAction
CHI = ZoneInfo("America/Chicago")
SENT = datetime(2026, 11, 25, 13, 0, tzinfo=CHI)
NOW = SENT + timedelta(hours=5)

# The lifecycle as the module docstring draws it, written out again so a change to the table is seen.
ALLOWED = {
    (S.DRAFT, A.SEND): S.REQUESTED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.REQUESTED, A.ACCEPT): S.ACCEPTED,
    (S.REQUESTED, A.REJECT): S.REJECTED,
    (S.REQUESTED, A.CANCEL): S.CANCELLED,
    (S.ACCEPTED, A.START): S.IN_PROGRESS,
    (S.ACCEPTED, A.COMPLETE): S.COMPLETED,
    (S.ACCEPTED, A.FAIL): S.FAILED,
    (S.ACCEPTED, A.CANCEL): S.CANCELLED,
    (S.IN_PROGRESS, A.COMPLETE): S.COMPLETED,
    (S.IN_PROGRESS, A.FAIL): S.FAILED,
    (S.IN_PROGRESS, A.CANCEL): S.CANCELLED,
}
EVERY_PAIR = [
    pytest.param(status, action, id=f"{status.value}-{action.value}")
    for status, action in itertools.product(ReferralStatus, ReferralAction)
]


def test_table_is_the_documented_lifecycle() -> None:
    assert TRANSITIONS == ALLOWED


@pytest.mark.parametrize(("status", "action"), EVERY_PAIR)
def test_every_status_action_pair(status: ReferralStatus, action: ReferralAction) -> None:
    if (status, action) in ALLOWED:
        assert transition(status, action) is ALLOWED[(status, action)]
        # Plain strings, as they arrive from a form or the database, give the same step.
        assert transition(status.value, action.value) is ALLOWED[(status, action)]
        assert action in allowed_actions(status)
    else:
        with pytest.raises(InvalidReferralTransition) as info:
            transition(status, action)
        assert info.value.status is status and info.value.action is action
        assert str(info.value) == f"cannot {action.value} a referral that is {status.value.replace('_', ' ')}"
        assert action not in allowed_actions(status)


def test_the_cross_product_is_complete() -> None:
    assert len(EVERY_PAIR) == len(ReferralStatus) * len(ReferralAction) == 56


@pytest.mark.parametrize(("status", "action"), [("lost", "send"), ("draft", "teleport")])
def test_unknown_codes_are_value_errors_not_invalid_transitions(status: str, action: str) -> None:
    with pytest.raises(ValueError) as info:
        transition(status, action)
    assert not isinstance(info.value, InvalidReferralTransition)


def test_active_terminal_and_open_sets() -> None:
    assert {S.DRAFT, S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS} == ACTIVE
    assert {S.REJECTED, S.COMPLETED, S.FAILED, S.CANCELLED} == TERMINAL
    assert ACTIVE - {S.DRAFT} == OPEN
    # Terminal states have no way out; every active one has at least cancel.
    for status in TERMINAL:
        assert allowed_actions(status) == ()
    for status in ACTIVE:
        assert A.CANCEL in allowed_actions(status)


def test_every_status_maps_to_an_sdohcc_referral_task_status() -> None:
    # SDOHCC-ValueSetReferralTaskStatus = FHIR TaskStatus minus `ready` and `received`.
    task_status = {
        "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
        "in-progress", "on-hold", "failed", "completed", "entered-in-error",
    }  # fmt: skip
    allowed = task_status - {"ready", "received"}
    assert set(FHIR_TASK_STATUS) == set(ReferralStatus)
    assert set(FHIR_TASK_STATUS.values()) <= allowed
    assert len(set(FHIR_TASK_STATUS.values())) == len(ReferralStatus)  # one to one
    request_status = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    assert set(FHIR_SERVICE_REQUEST_STATUS) == set(ReferralStatus)
    assert set(FHIR_SERVICE_REQUEST_STATUS.values()) <= request_status
    assert FHIR_SERVICE_REQUEST_STATUS[S.COMPLETED] == "completed"
    assert {FHIR_SERVICE_REQUEST_STATUS[s] for s in OPEN} == {"active"}


# --- reports ---------------------------------------------------------------------------------------


def report(action: A, **kw: object) -> Report:
    return Report(action=action, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "rep", "reasons"),
    [
        pytest.param(
            "manual",
            report(A.ACCEPT, said="We can see her Thursday 10:00", channel="phone", occurred_at=NOW),
            (),
            id="manual-accept-complete",
        ),
        pytest.param(
            "manual",
            report(A.ACCEPT),
            ("channel_missing", "agency_words_missing", "when_missing"),
            id="manual-accept-empty",
        ),  # fmt: skip
        pytest.param(
            "manual",
            report(A.ACCEPT, said="ok", channel="partner_system", occurred_at=NOW),
            ("manual_agency_has_no_system",),
            id="manual-agency-has-no-system",
        ),
        pytest.param(
            "manual",
            report(A.REJECT, said="Full until January", channel="fax", occurred_at=NOW),
            ("reason_missing",),
            id="manual-reject-needs-reason",
        ),
        pytest.param(
            "manual",
            report(A.ACCEPT, said="yes", channel="carrier pigeon", occurred_at=NOW),
            ("channel_unknown",),
            id="unknown-channel",
        ),
        pytest.param(
            "manual",
            report(A.ACCEPT, said="yes", channel="phone", occurred_at=NOW + timedelta(hours=1)),
            ("when_in_future",),
            id="future",
        ),
        pytest.param(
            "manual",
            report(A.ACCEPT, said="yes", channel="phone", occurred_at=SENT - timedelta(minutes=5)),
            ("when_before_sent",),
            id="before-sent",
        ),
        pytest.param(
            "manual",
            report(A.ACCEPT, said="yes", channel="phone", occurred_at=datetime(2026, 11, 25, 14, 0)),  # noqa: DTZ001
            ("when_not_aware",),
            id="naive-time",
        ),
        pytest.param("electronic", report(A.ACCEPT, channel="partner_system"), (), id="electronic-accept"),
        pytest.param("electronic", report(A.COMPLETE), ("channel_missing",), id="electronic-needs-channel"),
        pytest.param("manual", report(A.CANCEL), ("reason_missing",), id="cancel-needs-reason"),
        pytest.param("manual", report(A.CANCEL, reason="Person changed her mind"), (), id="cancel-ok"),
        pytest.param("manual", report(A.SEND, channel="phone"), (), id="send-manual"),
        pytest.param(
            "manual",
            report(A.FAIL, said="She did not come", channel="email", occurred_at=NOW, reason="No show"),
            (),
            id="fail-complete",
        ),
    ],
)
def test_response_problems(mode: str, rep: Report, reasons: tuple[str, ...]) -> None:
    check = response_problems(mode, rep, sent_at=SENT, now=NOW)
    assert check.reasons == reasons
    assert check.ok is (not reasons)
    for r in reasons:
        assert r in REASON_TEXT  # every reason has words for the page


def test_a_minute_either_way_is_tolerated() -> None:
    # Times are typed to the minute: "13:00" for a referral sent at 13:00:40 is not "before it was sent".
    for at in (NOW + timedelta(seconds=30), SENT - timedelta(seconds=40)):
        rep = report(A.ACCEPT, said="yes", channel="phone", occurred_at=at)
        assert response_problems(ReferralMode.MANUAL, rep, sent_at=SENT, now=NOW).ok
    late = report(A.ACCEPT, said="yes", channel="phone", occurred_at=SENT - timedelta(seconds=61))
    assert response_problems(ReferralMode.MANUAL, late, sent_at=SENT, now=NOW).reasons == (
        "when_before_sent",
    )


def test_agency_actions_are_the_reported_ones() -> None:
    assert frozenset({A.ACCEPT, A.REJECT, A.START, A.COMPLETE, A.FAIL}) == AGENCY_ACTIONS


# --- needs ---------------------------------------------------------------------------------------


def test_every_need_has_an_sdohcc_category() -> None:
    assert set(SDOH_CATEGORY) == set(ReferralNeed)
    assert SDOH_CATEGORY[ReferralNeed.HOUSING_INSTABILITY] == ("housing-instability", "Housing Instability")
    # Mental health is not an SDOH domain in Gravity: it exports as "unspecified".
    assert SDOH_CATEGORY[ReferralNeed.MENTAL_HEALTH][0] == "sdoh-category-unspecified"


@pytest.mark.parametrize(
    ("texts", "need"),
    [
        (("housing support open now",), ReferralNeed.HOUSING_INSTABILITY),
        (("Emergency SHELTER tonight",), ReferralNeed.HOMELESSNESS),
        (("", "Walk-in detox, 24/7"), ReferralNeed.SUBSTANCE_USE),
        (("food shelf",), ReferralNeed.FOOD_INSECURITY),
        (("knitting club",), ReferralNeed.OTHER),
        ((), ReferralNeed.OTHER),
    ],
)
def test_suggest_need(texts: tuple[str, ...], need: ReferralNeed) -> None:
    assert suggest_need(*texts) is need


# --- the follow-up check ---------------------------------------------------------------------------


def test_default_check_starts_48_hours_after_sending_and_is_visible_at_once() -> None:
    plan = check_plan(DEFAULT_CHECK_RULE, SENT)
    assert plan.visible_from == SENT.astimezone(UTC)
    assert plan.start == datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # 13:00 CST + 48 h
    assert plan.start.tzinfo is UTC and plan.rule_version == "referral-check/1"


def test_check_hours_are_elapsed_across_the_fall_back_change() -> None:
    # Sent Saturday 2026-10-31 12:00 CDT; 48 elapsed hours later is Monday 11:00 CST (wall clock -1 h).
    plan = check_plan(DEFAULT_CHECK_RULE, datetime(2026, 10, 31, 12, 0, tzinfo=CHI))
    assert plan.start.astimezone(CHI) == datetime(2026, 11, 2, 11, 0, tzinfo=CHI)


def test_check_plan_refuses_a_naive_time() -> None:
    with pytest.raises(NaiveDatetimeError):
        check_plan(DEFAULT_CHECK_RULE, datetime(2026, 11, 25, 13, 0))  # noqa: DTZ001


def test_parse_check_rule_round_trip_and_problems() -> None:
    rule = parse_check_rule({"version": "mecc/2", "start_after_hours": 72})
    assert rule == ReferralCheckRule("mecc/2", timedelta(hours=72))
    assert parse_check_rule({"version": "now", "start_after_hours": 0}).start_after == timedelta(0)
    with pytest.raises(ValueError) as info:
        parse_check_rule({"version": "", "start_after_hours": True, "colour": "red"})
    message = str(info.value)
    assert "colour: unknown setting" in message and "version" in message and "start_after_hours" in message
    with pytest.raises(ValueError, match="between 0 and 720"):
        parse_check_rule({"version": "x", "start_after_hours": 721})
    with pytest.raises(ValueError, match="mapping"):
        parse_check_rule(["version"])  # type: ignore[arg-type]
