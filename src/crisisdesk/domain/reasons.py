"""Reason codes and outcomes of a triage decision.

The codes are snake_case strings because they travel everywhere: API payloads, audit rows, the
triage card files supervisors write by hand and the evaluation datasets. `StrEnum` keeps them typed in
Python and plain strings on the wire.
"""

from enum import StrEnum


class Outcome(StrEnum):
    TRANSFER = "transfer"  # to the on-site social worker now
    DISPATCH = "dispatch"  # keep with police / fire / EMS
    FALLBACK = "fallback"  # in scope and safe, but the social worker cannot take it
    NOT_ELIGIBLE = "not_eligible"  # call type out of the program's scope


class Reason(StrEnum):
    # Safety exclusions: each comes from one screening question answered "yes".
    WEAPON = "weapon"
    VIOLENCE = "violence"
    CRIME_IN_PROGRESS = "crime_in_progress"
    MEDICAL_EMERGENCY = "medical_emergency"
    IMMINENT_RISK = "imminent_risk"
    CALLER_REQUESTS_POLICE = "caller_requests_police"
    # A required question was not answered: never a transfer.
    SCREENING_INCOMPLETE = "screening_incomplete"
    # Call type.
    CALL_TYPE_EMERGENCY_ONLY = "call_type_emergency_only"
    CALL_TYPE_NOT_IN_SCOPE = "call_type_not_in_scope"
    CALL_TYPE_UNKNOWN = "call_type_unknown"
    # Availability of the social worker: these lead to a fallback.
    OUTSIDE_SERVICE_HOURS = "outside_service_hours"
    HOLIDAY = "holiday"
    SOCIAL_WORKER_UNAVAILABLE = "social_worker_unavailable"
    CALLER_DECLINED = "caller_declined"
    # Every check passed.
    ELIGIBLE = "eligible"


# Reasons that send the call to police / fire / EMS. Order is the order they are shown in.
DISPATCH_REASONS = (
    Reason.CALL_TYPE_EMERGENCY_ONLY,
    Reason.WEAPON,
    Reason.VIOLENCE,
    Reason.CRIME_IN_PROGRESS,
    Reason.MEDICAL_EMERGENCY,
    Reason.IMMINENT_RISK,
    Reason.CALLER_REQUESTS_POLICE,
    Reason.SCREENING_INCOMPLETE,
)

FALLBACK_REASONS = (
    Reason.HOLIDAY,
    Reason.OUTSIDE_SERVICE_HOURS,
    Reason.SOCIAL_WORKER_UNAVAILABLE,
    Reason.CALLER_DECLINED,
)
