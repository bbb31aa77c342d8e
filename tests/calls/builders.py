"""Small builders for the operational flow, used by service, API and page tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crisisdesk.calls import services
from crisisdesk.calls.schemas import CadCall

CHICAGO = ZoneInfo("America/Chicago")
# A Wednesday inside MECC's service hours.
OPEN_AT = datetime(2026, 11, 25, 13, 0, tzinfo=CHICAGO)
CLOSED_AT = datetime(2026, 11, 25, 21, 0, tzinfo=CHICAGO)

ALL_CLEAR = {
    "weapon": False,
    "violence": False,
    "crime_in_progress": False,
    "medical_emergency": False,
    "imminent_risk": False,
    "caller_requests_police": False,
    "caller_accepts_social_worker": True,
}


def cad_record(
    incident_id: str = "MP-26-000101", call_type: str = "Emotionally Disturb Person", **extra: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": "mecc-cad",
        "incident_id": incident_id,
        "call_type": call_type,
        "received_at": "2026-11-25T12:58:00-06:00",
        "priority": "3",
        "location": {"address": "350 S 5th St, Minneapolis, MN"},
        "caller": {"phone": "(612) 555-0142"},
    }
    record.update(extra)
    return record


def new_call(
    actor: Any, incident_id: str = "MP-26-000101", call_type: str = "Emotionally Disturb Person"
) -> Any:
    return services.intake_call(actor, CadCall.model_validate(cad_record(incident_id, call_type))).call


def screened(tc: Any, call: Any, answers: dict[str, Any] | None = None, at: datetime = OPEN_AT) -> Any:
    return services.screen_call(tc, call.pk, dict(ALL_CLEAR if answers is None else answers), now=at)


def requested_transfer(tc: Any, sw: Any, incident_id: str = "MP-26-000101", at: datetime = OPEN_AT) -> Any:
    """A call screened while `sw` is available and transferred: the transfer is `requested`."""
    services.set_availability(sw, "available", now=at)
    call = new_call(tc, incident_id)
    screened(tc, call, at=at)
    return services.request_transfer(tc, call.pk, now=at)
