"""Referrals from a case to a service: the lifecycle, the modes, the follow-up check and coded needs.

A referral sends a person, with their recorded consent, to a service in the directory. Its lifecycle
follows the referral-management Task of the Gravity Project's SDOH Clinical Care implementation guide
(FHIR Task.status, value set SDOHCC-ValueSetReferralTaskStatus, which is FHIR's TaskStatus without
`received` and `ready`). Services check every change against `TRANSITIONS`; nothing changes status
anywhere else; terminal states stay terminal (another try is a new referral).

    draft --send--> requested --accept--> accepted --start--> in_progress --complete--> completed
      |                 |                   |   \\--complete--> completed  \\--fail------> failed
      |                 |--reject--> rejected \\--fail------> failed
      \\--cancel--> cancelled <--cancel-- (requested, accepted, in_progress)

- `send`: the social worker sends the referral to the agency (FHIR partner, phone, fax, e-mail...).
- `accept` / `reject` / `start` / `complete` / `fail`: what the agency (or the person) reports.
- `cancel`: the social worker withdraws the referral (the person changed their mind, consent
  withdrawn, sent in error).
- FHIR's Task machine passes through `in-progress` on the way to `completed`; an agency without
  software often reports only the outcome ("she came in Tuesday and is enrolled"), so `completed`
  and `failed` are reachable from `accepted` too. The export carries only the current status, which
  is a valid Task.status either way.

Modes: `electronic` (the partner's system accepts FHIR: the referral travels as the SDOHCC bundle)
and `manual` (an agency without software: the social worker phones, faxes or e-mails it and records
what the agency said, when, and on which channel). In manual mode every agency report carries those
three facts; `response_problems` says which are missing.

The follow-up check: every referral that is sent gets a follow-up in the casework worklist (the
social worker checks with the person whether they got connected). `ReferralCheckRule.start_after`
(default 48 h) is when the check's attempt clock starts, counted from the moment the referral is
sent; the attempt deadlines then follow the casework follow-up policy (by default the first attempt
within 24 h of that start: three days after sending). The check is on the worklist from the moment
the referral is sent, so the social worker sees it coming. Hours are elapsed hours (UTC instants),
as in `domain.followups`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from crisisdesk.domain.calendar import NaiveDatetimeError

REFERRAL_RULES_VERSION = "referrals/1"


class ReferralStatus(StrEnum):
    DRAFT = "draft"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ReferralAction(StrEnum):
    SEND = "send"
    ACCEPT = "accept"
    REJECT = "reject"
    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"


S, A = ReferralStatus, ReferralAction

TRANSITIONS: dict[tuple[ReferralStatus, ReferralAction], ReferralStatus] = {
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

ACTIVE = frozenset({S.DRAFT, S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS})
TERMINAL = frozenset(ReferralStatus) - ACTIVE
# Sent and not finished: the agency has it (the tracker's "open" referrals).
OPEN = frozenset({S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS})
# What the agency (or the person) reports, as opposed to what the social worker decides (send, cancel).
AGENCY_ACTIONS = frozenset({A.ACCEPT, A.REJECT, A.START, A.COMPLETE, A.FAIL})
# Statuses the IG expects a reason for (Task.statusReason.text "should be included").
NEEDS_REASON = frozenset({S.REJECTED, S.FAILED, S.CANCELLED})
# A warm handoff (three-way call with the person and the agency) happens once the referral is out.
WARM_HANDOFF_STATES = OPEN

# FHIR R4 Task.status of each referral status (one to one: the lifecycle is the Task's).
FHIR_TASK_STATUS: dict[ReferralStatus, str] = {
    S.DRAFT: "draft",
    S.REQUESTED: "requested",
    S.ACCEPTED: "accepted",
    S.REJECTED: "rejected",
    S.IN_PROGRESS: "in-progress",
    S.COMPLETED: "completed",
    S.FAILED: "failed",
    S.CANCELLED: "cancelled",
}
# FHIR R4 ServiceRequest.status: the order is the requester's. It is active while the agency has it,
# completed when the service was delivered, and revoked when the request ended without the service
# (rejected, failed, or withdrawn): a new attempt is a new ServiceRequest.
FHIR_SERVICE_REQUEST_STATUS: dict[ReferralStatus, str] = {
    S.DRAFT: "draft",
    S.REQUESTED: "active",
    S.ACCEPTED: "active",
    S.IN_PROGRESS: "active",
    S.COMPLETED: "completed",
    S.REJECTED: "revoked",
    S.FAILED: "revoked",
    S.CANCELLED: "revoked",
}


class InvalidReferralTransition(Exception):
    """The action is not allowed from the referral's current state (HTTP 409 at the edge)."""

    def __init__(self, status: ReferralStatus, action: ReferralAction):
        self.status = status
        self.action = action
        super().__init__(f"cannot {action.value} a referral that is {status.value.replace('_', ' ')}")


def transition(status: ReferralStatus | str, action: ReferralAction | str) -> ReferralStatus:
    """Check one step against the table; raise `InvalidReferralTransition` when it is not allowed.

    Unknown status or action codes raise a plain ValueError (from the enum), as in transfers."""
    before, act = ReferralStatus(status), ReferralAction(action)
    after = TRANSITIONS.get((before, act))
    if after is None:
        raise InvalidReferralTransition(before, act)
    return after


def allowed_actions(status: ReferralStatus | str) -> tuple[ReferralAction, ...]:
    """The actions the table allows from `status`, in the enum's order (what a page may offer)."""
    before = ReferralStatus(status)
    return tuple(a for a in ReferralAction if (before, a) in TRANSITIONS)


# --- modes and reports ----------------------------------------------------------------------------


class ReferralMode(StrEnum):
    ELECTRONIC = "electronic"  # the partner's system accepts FHIR (the SDOHCC bundle)
    MANUAL = "manual"  # an agency without software: phone, fax, e-mail, in person


class Channel(StrEnum):
    """How a referral was sent, or how the agency's word reached the social worker."""

    PHONE = "phone"
    EMAIL = "email"
    FAX = "fax"
    IN_PERSON = "in_person"
    PARTNER_SYSTEM = "partner_system"  # the agency's own (FHIR) system


MANUAL_CHANNELS = frozenset({Channel.PHONE, Channel.EMAIL, Channel.FAX, Channel.IN_PERSON})


@dataclass(frozen=True)
class Report:
    """What somebody reported about a referral: what was said, by whom, when, and how it arrived.

    `occurred_at` is when it was said (the agency's phone call at 10:05), not when the social worker
    typed it in; None means "now"."""

    action: ReferralAction
    said: str = ""
    said_by: str = ""
    channel: str = ""
    occurred_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class ReportCheck:
    ok: bool
    reasons: tuple[str, ...]  # every problem (empty when ok)
    version: str = REFERRAL_RULES_VERSION


def response_problems(
    mode: ReferralMode | str,
    report: Report,
    *,
    sent_at: datetime | None,
    now: datetime,
) -> ReportCheck:
    """Is this report complete enough to record? Every problem is returned, not only the first.

    - a channel must be one of `Channel` (manual mode: one of the manual channels for what the
      agency said; electronic mode: any, the partner system included);
    - in manual mode an agency action records what the agency said (`said`) and when;
    - a rejection, a failure or a cancellation gives the reason (FHIR Task.statusReason.text);
    - `occurred_at` is aware, not in the future, and not before the referral was sent (a minute of
      tolerance either way: times are typed to the minute).
    """
    reasons: list[str] = []
    manual = ReferralMode(mode) is ReferralMode.MANUAL
    agency = report.action in AGENCY_ACTIONS
    if report.channel:
        try:
            channel: Channel | None = Channel(report.channel)
        except ValueError:
            channel = None
            reasons.append("channel_unknown")
        if manual and agency and channel is Channel.PARTNER_SYSTEM:
            reasons.append("manual_agency_has_no_system")
    elif agency:
        reasons.append("channel_missing")
    if manual and agency:
        if not report.said.strip():
            reasons.append("agency_words_missing")
        if report.occurred_at is None:
            reasons.append("when_missing")
    if report.action in (A.REJECT, A.FAIL, A.CANCEL) and not report.reason.strip():
        reasons.append("reason_missing")
    if report.occurred_at is not None:
        at = report.occurred_at
        if at.tzinfo is None or at.utcoffset() is None:
            reasons.append("when_not_aware")
        else:
            # A minute either way: people type times to the minute, and clocks differ a little.
            if at.timestamp() > now.timestamp() + 60:
                reasons.append("when_in_future")
            if sent_at is not None and agency and at.timestamp() < sent_at.timestamp() - 60:
                reasons.append("when_before_sent")
    return ReportCheck(ok=not reasons, reasons=tuple(reasons))


REASON_TEXT = {
    "channel_unknown": "Choose how it reached you from the list.",
    "channel_missing": "Say how the agency's answer reached you (phone, e-mail, fax, in person...).",
    "manual_agency_has_no_system": "This agency has no software: choose phone, e-mail, fax or in person.",
    "agency_words_missing": "Write down what the agency said.",
    "when_missing": "Say when the agency said it.",
    "reason_missing": "Give the reason.",
    "when_not_aware": "The time needs a time zone.",
    "when_in_future": "That time is in the future.",
    "when_before_sent": "That is before the referral was sent.",
}


class WarmHandoffOutcome(StrEnum):
    """How a three-way call (social worker, person, agency) went."""

    CONNECTED = "connected"  # the person and the agency spoke
    AGENCY_UNAVAILABLE = "agency_unavailable"  # nobody at the agency could take the call
    PERSON_DECLINED = "person_declined"  # the person did not want to go on with the call
    DROPPED = "dropped"  # the call was cut off


# --- needs (what the service is for), coded for the FHIR export -----------------------------------

SDOHCC_TEMP_CODES = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"


class ReferralNeed(StrEnum):
    """What the person needs from the service. The SDOH ones map to the Gravity SDOH categories;
    mental health and substance use are not SDOH domains and export as `sdoh-category-unspecified`."""

    HOUSING_INSTABILITY = "housing_instability"
    HOMELESSNESS = "homelessness"
    FOOD_INSECURITY = "food_insecurity"
    TRANSPORTATION_INSECURITY = "transportation_insecurity"
    FINANCIAL_INSECURITY = "financial_insecurity"
    UTILITY_INSECURITY = "utility_insecurity"
    INTIMATE_PARTNER_VIOLENCE = "intimate_partner_violence"
    ELDER_ABUSE = "elder_abuse"
    SOCIAL_CONNECTION = "social_connection"
    STRESS = "stress"
    HEALTH_INSURANCE = "health_insurance"
    EMPLOYMENT = "employment"
    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_USE = "substance_use"
    OTHER = "other"


UNSPECIFIED = ("sdoh-category-unspecified", "SDOH Category Unspecified")

# (code, display) in SDOHCC-CodeSystemTemporaryCodes, as the code system defines them.
SDOH_CATEGORY: dict[ReferralNeed, tuple[str, str]] = {
    ReferralNeed.HOUSING_INSTABILITY: ("housing-instability", "Housing Instability"),
    ReferralNeed.HOMELESSNESS: ("homelessness", "Homelessness"),
    ReferralNeed.FOOD_INSECURITY: ("food-insecurity", "Food Insecurity"),
    ReferralNeed.TRANSPORTATION_INSECURITY: ("transportation-insecurity", "Transportation Insecurity"),
    ReferralNeed.FINANCIAL_INSECURITY: ("financial-insecurity", "Financial Insecurity"),
    ReferralNeed.UTILITY_INSECURITY: ("utility-insecurity", "Utility Insecurity"),
    ReferralNeed.INTIMATE_PARTNER_VIOLENCE: ("intimate-partner-violence", "Intimate Partner Violence"),
    ReferralNeed.ELDER_ABUSE: ("elder-abuse", "Elder Abuse"),
    ReferralNeed.SOCIAL_CONNECTION: ("social-connection", "Social Connection"),
    ReferralNeed.STRESS: ("stress", "Stress"),
    ReferralNeed.HEALTH_INSURANCE: ("health-insurance-coverage-status", "Health Insurance Coverage Status"),
    ReferralNeed.EMPLOYMENT: ("employment-status", "Employment Status"),
    ReferralNeed.MENTAL_HEALTH: UNSPECIFIED,
    ReferralNeed.SUBSTANCE_USE: UNSPECIFIED,
    ReferralNeed.OTHER: UNSPECIFIED,
}

# Words in a search or a service's description that suggest the need (first match wins), so the
# refer form can propose one; the social worker always confirms it.
NEED_HINTS: tuple[tuple[ReferralNeed, tuple[str, ...]], ...] = (
    (ReferralNeed.HOMELESSNESS, ("homeless", "shelter", "unsheltered")),
    (ReferralNeed.HOUSING_INSTABILITY, ("housing", "rent", "eviction", "landlord")),
    (ReferralNeed.FOOD_INSECURITY, ("food", "meal", "pantry", "hunger")),
    (ReferralNeed.TRANSPORTATION_INSECURITY, ("transport", "ride", "bus")),
    (ReferralNeed.UTILITY_INSECURITY, ("utility", "utilities", "heating", "energy assistance")),
    (ReferralNeed.INTIMATE_PARTNER_VIOLENCE, ("domestic violence", "intimate partner", "abuse")),
    (ReferralNeed.SUBSTANCE_USE, ("substance", "detox", "addiction", "alcohol", "opioid", "withdrawal")),
    (ReferralNeed.MENTAL_HEALTH, ("mental health", "crisis", "counsel", "psychiatr", "therapy")),
    (ReferralNeed.FINANCIAL_INSECURITY, ("financial", "benefits", "income")),
    (ReferralNeed.EMPLOYMENT, ("employment", "job")),
    (ReferralNeed.SOCIAL_CONNECTION, ("peer support", "lonel", "isolation")),
)


def suggest_need(*texts: str) -> ReferralNeed:
    """The first need whose hint words appear in any of `texts` (lower-cased); OTHER otherwise."""
    blob = " ".join(t.lower() for t in texts if t)
    for need, words in NEED_HINTS:
        if any(w in blob for w in words):
            return need
    return ReferralNeed.OTHER


# --- the follow-up check rule ---------------------------------------------------------------------

MAX_CHECK_DELAY = timedelta(days=30)


@dataclass(frozen=True)
class ReferralCheckRule:
    """When the follow-up check of a sent referral starts (see the module docstring)."""

    version: str
    start_after: timedelta


DEFAULT_CHECK_RULE = ReferralCheckRule(version="referral-check/1", start_after=timedelta(hours=48))


def parse_check_rule(doc: Mapping[str, Any]) -> ReferralCheckRule:
    """`{"version": str, "start_after_hours": number}`: hours >= 0 and at most 30 days.

    Raises ValueError listing every problem."""
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise ValueError(f"the check rule must be a mapping, not {type(doc).__name__}")
    extra = sorted(set(doc) - {"version", "start_after_hours"}, key=str)
    problems += [f"{k}: unknown setting" for k in extra]
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append(f"version: must be a non-empty string, not {version!r}")
    hours = doc.get("start_after_hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours):
        problems.append(f"start_after_hours: must be a number of hours, not {hours!r}")
    elif hours < 0 or hours > MAX_CHECK_DELAY / timedelta(hours=1):
        problems.append(f"start_after_hours: must be between 0 and {MAX_CHECK_DELAY.days * 24}, not {hours}")
    if problems:
        raise ValueError("invalid referral check rule: " + "; ".join(problems))
    assert isinstance(version, str) and isinstance(hours, int | float)
    return ReferralCheckRule(version=version, start_after=timedelta(hours=hours))


@dataclass(frozen=True)
class CheckPlan:
    """The follow-up of a sent referral: its attempt clock starts at `start`; it is on the worklist
    from `visible_from` (the moment the referral was sent). Both UTC."""

    start: datetime
    visible_from: datetime
    rule_version: str


def check_plan(rule: ReferralCheckRule, sent_at: datetime) -> CheckPlan:
    """The check of a referral sent at `sent_at` (aware): start = sent_at + start_after, elapsed time."""
    if sent_at.tzinfo is None or sent_at.utcoffset() is None:
        raise NaiveDatetimeError("sent_at must be a timezone-aware datetime")
    origin = sent_at.astimezone(UTC)
    return CheckPlan(start=origin + rule.start_after, visible_from=origin, rule_version=rule.version)
