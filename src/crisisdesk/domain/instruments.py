"""Assessment instruments as versioned data, and their scoring rules.

An instrument is a list of questions plus a scoring rule, both identified by `(key, version)`. A
stored assessment keeps the key, the version and the raw answers, so it stays interpretable after
the instrument changes: `score(key, version, answers)` replays the exact rule that applied, and old
versions are never edited, only superseded (`CURRENT` names the version new assessments use).

Answers are strings: "yes" / "no" for yes/no questions, one of the listed codes for choice
questions. `score` validates them against the instrument first and raises `InstrumentError` with
every problem found (HTTP 422 at the edge): a missing answer to a question that must be asked, an
answer to a question that should not have been asked (skip logic), an unknown key, an invalid
choice. An empty string counts as "not answered" (forms post empty fields for hidden questions).

**Columbia Suicide Severity Rating Scale (C-SSRS) screener, "recent" (past month) version.**
Six questions with skip logic: Q1 and Q2 always; Q3-Q5 only when Q2 is yes; Q6 (suicidal behaviour,
lifetime) always, and Q6b ("was it within the past 3 months?") when Q6 is yes. Risk levels follow
the published triage of the screener (the Columbia Lighthouse Project, "C-SSRS Screen Version -
Recent" with triage points, and its clinical triage and workflow guidelines; scale: Posner K, Brown
GK, Stanley B, et al., Am J Psychiatry 2011;168:1266-1277):

    high      Q4 or Q5 yes (intent, or a plan with intent), or Q6 yes within the past 3 months
    moderate  Q3 yes (thoughts with a method, no intent), or Q6 yes more than 3 months ago
    low       only Q1 and/or Q2 yes
    none      every answer no

The triage guidelines pair the high level with safety precautions until a mental-health
professional evaluates the person, and the other positive levels with a referral and crisis-line
information. Required actions here:

    high      offer_escalation, safety_plan, do_not_leave_alone
    moderate  safety_plan, behavioral_health_referral
    low       behavioral_health_referral
    none      (none)

The question texts below are our own paraphrases, written so the scoring is self-describing. The
C-SSRS is copyrighted (The Research Foundation for Mental Hygiene); its official wording, which the
social worker should read aloud, must be loaded from the licensed form, not from this module. The
scale is free to use for clinical and public-health purposes after the Lighthouse Project's terms.

**Substance use and housing (`substance_housing`).** A short context section, not a risk scale: it
yields flags and referral actions, and its risk level is always `none`. Intoxication and a recent
overdose do raise suicide risk (SAFE-T lists both as risk factors), but folding them into a level
would be a clinical judgement this rule cannot make; they are surfaced as flags next to the
C-SSRS result instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

CSSRS_SCREENER = "cssrs_screener"
CONTEXT_SCREEN = "substance_housing"

# "2008" is the year of the C-SSRS screener form this follows; "/1" is our revision of its encoding.
CSSRS_SCREENER_VERSION = "cssrs-screener-recent-2008/1"
CONTEXT_SCREEN_VERSION = "1"

YES, NO = "yes", "no"
YES_NO = "yes_no"
CHOICE = "choice"
QUESTION_KINDS = (YES_NO, CHOICE)


class RiskLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


# Ordered lowest first, so max() over levels is meaningful.
RISK_ORDER = (RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH)


class RequiredAction(StrEnum):
    """The fixed set of actions a result may require. Order here is the order they are shown in."""

    OFFER_ESCALATION = "offer_escalation"  # offer to bring 911 (police / EMS) back in
    SAFETY_PLAN = "safety_plan"  # complete a Stanley-Brown safety plan
    DO_NOT_LEAVE_ALONE = "do_not_leave_alone"  # keep the person on the line / with someone
    BEHAVIORAL_HEALTH_REFERRAL = "behavioral_health_referral"
    SUBSTANCE_USE_REFERRAL = "substance_use_referral"
    NALOXONE_OFFER = "naloxone_offer"
    HOUSING_REFERRAL = "housing_referral"


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    kind: str  # "yes_no" or "choice"
    choices: tuple[str, ...] = ()
    ask_if: str | None = None  # key of a yes/no question that must be "yes" for this one to be asked
    help: str = ""

    def allowed(self) -> tuple[str, ...]:
        return (YES, NO) if self.kind == YES_NO else self.choices


@dataclass(frozen=True)
class Instrument:
    key: str
    version: str
    title: str
    source: str  # citation text
    questions: tuple[Question, ...]
    notes: str = ""

    def question(self, key: str) -> Question:
        for q in self.questions:
            if q.key == key:
                return q
        raise KeyError(key)


@dataclass(frozen=True)
class InstrumentResult:
    instrument: str
    version: str
    risk_level: RiskLevel
    reasons: tuple[str, ...]  # snake_case codes: why the level / actions / flags
    required_actions: tuple[str, ...]  # RequiredAction values, in RequiredAction order
    flags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "version": self.version,
            "risk_level": self.risk_level.value,
            "reasons": list(self.reasons),
            "required_actions": list(self.required_actions),
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class AnswerProblem:
    """One thing wrong with a set of answers: `field` is the question key (or "instrument")."""

    field: str
    code: str  # unknown_instrument, unknown_version, unknown_question, missing, not_asked, invalid_choice
    message: str


class InstrumentError(ValueError):
    """Unknown instrument or invalid answers; `problems` lists every problem, not just the first."""

    def __init__(self, problems: list[AnswerProblem]):
        self.details = tuple(problems)
        self.problems = tuple(f"{p.field}: {p.message}" for p in problems)
        super().__init__("invalid assessment: " + "; ".join(self.problems))


# --- C-SSRS screener (recent) ---------------------------------------------------------------------

_CSSRS = Instrument(
    key=CSSRS_SCREENER,
    version=CSSRS_SCREENER_VERSION,
    title="Columbia Suicide Severity Rating Scale - screener, past month",
    source=(
        "Columbia Lighthouse Project, C-SSRS Screen Version - Recent, with triage points "
        "(cssrs.columbia.edu); Posner K, Brown GK, Stanley B, et al. The Columbia-Suicide Severity "
        "Rating Scale. Am J Psychiatry 2011;168(12):1266-1277."
    ),
    notes=(
        "Question texts are paraphrases for the record; read the official wording from the licensed "
        "form. Q1-Q5 ask about the past month; Q6 asks about the person's whole life."
    ),
    questions=(
        Question("q1", "Past month: has the person wished to be dead, or not to wake up?", YES_NO),
        Question(
            "q2",
            "Past month: has the person had actual thoughts of ending their own life?",
            YES_NO,
            help="Non-specific active thoughts. If no, skip to Q6.",
        ),
        Question(
            "q3",
            "Have they thought about a way (method) they might do it?",
            YES_NO,
            ask_if="q2",
            help="A method, but no intent to act and no worked-out plan.",
        ),
        Question(
            "q4",
            "Do they have some intention of acting on these thoughts, not only thoughts they would never act on?",
            YES_NO,
            ask_if="q2",
        ),
        Question(
            "q5",
            "Have they worked out, or begun to work out, the details of a plan they intend to carry out?",
            YES_NO,
            ask_if="q2",
        ),
        Question(
            "q6",
            "Ever: has the person done, begun or prepared anything to end their life?",
            YES_NO,
            help="Includes attempts, interrupted or aborted attempts and preparation (e.g. getting means).",
        ),
        Question("q6b", "Was any of that within the past 3 months?", YES_NO, ask_if="q6"),
    ),
)

CSSRS_ACTIONS: dict[RiskLevel, tuple[RequiredAction, ...]] = {
    RiskLevel.HIGH: (
        RequiredAction.OFFER_ESCALATION,
        RequiredAction.SAFETY_PLAN,
        RequiredAction.DO_NOT_LEAVE_ALONE,
    ),
    RiskLevel.MODERATE: (RequiredAction.SAFETY_PLAN, RequiredAction.BEHAVIORAL_HEALTH_REFERRAL),
    RiskLevel.LOW: (RequiredAction.BEHAVIORAL_HEALTH_REFERRAL,),
    RiskLevel.NONE: (),
}

# (answer that is "yes", reason code, level it implies), in question order.
_CSSRS_RULES: tuple[tuple[str, str, RiskLevel], ...] = (
    ("q1", "cssrs_q1_wish_dead", RiskLevel.LOW),
    ("q2", "cssrs_q2_suicidal_thoughts", RiskLevel.LOW),
    ("q3", "cssrs_q3_method", RiskLevel.MODERATE),
    ("q4", "cssrs_q4_intent", RiskLevel.HIGH),
    ("q5", "cssrs_q5_plan", RiskLevel.HIGH),
)


def _score_cssrs(answers: Mapping[str, str]) -> tuple[RiskLevel, list[str], list[str], list[str]]:
    levels = [RiskLevel.NONE]
    reasons: list[str] = []
    for key, reason, level in _CSSRS_RULES:
        if answers.get(key) == YES:
            reasons.append(reason)
            levels.append(level)
    flags: list[str] = []
    if answers.get("q6") == YES:
        flags.append("suicidal_behavior_lifetime")
        if answers.get("q6b") == YES:
            reasons.append("cssrs_q6_behavior_past_3_months")
            levels.append(RiskLevel.HIGH)
        else:
            reasons.append("cssrs_q6_behavior_over_3_months_ago")
            levels.append(RiskLevel.MODERATE)
    level = max(levels, key=RISK_ORDER.index)
    if not reasons:
        reasons.append("cssrs_all_no")
    return level, reasons, [a.value for a in CSSRS_ACTIONS[level]], flags


# --- substance use and housing ---------------------------------------------------------------------

SUBSTANCES = ("none", "alcohol", "opioids", "stimulants", "cannabis", "other", "declined")
OVERDOSE_ANSWERS = ("yes", "no", "unknown")
HOUSING_STATUSES = (
    "stably_housed",
    "at_risk_of_losing_housing",
    "staying_with_others",
    "shelter",
    "unsheltered",
    "declined",
)
# Everything but stable housing (and a refusal to say) is housing instability: a housing referral.
UNSTABLE_HOUSING = frozenset({"at_risk_of_losing_housing", "staying_with_others", "shelter", "unsheltered"})
# Naloxone for opioid use, and for stimulant use because the illicit stimulant supply is often
# contaminated with fentanyl (CDC and SAMHSA advise naloxone for people who use stimulants too).
NALOXONE_SUBSTANCES = frozenset({"opioids", "stimulants"})

_CONTEXT = Instrument(
    key=CONTEXT_SCREEN,
    version=CONTEXT_SCREEN_VERSION,
    title="Substance use and housing status",
    source="Crisis Desk context screen (own questions; categories after common SDOH housing screens).",
    notes="Context and needs, not a risk scale: the risk level is always none.",
    questions=(
        Question(
            "substance_use_30d",
            "Main substance used in the past 30 days",
            CHOICE,
            SUBSTANCES,
            help="The substance of most concern if several; 'declined' when the person would not say.",
        ),
        Question("using_now", "Using now, or appears intoxicated?", YES_NO),
        Question("overdose_12m", "Any overdose in the past 12 months?", CHOICE, OVERDOSE_ANSWERS),
        Question("housing_status", "Where is the person staying?", CHOICE, HOUSING_STATUSES),
    ),
)


def _score_context(answers: Mapping[str, str]) -> tuple[RiskLevel, list[str], list[str], list[str]]:
    reasons: list[str] = []
    flags: list[str] = []
    actions: set[RequiredAction] = set()
    substance = answers["substance_use_30d"]
    if substance == "declined":
        flags.append("substance_use_declined")
    elif substance != "none":
        reasons.append(f"substance_use_{substance}")
        flags.append("substance_use_past_30_days")
        actions.add(RequiredAction.SUBSTANCE_USE_REFERRAL)
    if substance in NALOXONE_SUBSTANCES:
        flags.append("overdose_risk")
        actions.add(RequiredAction.NALOXONE_OFFER)
    if answers["using_now"] == YES:
        reasons.append("intoxicated_now")
        flags.append("intoxicated_now")
    overdose = answers["overdose_12m"]
    if overdose == YES:
        # A recent overdose is the strongest known predictor of a fatal one.
        reasons.append("overdose_past_12_months")
        if "overdose_risk" not in flags:
            flags.append("overdose_risk")
        actions.update((RequiredAction.SUBSTANCE_USE_REFERRAL, RequiredAction.NALOXONE_OFFER))
    elif overdose == "unknown":
        flags.append("overdose_history_unknown")
    housing = answers["housing_status"]
    if housing in UNSTABLE_HOUSING:
        reasons.append(f"housing_{housing}")
        flags.append("housing_unstable")
        if housing == "unsheltered":
            flags.append("unsheltered")
        actions.add(RequiredAction.HOUSING_REFERRAL)
    elif housing == "declined":
        flags.append("housing_declined")
    ordered = [a.value for a in RequiredAction if a in actions]
    return RiskLevel.NONE, reasons, ordered, flags


# --- registry ----------------------------------------------------------------------------------------

Scorer = Callable[[Mapping[str, str]], tuple[RiskLevel, list[str], list[str], list[str]]]

# Every version ever shipped stays here, so stored answers can be re-scored with their own rule.
INSTRUMENTS: dict[tuple[str, str], tuple[Instrument, Scorer]] = {
    (_CSSRS.key, _CSSRS.version): (_CSSRS, _score_cssrs),
    (_CONTEXT.key, _CONTEXT.version): (_CONTEXT, _score_context),
}
CURRENT: dict[str, str] = {CSSRS_SCREENER: CSSRS_SCREENER_VERSION, CONTEXT_SCREEN: CONTEXT_SCREEN_VERSION}


def _lookup(key: str, version: str | None) -> tuple[Instrument, Scorer]:
    if key not in CURRENT:
        raise InstrumentError(
            [AnswerProblem("instrument", "unknown_instrument", f"unknown instrument {key!r}")]
        )
    entry = INSTRUMENTS.get((key, CURRENT[key] if version is None else version))
    if entry is None:
        raise InstrumentError(
            [AnswerProblem("version", "unknown_version", f"{key} has no version {version!r}")]
        )
    return entry


def get_instrument(key: str, version: str | None = None) -> Instrument:
    """The instrument `key` at `version` (None: the current one); unknown -> `InstrumentError`."""
    return _lookup(key, version)[0]


def asked_questions(instrument: Instrument, answers: Mapping[str, str]) -> tuple[Question, ...]:
    """The questions the skip logic asks, given the answers so far (for forms that reveal them)."""
    return tuple(q for q in instrument.questions if _is_asked(instrument, q, answers))


def _is_asked(instrument: Instrument, q: Question, answers: Mapping[str, str]) -> bool:
    if q.ask_if is None:
        return True
    gate = instrument.question(q.ask_if)
    # A gate that is itself skipped cannot be "yes", so chains of skips work.
    return _is_asked(instrument, gate, answers) and answers.get(gate.key) == YES


def validate_answers(instrument: Instrument, answers: Mapping[str, str]) -> list[AnswerProblem]:
    """Every problem with `answers` for this instrument (empty list: valid). Empty string = absent."""
    problems: list[AnswerProblem] = []
    known = {q.key for q in instrument.questions}
    for key in sorted(set(answers) - known):
        problems.append(AnswerProblem(key, "unknown_question", f"{instrument.key} has no question {key!r}"))
    for q in instrument.questions:
        value = answers.get(q.key, "")
        if _is_asked(instrument, q, answers):
            if value == "":
                problems.append(AnswerProblem(q.key, "missing", "an answer is required"))
            elif value not in q.allowed():
                allowed = ", ".join(q.allowed())
                problems.append(AnswerProblem(q.key, "invalid_choice", f"{value!r} is not one of {allowed}"))
        elif value != "":
            problems.append(
                AnswerProblem(q.key, "not_asked", f"answered, but only asked when {q.ask_if} is yes")
            )
    return problems


def score(key: str, version: str, answers: Mapping[str, str]) -> InstrumentResult:
    """Validate `answers` and apply the scoring rule of `key` at `version` (the stored version)."""
    instrument, scorer = _lookup(key, version)
    problems = validate_answers(instrument, answers)
    if problems:
        raise InstrumentError(problems)
    clean = {k: v for k, v in answers.items() if v != ""}
    level, reasons, actions, flags = scorer(clean)
    return InstrumentResult(
        instrument=instrument.key,
        version=instrument.version,
        risk_level=level,
        reasons=tuple(reasons),
        required_actions=tuple(actions),
        flags=tuple(flags),
    )


# --- Stanley-Brown safety plan ----------------------------------------------------------------------

SAFETY_PLAN_VERSION = "stanley-brown-spi/1"
SAFETY_PLAN_SOURCE = (
    "Stanley B, Brown GK. Safety Planning Intervention: a brief intervention to mitigate suicide risk. "
    "Cogn Behav Pract 2012;19(2):256-264 (Stanley-Brown Safety Plan template)."
)
SAFETY_PLAN_FIELDS: tuple[tuple[str, str], ...] = (
    ("warning_signs", "Warning signs that a crisis may be developing"),
    ("internal_coping_strategies", "Things I can do on my own to take my mind off my problems"),
    ("social_distractions", "People and social settings that provide distraction"),
    ("people_to_ask_for_help", "People I can ask for help"),
    ("professionals_and_agencies", "Professionals or agencies I can contact during a crisis (incl. 988)"),
    ("making_environment_safe", "Making the environment safe (access to lethal means)"),
    ("reasons_for_living", "Reasons for living: what is most important to me"),
)
# Steps 2-4 of the intervention: any one of them gives the person something to do before a crisis call.
COPING_OR_SUPPORT_FIELDS = ("internal_coping_strategies", "social_distractions", "people_to_ask_for_help")


# 988 as its own number ("988", "9-8-8", "call/text 988"), not digits inside a longer number such as
# the exchange of 612-988-1234.
_988 = re.compile(r"(?<![0-9])(?<![0-9][ .-])9[ .-]?8[ .-]?8(?![ .-]?[0-9])")
# The Lifeline's former number 1-800-273-8255 (273-TALK) still routes to 988.
_LIFELINE = re.compile(r"273[ .-]?(8255|TALK)", re.IGNORECASE)


def _mentions_988(text: str) -> bool:
    return bool(_988.search(text) or _LIFELINE.search(text))


def safety_plan_problems(values: Mapping[str, str]) -> tuple[str, ...]:
    """Why a safety plan is not complete enough to count (empty tuple: it counts).

    A plan counts when it has: warning signs; at least one of coping strategies, social distractions
    or people to ask for help; professionals and agencies that include the 988 line; and a step on
    making the environment safe (lethal-means counselling, the step most linked to reduced risk).
    Reasons for living are recommended but optional: a person in crisis may not be able to name one,
    and that must not stop the plan from counting. Blank or whitespace-only text counts as missing.

    Codes: unknown_field:<key>, warning_signs_missing, coping_or_support_missing,
    professionals_and_agencies_missing, crisis_line_988_missing, making_environment_safe_missing.
    """
    known = {key for key, _ in SAFETY_PLAN_FIELDS}
    problems = [f"unknown_field:{key}" for key in sorted(set(values) - known)]

    def filled(key: str) -> bool:
        return bool(values.get(key, "").strip())

    if not filled("warning_signs"):
        problems.append("warning_signs_missing")
    if not any(filled(key) for key in COPING_OR_SUPPORT_FIELDS):
        problems.append("coping_or_support_missing")
    if not filled("professionals_and_agencies"):
        problems.append("professionals_and_agencies_missing")
    elif not _mentions_988(values["professionals_and_agencies"]):
        problems.append("crisis_line_988_missing")
    if not filled("making_environment_safe"):
        problems.append("making_environment_safe_missing")
    return tuple(problems)
