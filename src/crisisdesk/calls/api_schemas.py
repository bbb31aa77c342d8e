"""Wire shapes of the calls API: request bodies (validated by Ninja: 422 with the field) and responses.

The CAD intake record itself is `calls.schemas.CadCall`: the intake endpoint reads the raw body so
that a malformed record can be kept, and only documents CadCall in the OpenAPI schema.

Responses are built from model rows by the `of()` constructors here, so the endpoints stay thin and
the shape of a transfer is the same wherever it appears (queue, call detail, claim response).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

from crisisdesk.calls.models import Call, Decision, Escalation, FallbackRoute, SocialWorkerStatus, Transfer
from crisisdesk.calls.schemas import storable_text
from crisisdesk.domain.protocol import Protocol
from crisisdesk.domain.transfers import NEEDS_FALLBACK

# Primary keys are 64-bit: a larger id in a path or body is a 422, not a database overflow (500).
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


# Free text headed for a column: bounded (PostgreSQL enforces lengths) and storable (no NUL).
Reason = Annotated[str, Field(max_length=255), AfterValidator(storable_text)]
Text = Annotated[str, Field(max_length=4000), AfterValidator(storable_text)]
OptionId = Annotated[str, Field(max_length=64), AfterValidator(storable_text)]
Phone = Annotated[str, Field(max_length=32), AfterValidator(storable_text)]


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------


class ScreeningIn(_In):
    answers: dict[str, bool | None] = Field(
        description="Question id -> true / false / null (not answered). Ids are the active protocol's "
        "(GET /protocol); an unanswered question never yields a transfer.",
        examples=[
            {
                "weapon": False,
                "violence": False,
                "crime_in_progress": False,
                "medical_emergency": False,
                "imminent_risk": False,
                "caller_requests_police": False,
                "caller_accepts_social_worker": True,
            }
        ],
    )


class ReasonIn(_In):
    reason: Reason = Field("", description="Kept on the transfer (at most 255 characters)")


class EscalationIn(_In):
    responder: Literal["police", "fire", "ems"]
    reason: Text = Field(min_length=1, description="Why the call goes back to 911")


class FallbackIn(_In):
    option: OptionId = Field(description="A fallback option id of the active protocol (GET /protocol)")
    callback_number: Phone = Field("", description="Required for the callback options")
    note: Text = ""
    transfer_id: Id | None = Field(None, description="The timed-out or declined transfer this follows")


class AvailabilityIn(_In):
    status: Literal["available", "busy", "away"]


# --- responses --------------------------------------------------------------------------------


class FieldError(Schema):
    field: str = Field(
        description='Dotted path of the field, e.g. "location.latitude"; "(body)" for the whole body'
    )
    reason: str
    type: str = Field(description="Machine-readable error type, e.g. missing, extra_forbidden, json_invalid")


class ErrorOut(Schema):
    """Every error: a stable `code`, a human `detail` and, per code, the details listed in docs/api.md."""

    model_config = ConfigDict(extra="allow")
    code: str
    detail: str


class ValidationErrorOut(Schema):
    code: Literal["invalid"] = "invalid"
    detail: list[FieldError]


class RejectedOut(ValidationErrorOut):
    rejected_id: int = Field(description="The RejectedRecord row that keeps the body and these errors")


class IntakeConflictOut(Schema):
    code: Literal["intake_conflict"] = "intake_conflict"
    detail: str
    call_id: int
    conflict_id: int = Field(description="The IntakeConflict row that keeps the differing payload")


class InvalidTransitionOut(Schema):
    code: Literal["invalid_transition"] = "invalid_transition"
    detail: str
    status: str = Field(description="The transfer's current status")
    action: str


class NotAllowedOut(Schema):
    code: Literal["decision_does_not_allow_transfer"] = "decision_does_not_allow_transfer"
    detail: str
    outcome: str | None = None
    reasons: list[str] = []
    fallback_options: list[str] = []


class IntakeOut(Schema):
    id: int
    source: str
    incident_id: str
    call_type: str = Field(description="The protocol's call-type name; empty when the CAD's name is unknown")
    call_type_raw: str
    call_type_needs_review: bool
    scope: str
    duplicate: bool = Field(description="True when this was an identical repeat of a known incident")

    @classmethod
    def of(cls, call: Call, duplicate: bool) -> IntakeOut:
        return cls(
            id=call.pk,
            source=call.source,
            incident_id=call.incident_id,
            call_type=call.call_type,
            call_type_raw=call.call_type_raw,
            call_type_needs_review=call.call_type_needs_review,
            scope=call.scope,
            duplicate=duplicate,
        )


class DecisionOut(Schema):
    id: int
    call_id: int
    outcome: str = Field(description="transfer, dispatch, fallback or not_eligible")
    reasons: list[str] = Field(description="Reason codes, in the order they are shown")
    protocol_version: str
    fallback_options: list[str] = Field(description="Fallback option ids (labels: GET /protocol)")
    next_opening: datetime | None = Field(description="When the desk opens next, if it is closed")
    social_worker_available: bool
    decided_at: datetime

    @classmethod
    def of(cls, d: Decision) -> DecisionOut:
        return cls(
            id=d.pk,
            call_id=d.call_id,
            outcome=d.outcome,
            reasons=d.reason_codes,
            protocol_version=d.protocol.version,
            fallback_options=list(d.fallback_options),
            next_opening=d.next_opening,
            social_worker_available=d.social_worker_available,
            decided_at=d.decided_at,
        )


class CallSummary(Schema):
    id: int
    source: str
    incident_id: str
    call_type: str
    call_type_raw: str
    priority: str
    address: str
    received_at: datetime


class TransferOut(Schema):
    id: int
    call: CallSummary
    decision_id: int
    status: str = Field(
        description="requested, claimed, timed_out, declined, cancelled, escalated, completed"
    )
    requested_at: datetime
    requested_by_id: int
    deadline: datetime = Field(description="Unclaimed at this instant, the transfer times out")
    claimed_by_id: int | None
    claimed_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    alert: bool = Field(
        description="Timed out or declined and not yet acknowledged: the telecommunicator must take a fallback"
    )
    alert_acknowledged_at: datetime | None
    fallback_options: list[str] = Field(description="Offered after a timeout or decline; empty otherwise")

    @classmethod
    def of(cls, t: Transfer, fallback_options: Sequence[str] = ()) -> TransferOut:
        c = t.call
        needs_fallback = t.status in NEEDS_FALLBACK
        return cls(
            id=t.pk,
            call=CallSummary(
                id=c.pk,
                source=c.source,
                incident_id=c.incident_id,
                call_type=c.call_type,
                call_type_raw=c.call_type_raw,
                priority=c.priority,
                address=c.address,
                received_at=c.received_at,
            ),
            decision_id=t.decision_id,
            status=t.status,
            requested_at=t.requested_at,
            requested_by_id=t.requested_by_id,
            deadline=t.deadline,
            claimed_by_id=t.claimed_by_id,
            claimed_at=t.claimed_at,
            ended_at=t.ended_at,
            end_reason=t.end_reason,
            alert=needs_fallback and t.alert_acknowledged_at is None,
            alert_acknowledged_at=t.alert_acknowledged_at,
            fallback_options=list(fallback_options) if needs_fallback else [],
        )


class CallOut(Schema):
    id: int
    source: str
    incident_id: str
    origin: str
    call_type: str
    call_type_raw: str
    apco_code: str
    scope: str
    call_type_needs_review: bool
    priority: str
    received_at: datetime
    address: str
    latitude: float | None
    longitude: float | None
    caller_phone: str
    narrative: str
    created_at: datetime
    decisions: list[DecisionOut] = Field(description="Newest first; the first is the one that counts")
    transfers: list[TransferOut] = Field(description="Newest first")

    @classmethod
    def of(cls, call: Call, transfers: list[TransferOut]) -> CallOut:
        return cls(
            id=call.pk,
            source=call.source,
            incident_id=call.incident_id,
            origin=call.origin,
            call_type=call.call_type,
            call_type_raw=call.call_type_raw,
            apco_code=call.apco_code,
            scope=call.scope,
            call_type_needs_review=call.call_type_needs_review,
            priority=call.priority,
            received_at=call.received_at,
            address=call.address,
            latitude=call.latitude,
            longitude=call.longitude,
            caller_phone=call.caller_phone,
            narrative=call.narrative,
            created_at=call.created_at,
            decisions=[DecisionOut.of(d) for d in call.decisions.all()],
            transfers=transfers,
        )


class EscalationOut(Schema):
    id: int
    transfer_id: int | None
    case_id: int | None
    responder: str
    reason: str
    escalated_at: datetime
    acknowledged_at: datetime | None
    transfer_status: str | None

    @classmethod
    def of(cls, e: Escalation) -> EscalationOut:
        return cls(
            id=e.pk,
            transfer_id=e.transfer_id,
            case_id=e.case_id,
            responder=e.responder,
            reason=e.reason,
            escalated_at=e.escalated_at,
            acknowledged_at=e.acknowledged_at,
            transfer_status=e.transfer.status if e.transfer else None,
        )


class FallbackOut(Schema):
    id: int
    call_id: int
    option: str
    callback_number: str
    note: str
    decision_id: int | None
    transfer_id: int | None
    taken_at: datetime

    @classmethod
    def of(cls, f: FallbackRoute) -> FallbackOut:
        return cls(
            id=f.pk,
            call_id=f.call_id,
            option=f.option,
            callback_number=f.callback_number,
            note=f.note,
            decision_id=f.decision_id,
            transfer_id=f.transfer_id,
            taken_at=f.taken_at,
        )


class AvailabilityOut(Schema):
    status: str
    changed_at: datetime

    @classmethod
    def of(cls, row: SocialWorkerStatus) -> AvailabilityOut:
        return cls(status=row.status, changed_at=row.changed_at)


class QuestionOut(Schema):
    id: str
    text: str
    kind: str = Field(description="exclusion (a yes keeps the call with 911) or consent (a no declines)")
    help: str


class FallbackOptionOut(Schema):
    id: str
    label: str
    instructions: str


class ProtocolOut(Schema):
    center: str
    name: str
    version: str
    published_at: datetime
    transfer_timeout_seconds: int
    questions: list[QuestionOut] = Field(description="Asked in this order")
    fallback_options: list[FallbackOptionOut]
    fallbacks: dict[str, list[str]] = Field(description="Reason code -> the option ids it offers")
    call_types_count: int

    @classmethod
    def of(cls, published_at: datetime, p: Protocol) -> ProtocolOut:
        return cls(
            center=p.center,
            name=p.name,
            version=p.version,
            published_at=published_at,
            transfer_timeout_seconds=p.transfer_timeout_seconds,
            questions=[
                QuestionOut(id=q.id, text=q.text, kind=q.kind.value, help=q.help) for q in p.questions
            ],
            fallback_options=[
                FallbackOptionOut(id=o.id, label=o.label, instructions=o.instructions)
                for o in p.fallback_options
            ],
            fallbacks={r.value: list(opts) for r, opts in p.fallbacks.items()},
            call_types_count=len(p.call_types),
        )
