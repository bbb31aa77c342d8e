"""Assessment instruments (`crisisdesk.domain.instruments`): C-SSRS screener triage, skip logic,
the substance-use / housing section and the Stanley-Brown safety plan completeness rule."""

from __future__ import annotations

import itertools

import pytest

from crisisdesk.domain.instruments import (
    CONTEXT_SCREEN,
    CSSRS_SCREENER,
    CSSRS_SCREENER_VERSION,
    CURRENT,
    HOUSING_STATUSES,
    INSTRUMENTS,
    OVERDOSE_ANSWERS,
    SAFETY_PLAN_FIELDS,
    SUBSTANCES,
    InstrumentError,
    RequiredAction,
    RiskLevel,
    asked_questions,
    get_instrument,
    safety_plan_problems,
    score,
)

V = CSSRS_SCREENER_VERSION
HIGH_ACTIONS = ("offer_escalation", "safety_plan", "do_not_leave_alone")
MODERATE_ACTIONS = ("safety_plan", "behavioral_health_referral")
LOW_ACTIONS = ("behavioral_health_referral",)


def cssrs(
    q1: str = "no", q2: str = "no", q3: str = "", q4: str = "", q5: str = "", q6: str = "no", q6b: str = ""
) -> dict[str, str]:
    """Answers as a form posts them: every key present, skipped questions as ""."""
    return {"q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6, "q6b": q6b}


BRANCH_NO = {"q3": "", "q4": "", "q5": ""}

# (answers, level, reasons, required actions) for every rule of the published triage.
CSSRS_CASES = [
    pytest.param(cssrs(), RiskLevel.NONE, ("cssrs_all_no",), (), id="all-no"),
    pytest.param(cssrs(q1="yes"), RiskLevel.LOW, ("cssrs_q1_wish_dead",), LOW_ACTIONS, id="q1-only"),
    pytest.param(
        cssrs(q2="yes", q3="no", q4="no", q5="no"),
        RiskLevel.LOW,
        ("cssrs_q2_suicidal_thoughts",),
        LOW_ACTIONS,
        id="q2-only",
    ),
    pytest.param(
        cssrs(q1="yes", q2="yes", q3="no", q4="no", q5="no"),
        RiskLevel.LOW,
        ("cssrs_q1_wish_dead", "cssrs_q2_suicidal_thoughts"),
        LOW_ACTIONS,
        id="q1-and-q2",
    ),
    pytest.param(
        cssrs(q1="yes", q2="yes", q3="yes", q4="no", q5="no"),
        RiskLevel.MODERATE,
        ("cssrs_q1_wish_dead", "cssrs_q2_suicidal_thoughts", "cssrs_q3_method"),
        MODERATE_ACTIONS,
        id="q3-method-no-intent",
    ),
    pytest.param(
        cssrs(q2="yes", q3="no", q4="yes", q5="no"),
        RiskLevel.HIGH,
        ("cssrs_q2_suicidal_thoughts", "cssrs_q4_intent"),
        HIGH_ACTIONS,
        id="q4-intent",
    ),
    pytest.param(
        cssrs(q2="yes", q3="no", q4="no", q5="yes"),
        RiskLevel.HIGH,
        ("cssrs_q2_suicidal_thoughts", "cssrs_q5_plan"),
        HIGH_ACTIONS,
        id="q5-plan",
    ),
    pytest.param(
        cssrs(q6="yes", q6b="yes"),
        RiskLevel.HIGH,
        ("cssrs_q6_behavior_past_3_months",),
        HIGH_ACTIONS,
        id="q6-behaviour-within-3-months-alone-is-high",
    ),
    pytest.param(
        cssrs(q6="yes", q6b="no"),
        RiskLevel.MODERATE,
        ("cssrs_q6_behavior_over_3_months_ago",),
        MODERATE_ACTIONS,
        id="q6-behaviour-over-3-months-ago",
    ),
    pytest.param(
        cssrs(q1="yes", q6="yes", q6b="no"),
        RiskLevel.MODERATE,
        ("cssrs_q1_wish_dead", "cssrs_q6_behavior_over_3_months_ago"),
        MODERATE_ACTIONS,
        id="low-plus-old-behaviour-is-moderate",
    ),
    pytest.param(
        cssrs(q2="yes", q3="yes", q4="no", q5="no", q6="yes", q6b="yes"),
        RiskLevel.HIGH,
        ("cssrs_q2_suicidal_thoughts", "cssrs_q3_method", "cssrs_q6_behavior_past_3_months"),
        HIGH_ACTIONS,
        id="moderate-plus-recent-behaviour-is-high",
    ),
    pytest.param(
        cssrs(q1="yes", q2="yes", q3="yes", q4="yes", q5="yes", q6="yes", q6b="yes"),
        RiskLevel.HIGH,
        (
            "cssrs_q1_wish_dead",
            "cssrs_q2_suicidal_thoughts",
            "cssrs_q3_method",
            "cssrs_q4_intent",
            "cssrs_q5_plan",
            "cssrs_q6_behavior_past_3_months",
        ),
        HIGH_ACTIONS,
        id="all-yes",
    ),
    # Skipped questions may be left out entirely rather than posted as "".
    pytest.param(
        {"q1": "yes", "q2": "no", "q6": "no"},
        RiskLevel.LOW,
        ("cssrs_q1_wish_dead",),
        LOW_ACTIONS,
        id="sparse",
    ),
]


@pytest.mark.parametrize(("answers", "level", "reasons", "actions"), CSSRS_CASES)
def test_cssrs_triage(
    answers: dict[str, str], level: RiskLevel, reasons: tuple[str, ...], actions: tuple[str, ...]
) -> None:
    result = score(CSSRS_SCREENER, V, answers)
    assert result.risk_level is level
    assert result.reasons == reasons
    assert result.required_actions == actions
    assert (result.instrument, result.version) == (CSSRS_SCREENER, V)
    assert ("suicidal_behavior_lifetime" in result.flags) is (answers.get("q6") == "yes")


def _every_valid_cssrs_answer_set() -> list[dict[str, str]]:
    out = []
    for q1, q2, q6 in itertools.product(("yes", "no"), repeat=3):
        branches = itertools.product(("yes", "no"), repeat=3) if q2 == "yes" else [("", "", "")]
        for q3, q4, q5 in branches:
            for q6b in ("yes", "no") if q6 == "yes" else ("",):
                out.append(cssrs(q1, q2, q3, q4, q5, q6, q6b))
    return out


def test_cssrs_every_valid_answer_set_against_the_triage_table() -> None:
    """All 54 valid answer sets, checked against the triage restated as a decision list."""
    answer_sets = _every_valid_cssrs_answer_set()
    assert len(answer_sets) == 2 * 9 * 3
    for a in answer_sets:
        yes = {k for k, v in a.items() if v == "yes"}
        if yes & {"q4", "q5"} or {"q6", "q6b"} <= yes:
            expected = RiskLevel.HIGH
        elif "q3" in yes or "q6" in yes:
            expected = RiskLevel.MODERATE
        elif yes & {"q1", "q2"}:
            expected = RiskLevel.LOW
        else:
            expected = RiskLevel.NONE
        result = score(CSSRS_SCREENER, V, a)
        assert result.risk_level is expected, a
        expected_actions = {
            RiskLevel.HIGH: HIGH_ACTIONS,
            RiskLevel.MODERATE: MODERATE_ACTIONS,
            RiskLevel.LOW: LOW_ACTIONS,
            RiskLevel.NONE: (),
        }[expected]
        assert result.required_actions == expected_actions, a


def _problems(answers: dict[str, str], key: str = CSSRS_SCREENER, version: str = V) -> set[tuple[str, str]]:
    with pytest.raises(InstrumentError) as info:
        score(key, version, answers)
    return {(p.field, p.code) for p in info.value.details}


@pytest.mark.parametrize(
    ("answers", "problems"),
    [
        pytest.param(cssrs(q3="no"), {("q3", "not_asked")}, id="q3-answered-when-q2-no"),
        pytest.param(
            cssrs(q3="yes", q4="yes", q5="no"),
            {("q3", "not_asked"), ("q4", "not_asked"), ("q5", "not_asked")},
            id="q3-q5-answered-when-q2-no",
        ),
        pytest.param(cssrs(q6="yes"), {("q6b", "missing")}, id="q6b-missing-when-q6-yes"),
        pytest.param(cssrs(q6b="no"), {("q6b", "not_asked")}, id="q6b-answered-when-q6-no"),
        pytest.param(
            cssrs(q2="yes"),
            {("q3", "missing"), ("q4", "missing"), ("q5", "missing")},
            id="q3-q5-missing-when-q2-yes",
        ),
        pytest.param(
            {},
            {("q1", "missing"), ("q2", "missing"), ("q6", "missing")},
            id="nothing-answered-lists-every-asked-question",
        ),
        pytest.param(
            {**cssrs(), "q7": "yes", "Q1": "no"},
            {("q7", "unknown_question"), ("Q1", "unknown_question")},
            id="unknown-keys",
        ),
        pytest.param(cssrs(q1="maybe"), {("q1", "invalid_choice")}, id="not-yes-or-no"),
        pytest.param(cssrs(q1="Yes"), {("q1", "invalid_choice")}, id="codes-are-exact"),
        pytest.param(
            {"q1": "yes", "q2": "perhaps", "q3": "no", "q6": "yes", "q9": "x"},
            {("q2", "invalid_choice"), ("q3", "not_asked"), ("q6b", "missing"), ("q9", "unknown_question")},
            id="every-problem-at-once",
        ),
    ],
)
def test_cssrs_answer_errors_list_every_problem(
    answers: dict[str, str], problems: set[tuple[str, str]]
) -> None:
    assert _problems(answers) == problems


def test_instrument_error_message_names_fields() -> None:
    with pytest.raises(InstrumentError) as info:
        score(CSSRS_SCREENER, V, cssrs(q3="no", q6="yes"))
    assert isinstance(info.value, ValueError)
    assert len(info.value.problems) == 2
    assert "q3: answered, but only asked when q2 is yes" in str(info.value)
    assert "q6b: an answer is required" in str(info.value)


def test_asked_questions_follow_the_skip_logic() -> None:
    instrument = get_instrument(CSSRS_SCREENER)
    keys = lambda answers: [q.key for q in asked_questions(instrument, answers)]  # noqa: E731
    assert keys({}) == ["q1", "q2", "q6"]
    assert keys({"q2": "yes"}) == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert keys({"q2": "yes", "q6": "yes"}) == ["q1", "q2", "q3", "q4", "q5", "q6", "q6b"]
    assert keys({"q2": "no", "q6": "yes"}) == ["q1", "q2", "q6", "q6b"]


# --- the registry ------------------------------------------------------------------------------------


def test_get_instrument_current_and_explicit_versions() -> None:
    current = get_instrument(CSSRS_SCREENER)
    assert current.version == V == CURRENT[CSSRS_SCREENER]
    assert get_instrument(CSSRS_SCREENER, V) is current
    assert [q.key for q in current.questions] == ["q1", "q2", "q3", "q4", "q5", "q6", "q6b"]
    assert get_instrument(CONTEXT_SCREEN).version == "1"


@pytest.mark.parametrize(
    ("key", "version", "code"),
    [
        pytest.param("phq9", None, "unknown_instrument", id="unknown-instrument"),
        pytest.param(CSSRS_SCREENER, "cssrs-screener-lifetime/9", "unknown_version", id="unknown-version"),
        pytest.param(CONTEXT_SCREEN, "2", "unknown_version", id="unknown-context-version"),
    ],
)
def test_unknown_instrument_or_version(key: str, version: str | None, code: str) -> None:
    with pytest.raises(InstrumentError) as info:
        get_instrument(key, version)
    assert [p.code for p in info.value.details] == [code]
    with pytest.raises(InstrumentError):
        score(key, version or "1", {})


@pytest.mark.parametrize("entry", list(INSTRUMENTS), ids=lambda e: f"{e[0]}-{e[1]}")
def test_every_registered_instrument_is_well_formed(entry: tuple[str, str]) -> None:
    instrument, _ = INSTRUMENTS[entry]
    assert (instrument.key, instrument.version) == entry
    assert instrument.title and instrument.source
    keys = [q.key for q in instrument.questions]
    assert len(keys) == len(set(keys))
    for i, q in enumerate(instrument.questions):
        assert q.kind in ("yes_no", "choice")
        assert bool(q.choices) is (q.kind == "choice")
        assert len(set(q.choices)) == len(q.choices)
        if q.ask_if is not None:
            # A gate is an earlier yes/no question, so forms can reveal questions top to bottom.
            assert q.ask_if in keys[:i]
            assert instrument.question(q.ask_if).kind == "yes_no"
    assert CURRENT[instrument.key] in {v for k, v in INSTRUMENTS if k == instrument.key}


def test_cssrs_texts_are_paraphrases_not_the_licensed_wording() -> None:
    """The official form asks in the second person ("Have you ..."); ours describe the person."""
    for q in get_instrument(CSSRS_SCREENER).questions:
        assert "have you" not in q.text.lower()
        assert "go to sleep and not wake up" not in q.text.lower()
    assert "licensed form" in get_instrument(CSSRS_SCREENER).notes


# --- substance use and housing -----------------------------------------------------------------------


def context(
    substance: str = "none", using_now: str = "no", overdose: str = "no", housing: str = "stably_housed"
) -> dict[str, str]:
    return {
        "substance_use_30d": substance,
        "using_now": using_now,
        "overdose_12m": overdose,
        "housing_status": housing,
    }


@pytest.mark.parametrize(
    ("answers", "reasons", "actions", "flags"),
    [
        pytest.param(context(), (), (), (), id="nothing-to-do"),
        pytest.param(
            context("opioids"),
            ("substance_use_opioids",),
            ("substance_use_referral", "naloxone_offer"),
            ("substance_use_past_30_days", "overdose_risk"),
            id="opioids",
        ),
        pytest.param(
            context("stimulants"),
            ("substance_use_stimulants",),
            ("substance_use_referral", "naloxone_offer"),
            ("substance_use_past_30_days", "overdose_risk"),
            id="stimulants-fentanyl-contamination",
        ),
        pytest.param(
            context("cannabis"),
            ("substance_use_cannabis",),
            ("substance_use_referral",),
            ("substance_use_past_30_days",),
            id="cannabis-no-naloxone",
        ),
        pytest.param(
            context("alcohol", using_now="yes", housing="unsheltered"),
            ("substance_use_alcohol", "intoxicated_now", "housing_unsheltered"),
            ("substance_use_referral", "housing_referral"),
            ("substance_use_past_30_days", "intoxicated_now", "housing_unstable", "unsheltered"),
            id="intoxicated-and-unsheltered",
        ),
        pytest.param(
            context("none", overdose="yes", housing="shelter"),
            ("overdose_past_12_months", "housing_shelter"),
            ("substance_use_referral", "naloxone_offer", "housing_referral"),
            ("overdose_risk", "housing_unstable"),
            id="overdose-without-current-use",
        ),
        pytest.param(
            context("opioids", overdose="yes"),
            ("substance_use_opioids", "overdose_past_12_months"),
            ("substance_use_referral", "naloxone_offer"),
            ("substance_use_past_30_days", "overdose_risk"),
            id="opioids-and-overdose-no-duplicates",
        ),
        pytest.param(
            context("declined", overdose="unknown", housing="declined"),
            (),
            (),
            ("substance_use_declined", "overdose_history_unknown", "housing_declined"),
            id="declined-to-say",
        ),
    ],
)
def test_context_screen(
    answers: dict[str, str], reasons: tuple[str, ...], actions: tuple[str, ...], flags: tuple[str, ...]
) -> None:
    result = score(CONTEXT_SCREEN, "1", answers)
    assert result.risk_level is RiskLevel.NONE
    assert result.reasons == reasons
    assert result.required_actions == actions
    assert result.flags == flags


@pytest.mark.parametrize("housing", HOUSING_STATUSES)
def test_housing_referral_for_every_unstable_status(housing: str) -> None:
    result = score(CONTEXT_SCREEN, "1", context(housing=housing))
    unstable = housing not in ("stably_housed", "declined")
    assert ("housing_referral" in result.required_actions) is unstable
    assert ("housing_unstable" in result.flags) is unstable


def test_context_screen_every_answer_set() -> None:
    """252 combinations: never a risk level, actions from the fixed set in its order, no repeats."""
    order = [a.value for a in RequiredAction]
    combos = list(itertools.product(SUBSTANCES, ("yes", "no"), OVERDOSE_ANSWERS, HOUSING_STATUSES))
    assert len(combos) == 7 * 2 * 3 * 6
    for combo in combos:
        result = score(CONTEXT_SCREEN, "1", context(*combo))
        assert result.risk_level is RiskLevel.NONE
        assert list(result.required_actions) == sorted(result.required_actions, key=order.index)
        assert len(set(result.flags)) == len(result.flags)
        substance, _, overdose, _ = combo
        assert ("naloxone_offer" in result.required_actions) is (
            substance in ("opioids", "stimulants") or overdose == "yes"
        )


def test_context_screen_invalid_answers() -> None:
    assert _problems(context("heroin", using_now="", housing="car"), key=CONTEXT_SCREEN, version="1") == {
        ("substance_use_30d", "invalid_choice"),
        ("using_now", "missing"),
        ("housing_status", "invalid_choice"),
    }


def test_result_wire_form() -> None:
    result = score(CSSRS_SCREENER, V, cssrs(q2="yes", q3="no", q4="yes", q5="no"))
    assert result.as_dict() == {
        "instrument": "cssrs_screener",
        "version": V,
        "risk_level": "high",
        "reasons": ["cssrs_q2_suicidal_thoughts", "cssrs_q4_intent"],
        "required_actions": list(HIGH_ACTIONS),
        "flags": [],
    }


# --- safety plan ---------------------------------------------------------------------------------------

COMPLETE_PLAN = {
    "warning_signs": "Can't sleep, stop answering texts",
    "internal_coping_strategies": "Walk the dog",
    "social_distractions": "",
    "people_to_ask_for_help": "",
    "professionals_and_agencies": "Dr Lee 612-555-0100; call or text 988",
    "making_environment_safe": "Brother keeps the medication",
    "reasons_for_living": "",
}


def test_safety_plan_fields_in_stanley_brown_order() -> None:
    assert [k for k, _ in SAFETY_PLAN_FIELDS] == [
        "warning_signs",
        "internal_coping_strategies",
        "social_distractions",
        "people_to_ask_for_help",
        "professionals_and_agencies",
        "making_environment_safe",
        "reasons_for_living",
    ]
    assert all(label for _, label in SAFETY_PLAN_FIELDS)


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        pytest.param({}, (), id="complete-without-reasons-for-living"),
        pytest.param({"reasons_for_living": "My kids"}, (), id="complete-with-everything"),
        pytest.param({"warning_signs": "   "}, ("warning_signs_missing",), id="whitespace-is-missing"),
        pytest.param(
            {"internal_coping_strategies": ""}, ("coping_or_support_missing",), id="no-coping-or-support"
        ),
        pytest.param(
            {"internal_coping_strategies": "", "social_distractions": "Coffee shop on Lake St"},
            (),
            id="social-distraction-is-enough",
        ),
        pytest.param(
            {"internal_coping_strategies": "", "people_to_ask_for_help": "Aunt Rosa"},
            (),
            id="a-person-to-ask-is-enough",
        ),
        pytest.param(
            {"professionals_and_agencies": "Dr Lee 612-555-0100"},
            ("crisis_line_988_missing",),
            id="no-988",
        ),
        pytest.param(
            {"professionals_and_agencies": "Dr Lee 612-988-1234"},
            ("crisis_line_988_missing",),
            id="988-inside-another-number-does-not-count",
        ),
        pytest.param({"professionals_and_agencies": "9-8-8 Lifeline"}, (), id="988-dashed"),
        pytest.param({"professionals_and_agencies": "Lifeline 1-800-273-TALK"}, (), id="old-lifeline-name"),
        pytest.param({"professionals_and_agencies": "1 (800) 273-8255"}, (), id="old-lifeline-number"),
        pytest.param(
            {"professionals_and_agencies": ""}, ("professionals_and_agencies_missing",), id="no-agencies"
        ),
        pytest.param(
            {"making_environment_safe": ""}, ("making_environment_safe_missing",), id="no-means-safety"
        ),
        pytest.param({"pets": "cat"}, ("unknown_field:pets",), id="unknown-field"),
    ],
)
def test_safety_plan_problems(changes: dict[str, str], problems: tuple[str, ...]) -> None:
    assert safety_plan_problems({**COMPLETE_PLAN, **changes}) == problems


def test_empty_safety_plan_lists_every_problem() -> None:
    assert safety_plan_problems({}) == (
        "warning_signs_missing",
        "coping_or_support_missing",
        "professionals_and_agencies_missing",
        "making_environment_safe_missing",
    )
