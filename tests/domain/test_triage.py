"""`crisisdesk.domain.triage.decide`: every outcome and reason code, on the shipped MECC protocol."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crisisdesk.domain.calendar import NaiveDatetimeError, ServiceCalendar
from crisisdesk.domain.protocol import QuestionKind, parse_protocol
from crisisdesk.domain.reasons import DISPATCH_REASONS, FALLBACK_REASONS, Outcome, Reason
from crisisdesk.domain.triage import Decision, decide, fallback_for_unclaimed_transfer, fallback_options_for
from crisisdesk.protocols import load_protocol, read_protocol_document

CHI = ZoneInfo("America/Chicago")
P = load_protocol()
EDP = "Emotionally Disturb Person"
EXCLUSIONS = tuple(q.id for q in P.questions if q.kind is QuestionKind.EXCLUSION)
CONSENT = "caller_accepts_social_worker"
ALL_CLEAR: dict[str, bool | None] = {**dict.fromkeys(EXCLUSIONS, False), CONSENT: True}

OPEN = datetime(2026, 11, 25, 13, 0, tzinfo=CHI)  # Wednesday, within 12:00-20:30
BEFORE_HOURS = datetime(2026, 11, 25, 8, 0, tzinfo=CHI)
AFTER_HOURS = datetime(2026, 11, 25, 21, 0, tzinfo=CHI)
SATURDAY = datetime(2026, 11, 28, 14, 0, tzinfo=CHI)
THANKSGIVING = datetime(2026, 11, 26, 14, 0, tzinfo=CHI)

# The options mecc.yaml lists for each fallback reason (read by a person from the file, not computed).
OSH_OPTIONS = ("mobile_crisis_team", "988", "callback_next_shift")
SWU_OPTIONS = ("mobile_crisis_team", "988", "callback_when_available")
DECLINED_OPTIONS = ("mobile_crisis_team", "988")


def run(
    call_type: str = EDP,
    answers: dict[str, bool | None] | None = None,
    at: datetime = OPEN,
    available: bool = True,
    **kwargs: Any,
) -> Decision:
    return decide(P, call_type, ALL_CLEAR if answers is None else answers, at, available, **kwargs)


def answers_with(**changes: bool | None) -> dict[str, bool | None]:
    return ALL_CLEAR | changes


# --- one example per reason code: a new Reason without an example here fails -------------------------

REASON_EXAMPLES: dict[Reason, tuple[dict[str, Any], Outcome]] = {
    Reason.ELIGIBLE: ({}, Outcome.TRANSFER),
    Reason.WEAPON: ({"answers": answers_with(weapon=True)}, Outcome.DISPATCH),
    Reason.VIOLENCE: ({"answers": answers_with(violence=True)}, Outcome.DISPATCH),
    Reason.CRIME_IN_PROGRESS: ({"answers": answers_with(crime_in_progress=True)}, Outcome.DISPATCH),
    Reason.MEDICAL_EMERGENCY: ({"answers": answers_with(medical_emergency=True)}, Outcome.DISPATCH),
    Reason.IMMINENT_RISK: ({"answers": answers_with(imminent_risk=True)}, Outcome.DISPATCH),
    Reason.CALLER_REQUESTS_POLICE: ({"answers": answers_with(caller_requests_police=True)}, Outcome.DISPATCH),
    Reason.SCREENING_INCOMPLETE: ({"answers": answers_with(weapon=None)}, Outcome.DISPATCH),
    Reason.CALL_TYPE_EMERGENCY_ONLY: ({"call_type": "Attempted Suicide"}, Outcome.DISPATCH),
    Reason.CALL_TYPE_NOT_IN_SCOPE: ({"call_type": "Suspicious Person"}, Outcome.NOT_ELIGIBLE),
    Reason.CALL_TYPE_UNKNOWN: ({"call_type": "Emotionally Disturbed Person"}, Outcome.NOT_ELIGIBLE),
    Reason.OUTSIDE_SERVICE_HOURS: ({"at": AFTER_HOURS}, Outcome.FALLBACK),
    Reason.HOLIDAY: ({"at": THANKSGIVING}, Outcome.FALLBACK),
    Reason.SOCIAL_WORKER_UNAVAILABLE: ({"available": False}, Outcome.FALLBACK),
    Reason.CALLER_DECLINED: ({"answers": answers_with(caller_accepts_social_worker=False)}, Outcome.FALLBACK),
}


@pytest.mark.parametrize("reason", list(Reason), ids=lambda r: r.value)
def test_every_reason_code_has_a_rule_that_produces_it_alone(reason: Reason) -> None:
    kwargs, outcome = REASON_EXAMPLES[reason]
    decision = run(**kwargs)
    assert decision.outcome is outcome
    assert decision.reasons == (reason,)


def test_every_outcome_is_reachable() -> None:
    assert {outcome for _, outcome in REASON_EXAMPLES.values()} == set(Outcome)


def test_dispatch_and_fallback_reason_lists_partition_the_routing_codes() -> None:
    assert set(DISPATCH_REASONS).isdisjoint(FALLBACK_REASONS)
    routing = set(Reason) - {Reason.ELIGIBLE, Reason.CALL_TYPE_NOT_IN_SCOPE, Reason.CALL_TYPE_UNKNOWN}
    assert set(DISPATCH_REASONS) | set(FALLBACK_REASONS) == routing


# --- transfer -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call_type",
    [
        pytest.param(EDP, id="edp"),
        pytest.param("  emotionally DISTURB person ", id="edp-cad-spacing"),
        pytest.param("Check the Welfare", id="welfare"),
        pytest.param("Drunk/Intoxicated Person", id="intoxicated"),
        pytest.param("assist a disabled person", id="disabled-lower"),
    ],
)
def test_transfer(call_type: str) -> None:
    decision = run(call_type)
    assert decision.outcome is Outcome.TRANSFER
    assert decision.reasons == (Reason.ELIGIBLE,)
    assert decision.fallback_options == ()
    assert decision.next_opening is None
    assert decision.needs_review is False
    assert decision.unanswered == ()
    assert decision.call_type is not None
    assert decision.call_type.name == P.find_call_type(call_type).name  # type: ignore[union-attr]


# --- safety exclusions --------------------------------------------------------------------------------


def test_the_six_exclusion_questions() -> None:
    assert EXCLUSIONS == (
        "weapon",
        "violence",
        "crime_in_progress",
        "medical_emergency",
        "imminent_risk",
        "caller_requests_police",
    )


@pytest.mark.parametrize("question", EXCLUSIONS)
@pytest.mark.parametrize(
    ("at", "available"),
    [
        pytest.param(OPEN, True, id="open"),
        pytest.param(SATURDAY, True, id="weekend"),
        pytest.param(THANKSGIVING, False, id="holiday-busy"),
    ],
)
def test_each_exclusion_alone_dispatches_whatever_the_hours(
    question: str, at: datetime, available: bool
) -> None:
    decision = run(answers=answers_with(**{question: True}), at=at, available=available)
    assert decision.outcome is Outcome.DISPATCH
    assert decision.reasons == (Reason(question),)
    assert decision.fallback_options == ()
    assert decision.next_opening is None


@pytest.mark.parametrize(
    ("yes", "reasons"),
    [
        pytest.param(
            ["caller_requests_police", "weapon"],
            (Reason.WEAPON, Reason.CALLER_REQUESTS_POLICE),
            id="police-and-weapon",
        ),
        pytest.param(
            ["imminent_risk", "violence", "medical_emergency"],
            (Reason.VIOLENCE, Reason.MEDICAL_EMERGENCY, Reason.IMMINENT_RISK),
            id="three",
        ),
        pytest.param(list(reversed(EXCLUSIONS)), tuple(Reason(q) for q in EXCLUSIONS), id="all-six"),
    ],
)
def test_several_exclusions_give_every_reason_in_display_order(
    yes: list[str], reasons: tuple[Reason, ...]
) -> None:
    decision = run(answers=answers_with(**dict.fromkeys(yes, True)))
    assert decision.outcome is Outcome.DISPATCH
    assert decision.reasons == reasons
    assert list(decision.reasons) == [r for r in DISPATCH_REASONS if r in decision.reasons]


def test_an_exclusion_beats_a_declining_caller() -> None:
    decision = run(answers=answers_with(violence=True, caller_accepts_social_worker=False))
    assert (decision.outcome, decision.reasons) == (Outcome.DISPATCH, (Reason.VIOLENCE,))


# --- incomplete screening -----------------------------------------------------------------------------


@pytest.mark.parametrize("question", P.question_ids)
@pytest.mark.parametrize("how", ["none", "missing-key"])
@pytest.mark.parametrize(
    ("at", "available"),
    [
        pytest.param(OPEN, True, id="open"),
        pytest.param(AFTER_HOURS, False, id="closed-busy"),
    ],
)
def test_an_unanswered_question_is_never_a_transfer(
    question: str, how: str, at: datetime, available: bool
) -> None:
    answers = dict(ALL_CLEAR)
    if how == "none":
        answers[question] = None
    else:
        del answers[question]
    decision = run(answers=answers, at=at, available=available)
    assert decision.outcome is Outcome.DISPATCH
    assert decision.reasons == (Reason.SCREENING_INCOMPLETE,)
    assert decision.unanswered == (question,)


def test_no_answers_at_all_lists_every_question_unanswered() -> None:
    decision = run(answers={})
    assert decision.reasons == (Reason.SCREENING_INCOMPLETE,)
    assert decision.unanswered == P.question_ids


def test_an_exclusion_and_an_unanswered_question_give_both_reasons() -> None:
    decision = run(answers=answers_with(weapon=True, imminent_risk=None))
    assert decision.reasons == (Reason.WEAPON, Reason.SCREENING_INCOMPLETE)
    assert decision.unanswered == ("imminent_risk",)


# --- call types ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call_type",
    [
        "Attempted Suicide",
        "Person Threat to Jump",
        "Overdose",
        "Overdose-Accidental",
        "  overdose W/ALL ",
        "Shooting",
        "Person with a Gun",
    ],
)
@pytest.mark.parametrize(
    "answers",
    [
        pytest.param(ALL_CLEAR, id="all-clear"),
        pytest.param(answers_with(weapon=True), id="weapon"),
        pytest.param({}, id="unanswered"),
    ],
)
def test_emergency_only_call_types_dispatch_whatever_the_answers(call_type: str, answers: dict) -> None:
    decision = run(call_type, answers=answers, at=SATURDAY)
    assert decision.outcome is Outcome.DISPATCH
    assert decision.reasons == (Reason.CALL_TYPE_EMERGENCY_ONLY,)
    assert decision.needs_review is False


@pytest.mark.parametrize(
    "call_type", ["Suspicious Person", "Fight", "  DOMESTIC ", "Slumper", "Down Outside-One"]
)
def test_not_in_scope_is_not_eligible(call_type: str) -> None:
    decision = run(call_type, answers={}, at=SATURDAY, available=False)
    assert decision.outcome is Outcome.NOT_ELIGIBLE
    assert decision.reasons == (Reason.CALL_TYPE_NOT_IN_SCOPE,)
    assert decision.needs_review is False
    assert decision.call_type is not None


@pytest.mark.parametrize("call_type", ["Emotionally Disturbed Person", "EDP", "", "Welfare Check"])
def test_unknown_call_type_is_not_eligible_and_needs_review(call_type: str) -> None:
    decision = run(call_type, answers={})
    assert decision.outcome is Outcome.NOT_ELIGIBLE
    assert decision.reasons == (Reason.CALL_TYPE_UNKNOWN,)
    assert decision.needs_review is True
    assert decision.call_type is None


# --- fallbacks ----------------------------------------------------------------------------------------

FALLBACKS = [
    pytest.param({"at": BEFORE_HOURS}, (Reason.OUTSIDE_SERVICE_HOURS,), OSH_OPTIONS, id="before-hours"),
    pytest.param({"at": AFTER_HOURS}, (Reason.OUTSIDE_SERVICE_HOURS,), OSH_OPTIONS, id="after-hours"),
    pytest.param({"at": SATURDAY}, (Reason.OUTSIDE_SERVICE_HOURS,), OSH_OPTIONS, id="weekend"),
    pytest.param({"at": THANKSGIVING}, (Reason.HOLIDAY,), OSH_OPTIONS, id="holiday"),
    pytest.param(
        {"at": datetime(2026, 7, 3, 13, tzinfo=CHI)}, (Reason.HOLIDAY,), OSH_OPTIONS, id="observed-holiday"
    ),
    pytest.param(
        {"available": False}, (Reason.SOCIAL_WORKER_UNAVAILABLE,), SWU_OPTIONS, id="social-worker-busy"
    ),
    # Closed: the reason is the closure, not the (naturally absent) social worker.
    pytest.param(
        {"at": AFTER_HOURS, "available": False},
        (Reason.OUTSIDE_SERVICE_HOURS,),
        OSH_OPTIONS,
        id="closed-and-busy",
    ),
    pytest.param(
        {"answers": answers_with(caller_accepts_social_worker=False)},
        (Reason.CALLER_DECLINED,),
        DECLINED_OPTIONS,
        id="caller-declined",
    ),
    pytest.param(
        {"answers": answers_with(caller_accepts_social_worker=False), "at": AFTER_HOURS},
        (Reason.OUTSIDE_SERVICE_HOURS, Reason.CALLER_DECLINED),
        OSH_OPTIONS,
        id="caller-declined-after-hours",
    ),
    pytest.param(
        {"answers": answers_with(caller_accepts_social_worker=False), "at": THANKSGIVING},
        (Reason.HOLIDAY, Reason.CALLER_DECLINED),
        OSH_OPTIONS,
        id="caller-declined-on-holiday",
    ),
    pytest.param(
        {"answers": answers_with(caller_accepts_social_worker=False), "available": False},
        (Reason.SOCIAL_WORKER_UNAVAILABLE, Reason.CALLER_DECLINED),
        SWU_OPTIONS,
        id="caller-declined-social-worker-busy",
    ),
]


@pytest.mark.parametrize(("kwargs", "reasons", "options"), FALLBACKS)
def test_fallback(kwargs: dict[str, Any], reasons: tuple[Reason, ...], options: tuple[str, ...]) -> None:
    decision = run(**kwargs)
    assert decision.outcome is Outcome.FALLBACK
    assert decision.reasons == reasons
    assert decision.fallback_options == options
    assert len(set(decision.fallback_options)) == len(decision.fallback_options)


@pytest.mark.parametrize(
    ("at", "next_opening"),
    [
        pytest.param(BEFORE_HOURS, datetime(2026, 11, 25, 12, tzinfo=CHI), id="before-hours"),
        pytest.param(AFTER_HOURS, datetime(2026, 11, 27, 12, tzinfo=CHI), id="after-hours-before-holiday"),
        pytest.param(SATURDAY, datetime(2026, 11, 30, 12, tzinfo=CHI), id="weekend"),
        pytest.param(THANKSGIVING, datetime(2026, 11, 27, 12, tzinfo=CHI), id="holiday"),
    ],
)
def test_a_closed_desk_reports_its_next_opening(at: datetime, next_opening: datetime) -> None:
    decision = run(at=at)
    assert decision.next_opening is not None
    assert decision.next_opening.timestamp() == next_opening.timestamp()


def test_an_open_desk_with_a_busy_social_worker_has_no_next_opening() -> None:
    assert run(available=False).next_opening is None


@pytest.mark.parametrize("reason", FALLBACK_REASONS, ids=lambda r: r.value)
def test_fallback_options_per_reason_match_mecc_yaml(reason: Reason) -> None:
    listed = tuple(str(o) for o in read_protocol_document()["fallbacks"][reason.value])
    assert P.fallbacks[reason] == listed
    assert fallback_options_for(P, (reason,)) == listed
    expected = {
        Reason.OUTSIDE_SERVICE_HOURS: OSH_OPTIONS,
        Reason.HOLIDAY: OSH_OPTIONS,
        Reason.SOCIAL_WORKER_UNAVAILABLE: SWU_OPTIONS,
        Reason.CALLER_DECLINED: DECLINED_OPTIONS,
    }
    assert listed == expected[reason]


def test_fallback_options_union_first_listed_first_without_repeats() -> None:
    custom = dataclasses.replace(
        P,
        fallbacks={
            Reason.HOLIDAY: ("b", "a"),
            Reason.OUTSIDE_SERVICE_HOURS: ("c",),
            Reason.CALLER_DECLINED: ("a", "d", "b"),
        },
    )
    reasons = (Reason.HOLIDAY, Reason.OUTSIDE_SERVICE_HOURS, Reason.CALLER_DECLINED)
    assert fallback_options_for(custom, reasons) == ("b", "a", "c", "d")
    assert fallback_options_for(custom, ()) == ()
    assert fallback_options_for(custom, (Reason.SOCIAL_WORKER_UNAVAILABLE,)) == ()


# --- version, injected calendar, wire form ------------------------------------------------------------


@pytest.mark.parametrize("reason", list(Reason), ids=lambda r: r.value)
def test_every_decision_carries_the_protocol_version(reason: Reason) -> None:
    doc = read_protocol_document()
    doc["version"] = "2027.1.0-draft"
    draft = parse_protocol(doc)
    kwargs, _ = REASON_EXAMPLES[reason]
    decision = decide(
        draft,
        kwargs.get("call_type", EDP),
        kwargs.get("answers", ALL_CLEAR),
        kwargs.get("at", OPEN),
        kwargs.get("available", True),
    )
    assert decision.reasons == (reason,)
    assert decision.protocol_version == "2027.1.0-draft"
    assert run(**kwargs).protocol_version == "2026.11.1"


def test_an_injected_calendar_is_the_one_used() -> None:
    closed_today = ServiceCalendar(dataclasses.replace(P.calendar, closures=frozenset({date(2026, 11, 25)})))
    decision = run(calendar=closed_today)
    assert decision.outcome is Outcome.FALLBACK
    assert decision.reasons == (Reason.HOLIDAY,)
    assert run().outcome is Outcome.TRANSFER


@pytest.mark.parametrize(
    "call_type",
    ["Emotionally Disturb Person", "Shooting", "Theft", "No Such Call Type"],
    ids=["in-scope", "emergency-only", "not-in-scope", "unknown"],
)
def test_a_naive_time_is_refused_whatever_the_call_type(call_type: str) -> None:
    naive = datetime(2026, 11, 25, 13, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(NaiveDatetimeError):
        run(call_type=call_type, at=naive)


@pytest.mark.parametrize(
    ("kwargs", "wire"),
    [
        pytest.param(
            {},
            {
                "outcome": "transfer",
                "reasons": ["eligible"],
                "protocol_version": "2026.11.1",
                "fallback_options": [],
            },
            id="transfer",
        ),
        pytest.param(
            {"answers": answers_with(caller_accepts_social_worker=False), "at": AFTER_HOURS},
            {
                "outcome": "fallback",
                "reasons": ["outside_service_hours", "caller_declined"],
                "protocol_version": "2026.11.1",
                "fallback_options": ["mobile_crisis_team", "988", "callback_next_shift"],
            },
            id="fallback",
        ),
        pytest.param(
            {"answers": answers_with(weapon=True, caller_requests_police=True)},
            {
                "outcome": "dispatch",
                "reasons": ["weapon", "caller_requests_police"],
                "protocol_version": "2026.11.1",
                "fallback_options": [],
            },
            id="dispatch",
        ),
        pytest.param(
            {"call_type": "Lost Pet"},
            {
                "outcome": "not_eligible",
                "reasons": ["call_type_unknown"],
                "protocol_version": "2026.11.1",
                "fallback_options": [],
            },
            id="not-eligible",
        ),
    ],
)
def test_as_dict_wire_form(kwargs: dict[str, Any], wire: dict[str, Any]) -> None:
    out = run(**kwargs).as_dict()
    assert out == wire
    assert list(out) == ["outcome", "reasons", "protocol_version", "fallback_options"]
    reasons = out["reasons"]
    assert isinstance(reasons, list)
    assert all(type(r) is str for r in reasons)  # plain strings on the wire, not enum members
    assert json.loads(json.dumps(out)) == wire


def test_decision_is_frozen() -> None:
    decision = run()
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.outcome = Outcome.DISPATCH  # type: ignore[misc]


def test_an_unclaimed_transfer_offers_the_unavailable_social_worker_fallback() -> None:
    assert fallback_for_unclaimed_transfer(P) == ("mobile_crisis_team", "988", "callback_when_available")
