"""The CAD intake record: what `POST /api/v1/calls` accepts, validated field by field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field("", max_length=255)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class Caller(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field("", max_length=32, description="As the CAD sent it (ANI); kept raw")


class CadCall(BaseModel):
    """One incident from the CAD. `(source, incident_id)` identifies it; a repeat is idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    source: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    incident_id: str = Field(min_length=1, max_length=64)
    call_type: str = Field(min_length=1, max_length=128, description="The CAD's call-type name, as sent")
    received_at: datetime = Field(description="ISO 8601 with a UTC offset")
    priority: str = Field("", max_length=16)
    location: Location | None = None
    caller: Caller | None = None
    narrative: str = Field("", max_length=4000)

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-11-25T13:02:11-06:00")
        return value


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as [{"field": "location.latitude", "reason": "..."}]."""
    out = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "(body)"
        reason = err["msg"].removeprefix("Value error, ")
        out.append({"field": field, "reason": reason, "type": err["type"]})
    return out
