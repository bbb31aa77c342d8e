"""The words casework pages show for the codes the domain and services use.

Codes stay codes in the database, the audit trail and the API; people read these sentences. A code
without an entry is shown as it is (with underscores as spaces), so a new code is never hidden.
"""

from __future__ import annotations

from crisisdesk.domain.cases import CaseAction, CaseStatus, Concern, Disposition, NoteKind, Relation
from crisisdesk.domain.followups import AttemptOutcome, FollowUpStatus, WorklistState
from crisisdesk.domain.instruments import RequiredAction, RiskLevel


def words(table: dict[str, str], code: str) -> str:
    """The plain words for `code` in `table`, or the code made readable when there are none."""
    return table.get(code, code.replace("_", " "))


RELATION_TEXT: dict[str, str] = {
    Relation.PERSON_IN_CRISIS: "Person in crisis",
    Relation.CALLER: "Caller",
    Relation.FAMILY_MEMBER: "Family member",
    Relation.OTHER: "Other",
}

CONCERN_TEXT: dict[str, str] = {
    Concern.MENTAL_HEALTH: "Mental health",
    Concern.SUBSTANCE_USE: "Substance use",
    Concern.OTHER_CRISIS: "Other crisis",
}

NOTE_KIND_TEXT: dict[str, str] = {
    NoteKind.CRISIS_INTERVENTION: "Crisis intervention",
    NoteKind.COUNSELING: "Counseling",
    NoteKind.SUPPORT: "Support to the person or family",
    NoteKind.OTHER: "Other",
}

DISPOSITION_TEXT: dict[str, str] = {
    Disposition.RESOLVED_BY_PHONE: "Resolved by phone",
    Disposition.REFERRED_TO_SERVICES: "Referred to services",
    Disposition.MOBILE_CRISIS_DISPATCHED: "Mobile crisis team dispatched",
    Disposition.EMS_REQUESTED: "EMS requested (escalated to 911)",
    Disposition.POLICE_REQUESTED: "Police requested (escalated to 911)",
    Disposition.FIRE_REQUESTED: "Fire requested (escalated to 911)",
    Disposition.TRANSFERRED_TO_988: "Transferred to 988",
    Disposition.CALLER_DISCONNECTED: "Caller disconnected",
    Disposition.DECLINED_SERVICES: "Declined services",
    Disposition.UNABLE_TO_REACH: "Unable to reach the person (callback)",
    Disposition.OTHER: "Other",
}

CASE_STATUS_TEXT: dict[str, str] = {
    CaseStatus.OPEN: "Open",
    CaseStatus.ESCALATED: "Escalated to 911",
    CaseStatus.CLOSED: "Closed",
}


def transition_text(status: str, action: str) -> str:
    """A case action that its status does not allow, in words (HTTP 409)."""
    if action == CaseAction.ESCALATE and status == CaseStatus.ESCALATED:
        return "The case was already escalated to 911."
    if action == CaseAction.REOPEN:
        return "The case is not closed: there is nothing to reopen."
    if status == CaseStatus.CLOSED:
        return "The case is closed: reopen it first."
    return f"A case that is {words(CASE_STATUS_TEXT, status).lower()} cannot be {action}d."


RISK_TEXT: dict[str, tuple[str, str]] = {
    RiskLevel.NONE: ("No suicide risk identified", "ok"),
    RiskLevel.LOW: ("Low suicide risk", "new"),
    RiskLevel.MODERATE: ("Moderate suicide risk", "warn"),
    RiskLevel.HIGH: ("High suicide risk", "stop"),
}

ACTION_TEXT: dict[str, str] = {
    RequiredAction.OFFER_ESCALATION: "Offer escalation to 911 (EMS or police) or the mobile crisis team; "
    "record it, or the person's refusal.",
    RequiredAction.SAFETY_PLAN: "Complete a safety plan with the person.",
    RequiredAction.DO_NOT_LEAVE_ALONE: "Do not leave the person alone: keep them on the line or with someone.",
    RequiredAction.BEHAVIORAL_HEALTH_REFERRAL: "Refer to behavioral health services.",
    RequiredAction.SUBSTANCE_USE_REFERRAL: "Refer to substance use services.",
    RequiredAction.NALOXONE_OFFER: "Offer naloxone (and where to get it).",
    RequiredAction.HOUSING_REFERRAL: "Refer to housing services.",
}

ASSESSMENT_REASON_TEXT: dict[str, str] = {
    "cssrs_all_no": "Every answer was no.",
    "cssrs_q1_wish_dead": "Wished to be dead in the past month.",
    "cssrs_q2_suicidal_thoughts": "Thoughts of ending their life in the past month.",
    "cssrs_q3_method": "Thought about a method.",
    "cssrs_q4_intent": "Some intention of acting on the thoughts.",
    "cssrs_q5_plan": "Worked out a plan they intend to carry out.",
    "cssrs_q6_behavior_past_3_months": "Did, began or prepared something to end their life in the past 3 months.",
    "cssrs_q6_behavior_over_3_months_ago": "Suicidal behaviour more than 3 months ago.",
    "intoxicated_now": "Using now or appears intoxicated.",
    "overdose_past_12_months": "An overdose in the past 12 months.",
}

FLAG_TEXT: dict[str, str] = {
    "suicidal_behavior_lifetime": "Suicidal behaviour at some time in their life",
    "overdose_risk": "Overdose risk",
    "intoxicated_now": "Intoxicated now",
    "substance_use_past_30_days": "Substance use in the past 30 days",
    "substance_use_declined": "Would not say about substance use",
    "overdose_history_unknown": "Overdose history unknown",
    "housing_unstable": "Housing unstable",
    "unsheltered": "Unsheltered",
    "housing_declined": "Would not say where they stay",
}

CHOICE_TEXT: dict[str, str] = {
    "none": "None",
    "alcohol": "Alcohol",
    "opioids": "Opioids",
    "stimulants": "Stimulants",
    "cannabis": "Cannabis",
    "other": "Other",
    "declined": "Would not say",
    "yes": "Yes",
    "no": "No",
    "unknown": "Unknown",
    "stably_housed": "Stably housed",
    "at_risk_of_losing_housing": "At risk of losing housing",
    "staying_with_others": "Staying with others",
    "shelter": "Shelter",
    "unsheltered": "Unsheltered (outside, car, street)",
}


def assessment_reason_text(code: str) -> str:
    """Reason codes of both instruments; the context screen builds some from its answers."""
    if code in ASSESSMENT_REASON_TEXT:
        return ASSESSMENT_REASON_TEXT[code]
    if code.startswith("substance_use_"):
        return (
            f"Substance use in the past 30 days: {words(CHOICE_TEXT, code.removeprefix('substance_use_'))}."
        )
    if code.startswith("housing_"):
        return f"Housing: {words(CHOICE_TEXT, code.removeprefix('housing_'))}."
    return code.replace("_", " ")


SAFETY_PLAN_PROBLEM_TEXT: dict[str, str] = {
    "warning_signs_missing": "Write down the warning signs.",
    "coping_or_support_missing": "Add at least one coping strategy, social distraction or person to ask for help.",
    "professionals_and_agencies_missing": "List professionals or agencies to contact, including 988.",
    "crisis_line_988_missing": "Include the 988 Suicide & Crisis Lifeline among the contacts.",
    "making_environment_safe_missing": "Add a step on making the environment safe (access to lethal means).",
}

MATCH_REASON_TEXT: dict[str, str] = {
    "phone_exact": "Same phone number",
    "name_exact": "Same given and family name",
    "name_swapped": "Same names, given and family name swapped",
    "family_name_exact": "Same family name",
    "family_name_similar": "Similar family name",
    "family_name_different": "Different family name",
    "given_name_exact": "Same given name",
    "nickname": "Given name is a nickname of the other",
    "given_name_similar": "Similar given name",
    "given_initial": "Same initial of the given name",
    "given_name_different": "Different given name",
    "dob_exact": "Same date of birth",
    "dob_transposed": "Date of birth with day and month (or two digits) swapped",
    "dob_partial": "Date of birth partly the same",
    "dob_different": "Different date of birth",
    "address_exact": "Same address",
    "address_same_street": "Same building, another or no unit",
}

PHONE_PROBLEM_TEXT: dict[str, str] = {
    "missing": "no number given",
    "not_a_number": "not a phone number",
    "too_short": "too short to be a phone number",
    "too_long": "too long to be a phone number",
    "invalid_country_code": "unknown country code",
    "invalid_length": "wrong number of digits",
    "local_only": "a local number without its area code",
    "invalid_number": "not a number in service (no such number plan)",
}

CONSENT_METHOD_TEXT: dict[str, str] = {
    "verbal_on_call": "Verbally, on the call",
    "written": "In writing",
    "text_message": "By text message",
}

CHANNEL_TEXT: dict[str, str] = {"phone": "Phone call", "sms": "Text message", "in_person": "In person"}

ATTEMPT_OUTCOME_TEXT: dict[str, str] = {
    AttemptOutcome.REACHED: "Reached the person",
    AttemptOutcome.LEFT_MESSAGE: "Left a message",
    AttemptOutcome.NO_ANSWER: "No answer",
    AttemptOutcome.WRONG_NUMBER: "Wrong number",
    AttemptOutcome.NUMBER_NOT_IN_SERVICE: "Number not in service",
    AttemptOutcome.DECLINED: "Reached; declined follow-up",
    AttemptOutcome.OTHER: "Other",
}

FOLLOW_UP_STATUS_TEXT: dict[str, str] = {
    FollowUpStatus.PENDING: "Pending",
    FollowUpStatus.COMPLETED: "Completed: reached",
    FollowUpStatus.DECLINED: "Declined by the person",
    FollowUpStatus.UNREACHABLE: "Unreachable",
    FollowUpStatus.CANCELLED: "Cancelled",
}

WORKLIST_STATE_TEXT: dict[str, tuple[str, str]] = {
    WorklistState.OVERDUE: ("Overdue", "stop"),
    WorklistState.DUE: ("Due", "warn"),
    WorklistState.DONE: ("Done", "ok"),
    WorklistState.UPCOMING: ("Upcoming", "new"),
}

FOLLOW_UP_KIND_TEXT: dict[str, str] = {
    "after_case": "After a case",
    "callback": "Callback requested on a 911 call",
    "referral_check": "Referral check",
}
