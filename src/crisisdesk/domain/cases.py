"""The case: the social worker's record of helping a person, as coded lists and a transition table.

A case opens when the social worker claims a transfer (or by hand, for a callback). Services check
every status change against `TRANSITIONS`; nothing changes status anywhere else.

    open --escalate--> escalated      (sent back to 911 in one step: police / fire / EMS)
      |                    |
      \\--close--> closed <-/--close   (with a disposition from the coded list and a reason)
                    |
                    \\--reopen--> open  (new information; the earlier close stays in the audit trail)

`close_check` holds the rules a close must satisfy, so the page can show every reason at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crisisdesk.domain.instruments import RiskLevel

CASE_RULES_VERSION = "cases/1"


class CaseStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    CLOSED = "closed"


class CaseAction(StrEnum):
    ESCALATE = "escalate"
    CLOSE = "close"
    REOPEN = "reopen"


S, A = CaseStatus, CaseAction

TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.OPEN, A.ESCALATE): S.ESCALATED,
    (S.OPEN, A.CLOSE): S.CLOSED,
    (S.ESCALATED, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.REOPEN): S.OPEN,
}

LIVE = frozenset({S.OPEN, S.ESCALATED})


class CaseOrigin(StrEnum):
    TRANSFER = "transfer"  # opened by claiming a 911 transfer
    CALLBACK = "callback"  # opened by hand to call someone back (e.g. "callback next shift")


class Relation(StrEnum):
    """How a person in the case relates to it."""

    PERSON_IN_CRISIS = "person_in_crisis"
    CALLER = "caller"
    FAMILY_MEMBER = "family_member"
    OTHER = "other"


class Concern(StrEnum):
    """Presenting concerns; a case may have several."""

    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_USE = "substance_use"
    OTHER_CRISIS = "other_crisis"


class NoteKind(StrEnum):
    CRISIS_INTERVENTION = "crisis_intervention"
    COUNSELING = "counseling"
    SUPPORT = "support"  # support to the person or the family
    OTHER = "other"


class Disposition(StrEnum):
    """How the case ended (coded, so evaluation can count it)."""

    RESOLVED_BY_PHONE = "resolved_by_phone"
    REFERRED_TO_SERVICES = "referred_to_services"
    MOBILE_CRISIS_DISPATCHED = "mobile_crisis_dispatched"
    EMS_REQUESTED = "ems_requested"
    POLICE_REQUESTED = "police_requested"
    FIRE_REQUESTED = "fire_requested"
    TRANSFERRED_TO_988 = "transferred_to_988"
    CALLER_DISCONNECTED = "caller_disconnected"
    DECLINED_SERVICES = "declined_services"
    UNABLE_TO_REACH = "unable_to_reach"  # a callback case where nobody answered
    OTHER = "other"


# Dispositions that mean 911 responders were sent: only an escalated case may close with them, and
# an escalated case must close with one of them (the record must agree with what happened).
RESPONDER_DISPOSITIONS = frozenset(
    {Disposition.EMS_REQUESTED, Disposition.POLICE_REQUESTED, Disposition.FIRE_REQUESTED}
)
# Without one of these, a case must name at least one presenting concern.
NO_CONTACT_DISPOSITIONS = frozenset({Disposition.CALLER_DISCONNECTED, Disposition.UNABLE_TO_REACH})


class InvalidCaseTransition(Exception):
    """The action is not allowed from the case's current state (HTTP 409 at the edge)."""

    def __init__(self, status: CaseStatus, action: CaseAction):
        self.status = status
        self.action = action
        super().__init__(f"cannot {action.value} a case that is {status.value}")


def transition(status: CaseStatus | str, action: CaseAction | str) -> CaseStatus:
    before, act = CaseStatus(status), CaseAction(action)
    after = TRANSITIONS.get((before, act))
    if after is None:
        raise InvalidCaseTransition(before, act)
    return after


@dataclass(frozen=True)
class CloseFacts:
    """What the close rules look at; gathered by the service from the case's rows."""

    status: CaseStatus
    disposition: str
    reason: str
    concerns: frozenset[str]
    risk_level: RiskLevel | None  # of the latest suicide-risk screening, None if not screened
    escalated: bool  # an escalation to 911 exists on the case
    escalation_offer_declined: bool  # the person was offered escalation and declined it (recorded)
    safety_plan_complete: bool


@dataclass(frozen=True)
class CloseCheck:
    ok: bool
    reasons: tuple[str, ...]  # every rule the close breaks (empty when ok)
    version: str = CASE_RULES_VERSION


def close_check(f: CloseFacts) -> CloseCheck:
    """May the case close with this disposition? All broken rules are returned, not just the first.

    - the status must allow closing (open or escalated);
    - the disposition must be from the coded list, and a reason must be given;
    - a concern must be recorded unless nobody could be talked to;
    - escalated cases close with a responder disposition, and only they may;
    - a high suicide risk closes as "resolved by phone" only after escalation was offered (and
      declined, or made) and a complete safety plan is on the case (C-SSRS screener triage).
    """
    reasons: list[str] = []
    if (f.status, CaseAction.CLOSE) not in TRANSITIONS:
        reasons.append("case_not_open")
    try:
        disposition: Disposition | None = Disposition(f.disposition)
    except ValueError:
        disposition = None
        reasons.append("disposition_unknown")
    if not f.reason.strip():
        reasons.append("close_reason_missing")
    if disposition is not None:
        if not f.concerns and disposition not in NO_CONTACT_DISPOSITIONS:
            reasons.append("concern_missing")
        if f.escalated and disposition not in RESPONDER_DISPOSITIONS:
            reasons.append("escalated_case_needs_responder_disposition")
        if disposition in RESPONDER_DISPOSITIONS and not f.escalated:
            reasons.append("responder_disposition_needs_escalation")
        if f.risk_level is RiskLevel.HIGH and disposition is Disposition.RESOLVED_BY_PHONE:
            if not (f.escalated or f.escalation_offer_declined):
                reasons.append("high_risk_escalation_not_offered")
            if not f.safety_plan_complete:
                reasons.append("high_risk_safety_plan_missing")
    return CloseCheck(ok=not reasons, reasons=tuple(reasons))


REASON_TEXT = {
    "case_not_open": "The case is already closed.",
    "disposition_unknown": "Choose a disposition from the list.",
    "close_reason_missing": "Say why the case is closing.",
    "concern_missing": "Record at least one presenting concern.",
    "escalated_case_needs_responder_disposition": "An escalated case closes as police, EMS or fire requested.",
    "responder_disposition_needs_escalation": "Police, EMS or fire requested: escalate from the case first.",
    "high_risk_escalation_not_offered": "High suicide risk: offer escalation (record it, or the person's refusal) first.",
    "high_risk_safety_plan_missing": "High suicide risk: complete a safety plan before closing as resolved by phone.",
}
