"""CAD intake: one call per (source, incident id), repeats idempotent, conflicts and rejects kept."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError

from crisisdesk.audit.services import record
from crisisdesk.calls.models import (
    Call,
    IntakeConflict,
    RejectedRecord,
)
from crisisdesk.calls.protocols import active_protocol
from crisisdesk.calls.schemas import CadCall, field_errors
from crisisdesk.calls.services.base import Invalid, _now, _require, _storable
from crisisdesk.domain.people import linkage_key, normalise_phone

# --- intake -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeResult:
    call: Call
    created: bool  # False: an identical repeat, nothing changed
    conflict: IntakeConflict | None = None  # a repeat with a different payload, kept for review


def _canonical(data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    location = data.get("location")
    if isinstance(location, dict) and not location.get("neighbourhood"):
        # Added after calls were stored: an empty one is left out so earlier digests still match.
        location.pop("neighbourhood", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return json.loads(text), hashlib.sha256(text.encode()).hexdigest()


def reject_record(
    actor: Any,
    channel: str,
    body: str,
    errors: list[dict[str, Any]],
    *,
    source: str | None = None,
    incident_id: str | None = None,
) -> RejectedRecord:
    """Keep an input that failed validation, with every reason (nothing is silently dropped).

    `source` / `incident_id` identify it for whoever reviews rejects; when not given they are read
    from the body's keys of the same names (our CAD JSON). Adapters of other formats pass them.
    """
    parsed: Any = None
    with contextlib.suppress(ValueError, RecursionError):
        parsed = json.loads(body)
    keys = parsed if isinstance(parsed, dict) else {}
    source = _storable(str(source if source is not None else keys.get("source") or ""))[:64]
    incident = _storable(str(incident_id if incident_id is not None else keys.get("incident_id") or ""))[:128]
    with transaction.atomic(durable=True):
        row = RejectedRecord.objects.create(
            channel=channel,
            source=source,
            incident_id=incident,
            body=_storable(body),
            errors=errors,
            received_at=timezone.now(),
            received_by=actor if getattr(actor, "pk", None) else None,
        )
        record(
            actor, "call.reject", row, outcome="rejected", details={"errors": [e["field"] for e in errors]}
        )
    return row


def intake_json(actor: Any, body: bytes | str, channel: str = "POST /api/v1/calls") -> IntakeResult:
    """Validate a CAD record given as JSON text and take it in; raise `Invalid` (kept) when malformed."""
    _require(actor, "intake_call")
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        errors = [{"field": "(body)", "reason": f"not valid JSON: {exc}", "type": "json_invalid"}]
        raise Invalid(errors, reject_record(actor, channel, text, errors).pk) from None
    try:
        cad = CadCall.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        raise Invalid(errors, reject_record(actor, channel, text, errors).pk) from None
    return intake_call(actor, cad)


def intake_call(
    actor: Any, cad: CadCall, origin: str = Call.Origin.CAD, now: datetime | None = None
) -> IntakeResult:
    """Take in one call, idempotent on (source, incident id).

    An identical repeat returns the stored call; a repeat with a different payload is stored as an
    `IntakeConflict` and the call is left as it was (a person decides).
    """
    _require(actor, "intake_call")
    payload, digest = _canonical(cad.model_dump(mode="json"))
    now = _now(now)
    _, protocol, _ = active_protocol()
    ct = protocol.find_call_type(cad.call_type)
    # Normalised for counting repeat calls; a number that does not parse is kept raw (never refused).
    phone = normalise_phone(cad.caller.phone if cad.caller else "")
    try:
        with transaction.atomic(durable=True):
            existing = Call.objects.filter(source=cad.source, incident_id=cad.incident_id).first()
            if existing is not None:
                return _repeat(actor, existing, payload, digest, now)
            call = Call.objects.create(
                source=cad.source,
                incident_id=cad.incident_id,
                origin=origin,
                call_type_raw=cad.call_type,
                call_type=ct.name if ct else "",
                apco_code=ct.apco if ct else "",
                scope=ct.scope.value if ct else "",
                call_type_needs_review=ct is None,
                priority=cad.priority,
                received_at=cad.received_at,
                address=cad.location.address if cad.location else "",
                neighbourhood=cad.location.neighbourhood if cad.location else "",
                latitude=cad.location.latitude if cad.location else None,
                longitude=cad.location.longitude if cad.location else None,
                caller_phone=phone.raw,
                caller_phone_e164=phone.e164 or "",
                caller_key=linkage_key(phone.e164 or "", settings.LINKAGE_KEY),
                narrative=cad.narrative,
                payload=payload,
                payload_sha256=digest,
                created_at=now,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            record(actor, "call.intake", call, details={"call_type_known": ct is not None, "origin": origin})
            return IntakeResult(call, created=True)
    except IntegrityError:
        # A concurrent delivery of the same incident won the insert: treat this one as a repeat.
        with transaction.atomic(durable=True):
            existing = Call.objects.get(source=cad.source, incident_id=cad.incident_id)
            return _repeat(actor, existing, payload, digest, now)


def _repeat(actor: Any, call: Call, payload: dict[str, Any], digest: str, now: datetime) -> IntakeResult:
    if call.payload_sha256 == digest:
        record(actor, "call.intake_repeat", call)
        return IntakeResult(call, created=False)
    conflict = IntakeConflict.objects.create(
        call=call,
        payload=payload,
        payload_sha256=digest,
        received_at=now,
        received_by=actor if getattr(actor, "pk", None) else None,
    )
    record(actor, "call.intake_conflict", call, outcome="conflict", details={"conflict_id": conflict.pk})
    return IntakeResult(call, created=False, conflict=conflict)
