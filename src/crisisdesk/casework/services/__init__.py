"""The ONE write path for casework, by area: cases, people, escalations, follow-ups.

Pages, API and commands import from here (`from crisisdesk.casework import services`).
"""

from crisisdesk.casework.services.cases import (
    CloseRefused,
    add_note,
    close_case,
    latest_risk,
    open_callback_case,
    open_case_for_transfer,
    record_assessment,
    record_escalation_declined,
    reopen_case,
    save_safety_plan,
    update_case_details,
)
from crisisdesk.casework.services.disclosures import (
    record_disclosure_consent,
    revoke_disclosure_consent,
)
from crisisdesk.casework.services.escalations import acknowledge_escalation, escalate_case
from crisisdesk.casework.services.followups import (
    active_policy,
    callback_from_fallback,
    cancel_follow_up,
    open_case_for_follow_up,
    publish_follow_up_policy,
    record_attempt,
    record_consent,
    schedule_follow_up,
    take_follow_up,
    withdraw_consent,
)
from crisisdesk.casework.services.people import add_person, confirm_link, person_facts, undo_link

__all__ = [
    "CloseRefused",
    "acknowledge_escalation",
    "active_policy",
    "add_note",
    "add_person",
    "callback_from_fallback",
    "cancel_follow_up",
    "close_case",
    "confirm_link",
    "escalate_case",
    "latest_risk",
    "open_callback_case",
    "open_case_for_follow_up",
    "open_case_for_transfer",
    "person_facts",
    "publish_follow_up_policy",
    "record_assessment",
    "record_attempt",
    "record_consent",
    "record_disclosure_consent",
    "record_escalation_declined",
    "reopen_case",
    "revoke_disclosure_consent",
    "save_safety_plan",
    "schedule_follow_up",
    "take_follow_up",
    "undo_link",
    "update_case_details",
    "withdraw_consent",
]
