"""The CAD intake record: what `POST /api/v1/calls` accepts, validated field by field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


def storable_text(value: Any) -> Any:
    """Refuse text no database can store: PostgreSQL rejects NUL characters, and a lone surrogate
    (legal in JSON as an escape, not in UTF-8) cannot be encoded. Without this check such input
    would fail at the INSERT with a 500 instead of a field-level 422."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL (\\u0000) characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text (no unpaired surrogates)") from None
    return value


class _Record(BaseModel):
    """Base of the intake models: unknown fields are refused and every string must be storable."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable_text(value)


class Location(_Record):
    address: str = Field("", max_length=255)
    neighbourhood: str = Field(
        "", max_length=64, description="The CAD's neighbourhood (or beat) name, if any"
    )
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class Caller(_Record):
    phone: str = Field("", max_length=32, description="As the CAD sent it (ANI); kept raw")


class CadCall(_Record):
    """One incident from the CAD. `(source, incident_id)` identifies it; a repeat is idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    source: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    incident_id: str = Field(min_length=1, max_length=128)
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
        try:
            value.astimezone(UTC)  # stored in UTC: 9999-12-31T23:00-06:00 has no UTC form
        except OverflowError:
            raise ValueError("is out of range once converted to UTC") from None
        return value


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as [{"field": "location.latitude", "reason": "..."}]."""
    out = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "(body)"
        reason = err["msg"].removeprefix("Value error, ")
        out.append({"field": field, "reason": reason, "type": err["type"]})
    return out
