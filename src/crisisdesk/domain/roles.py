"""The people (and systems) who use Crisis Desk, and which role may perform each action.

Which records of each kind a role may see (own, team, aggregate) is `domain.permissions`."""

from enum import StrEnum


class Role(StrEnum):
    TELECOMMUNICATOR = "telecommunicator"
    SOCIAL_WORKER = "social_worker"
    SUPERVISOR = "supervisor"
    EVALUATOR = "evaluator"
    ADMINISTRATOR = "administrator"
    CAD_INTEGRATION = "cad_integration"  # a system account that posts calls from the CAD


HUMAN_ROLES = (
    Role.TELECOMMUNICATOR,
    Role.SOCIAL_WORKER,
    Role.SUPERVISOR,
    Role.EVALUATOR,
    Role.ADMINISTRATOR,
)

# Which roles may perform each operational action. Services check these; pages hide what a role
# cannot do. Supervisors may act on the floor in an emergency (e.g. cancel a stuck transfer).
CAN = {
    "intake_call": {Role.CAD_INTEGRATION, Role.TELECOMMUNICATOR, Role.SUPERVISOR},
    "screen_call": {Role.TELECOMMUNICATOR, Role.SUPERVISOR},
    "request_transfer": {Role.TELECOMMUNICATOR, Role.SUPERVISOR},
    "cancel_transfer": {Role.TELECOMMUNICATOR, Role.SUPERVISOR},
    "take_fallback": {Role.TELECOMMUNICATOR, Role.SUPERVISOR},
    "claim_transfer": {Role.SOCIAL_WORKER},
    "decline_transfer": {Role.SOCIAL_WORKER},
    "escalate_transfer": {Role.SOCIAL_WORKER},
    "complete_transfer": {Role.SOCIAL_WORKER},
    "set_availability": {Role.SOCIAL_WORKER},
    "view_floor": {Role.SUPERVISOR},
    "view_queue": {Role.SOCIAL_WORKER, Role.SUPERVISOR},
    "view_calls": {Role.TELECOMMUNICATOR, Role.SUPERVISOR, Role.SOCIAL_WORKER},
    "publish_protocol": {Role.ADMINISTRATOR},
    "view_aggregates": {Role.EVALUATOR, Role.SUPERVISOR},
    # casework
    "work_case": {Role.SOCIAL_WORKER},  # open, note, assess, safety plan, people, consent, close
    "view_cases": {Role.SOCIAL_WORKER, Role.SUPERVISOR},
    "escalate_case": {Role.SOCIAL_WORKER},
    "acknowledge_escalation": {Role.TELECOMMUNICATOR, Role.SUPERVISOR},
    "record_callback_consent": {Role.TELECOMMUNICATOR, Role.SUPERVISOR},
    "work_follow_ups": {Role.SOCIAL_WORKER},
    "set_follow_up_policy": {Role.ADMINISTRATOR},
    # service directory and referrals
    "search_directory": {Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.ADMINISTRATOR},
    "maintain_directory": {Role.ADMINISTRATOR},
    "make_referral": {Role.SOCIAL_WORKER},
    "view_referrals": {Role.SOCIAL_WORKER, Role.SUPERVISOR},
    # privacy review: who read or changed a person's records (Minn. Stat. 13.055, HIPAA 164.312(b))
    "review_audit": {Role.SUPERVISOR},
    # accounts locked after failed sign-ins (CJIS AC-7: released by an administrator; supervisors
    # too, so that a locked telecommunicator is not off the floor until IT answers)
    "unlock_account": {Role.SUPERVISOR, Role.ADMINISTRATOR},
    "disable_account": {Role.ADMINISTRATOR},  # ends every session of the account at once
    # retention periods and the purge (configuration; a purge shows no case content)
    "manage_retention": {Role.ADMINISTRATOR},
}


def may(role: str, action: str) -> bool:
    try:
        return Role(role) in CAN[action]
    except (ValueError, KeyError):
        return False
