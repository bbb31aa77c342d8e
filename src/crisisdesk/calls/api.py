"""The calls API (Django Ninja), mounted at /api/v1/: CAD intake, screening, transfers, fallbacks.

Endpoints are thin: they validate the request, call `calls.services` (writes) or `calls.queries`
(reads) with the authenticated account as the actor, and shape the answer with `api_schemas`.
Expected failures are exceptions mapped to status codes by `register_exception_handlers`:
ServiceError subclasses carry their own status (404, 403, 409, 422, 503) and an invalid transfer
transition is a 409. Documented for integrators in docs/api.md.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Router, Status

from crisisdesk.calls import eido, queries, services
from crisisdesk.calls.api_schemas import (
    AvailabilityIn,
    AvailabilityOut,
    CallOut,
    DecisionOut,
    ErrorOut,
    EscalationIn,
    EscalationOut,
    FallbackIn,
    FallbackOut,
    Id,
    IntakeConflictOut,
    IntakeOut,
    InvalidTransitionOut,
    NotAllowedOut,
    ProtocolOut,
    ReasonIn,
    RejectedOut,
    ScreeningIn,
    TransferOut,
    ValidationErrorOut,
)
from crisisdesk.calls.eido_example import EXAMPLE_EIDO
from crisisdesk.calls.errors import ServiceError
from crisisdesk.calls.models import Transfer
from crisisdesk.calls.protocols import active_protocol, parsed
from crisisdesk.calls.schemas import CadCall
from crisisdesk.domain.permissions import withheld_transfer_fields
from crisisdesk.domain.transfers import NEEDS_FALLBACK, InvalidTransition
from crisisdesk.domain.triage import fallback_for_unclaimed_transfer

router = Router(tags=["calls"])

# Failures every authenticated endpoint may answer with; each endpoint adds its own.
COMMON: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
TRANSITION: dict[int, Any] = {**COMMON, 409: InvalidTransitionOut}


def _actor(request: HttpRequest) -> Any:
    """The authenticated account (token or session); services check its role."""
    return request.auth  # type: ignore[attr-defined]


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its `$defs` inlined, so it can sit inside an OpenAPI operation
    (a "#/$defs/..." reference would resolve against the root of the OpenAPI document)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


CAD_CALL_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _inline_refs(CadCall.model_json_schema()),
                "example": {
                    "source": "mecc-cad",
                    "incident_id": "MP-26-000101",
                    "call_type": "Emotionally Disturb Person",
                    "received_at": "2026-11-25T12:58:00-06:00",
                    "priority": "3",
                    "location": {"address": "350 S 5th St, Minneapolis, MN", "latitude": 44.9773},
                    "caller": {"phone": "(612) 555-0142"},
                    "narrative": "Caller's brother is talking about not wanting to live; no weapons.",
                },
            }
        },
    }
}


def _transfer_out(transfer: Transfer, actor: Any = None) -> TransferOut:
    """A transfer as the API shows it. After a timeout or a decline the telecommunicator is offered
    the fallback options the decision's protocol lists for an unavailable social worker.

    Field-level rule (domain.permissions.withheld_transfer_fields): fields that may carry the social
    worker's words about the person are blanked for roles outside the program team.
    """
    options: tuple[str, ...] = ()
    if transfer.status in NEEDS_FALLBACK:
        protocol, _ = parsed(transfer.decision.protocol)
        options = fallback_for_unclaimed_transfer(protocol)
    out = TransferOut.of(transfer, options)
    for name in withheld_transfer_fields(getattr(actor, "role", ""), transfer.status):
        setattr(out, name, "")
    return out


# --- intake -----------------------------------------------------------------------------------

INTAKE_RESPONSES: dict[int, Any] = {
    201: IntakeOut,
    200: IntakeOut,
    409: IntakeConflictOut,
    422: RejectedOut,
    401: ErrorOut,
    403: ErrorOut,
    503: ErrorOut,
}


def _intake_answer(result: services.IntakeResult) -> Status[Any]:
    """201 new, 200 identical repeat, 409 conflicting repeat (kept): the same for every intake format."""
    if result.conflict is not None:
        return Status(
            409,
            IntakeConflictOut(
                detail="this incident was received before with a different payload; the new one is "
                "kept for review and the call is unchanged",
                call_id=result.call.pk,
                conflict_id=result.conflict.pk,
            ),
        )
    return Status(201 if result.created else 200, IntakeOut.of(result.call, duplicate=not result.created))


@router.post(
    "/calls",
    response=INTAKE_RESPONSES,
    openapi_extra=CAD_CALL_BODY,
    summary="Take in a call from the CAD (idempotent on source + incident_id)",
)
def intake_call(request: HttpRequest) -> Status[Any]:
    """201: a new call. 200 with `duplicate: true`: an identical repeat, nothing changed. 409: a
    repeat with a different payload, kept as an IntakeConflict for a person to review (the call is
    left as it was). 422: malformed, kept as a RejectedRecord (`rejected_id`) with every reason.

    The body is read raw (not parsed by the framework) so that a malformed record is kept verbatim.
    """
    return _intake_answer(services.intake_json(_actor(request), request.body))


EIDO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "title": "EmergencyIncidentDataObjectType",
                    "description": "A NENA EIDO (NENA-STA-021.1, JSON, version 1.0). Only the parts the "
                    "adapter maps are checked; the mapping is in docs/api.md.",
                    "required": ["$id", "eidoVersion", "issuingElementIdentification"],
                    "additionalProperties": True,
                },
                "example": EXAMPLE_EIDO,
            }
        },
    }
}


@router.post(
    "/eido",
    response=INTAKE_RESPONSES,
    openapi_extra=EIDO_BODY,
    summary="Take in an incident as a NENA EIDO (idempotent on the issuing element + $id)",
)
def intake_eido(request: HttpRequest) -> Status[Any]:
    """The same answers as `POST /calls`, for an incident in the NENA EIDO JSON format: 201 new,
    200 `duplicate: true` for an identical repeat, 409 when the same `$id` comes with different
    mapped values (kept as an IntakeConflict), 422 with EIDO paths (kept as a RejectedRecord)."""
    return _intake_answer(eido.intake_eido(_actor(request), request.body))


@router.get(
    "/calls/{call_id}", response={200: CallOut, **COMMON}, summary="A call with its decisions and transfers"
)
def get_call(request: HttpRequest, call_id: Id) -> CallOut:
    actor = _actor(request)
    call = queries.get_call(actor, call_id)
    return CallOut.of(call, [_transfer_out(t, actor) for t in queries.visible_transfers(actor, call)])


# --- screening and decision -------------------------------------------------------------------


@router.post(
    "/calls/{call_id}/screening",
    response={201: DecisionOut, **COMMON, 503: ErrorOut},
    summary="Record the screening answers; the active protocol decides",
)
def screen_call(request: HttpRequest, call_id: Id, payload: ScreeningIn) -> Status[DecisionOut]:
    """The decision has the outcome (transfer, dispatch, fallback, not_eligible), its reason codes,
    the protocol version that made it, the fallback options and, when the desk is closed, the next
    opening. Decided on the server's clock."""
    decision = services.screen_call(_actor(request), call_id, payload.answers)
    return Status(201, DecisionOut.of(decision))


# --- transfers --------------------------------------------------------------------------------


@router.post(
    "/calls/{call_id}/transfers",
    response={201: TransferOut, 200: TransferOut, **COMMON, 409: NotAllowedOut, 503: ErrorOut},
    summary="Hand the call to the social worker (only when the decision is transfer)",
)
def request_transfer(request: HttpRequest, call_id: Id) -> Status[TransferOut]:
    """201: a new transfer. 200: the call already has a live transfer (requested or claimed), which
    is returned instead of a second one. 409: the latest decision is not `transfer`; the answer
    carries the outcome, reasons and fallback options."""
    now = timezone.now()
    transfer = services.request_transfer(_actor(request), call_id, now=now)
    # A new transfer is stamped with the instant passed in; an existing one was requested earlier.
    created = transfer.requested_at == now
    return Status(201 if created else 200, _transfer_out(transfer, _actor(request)))


@router.get(
    "/transfers",
    response={200: list[TransferOut], **COMMON},
    summary="The queue: transfers waiting for a social worker, oldest first",
)
def transfer_queue(request: HttpRequest) -> list[TransferOut]:
    """A social worker polling this is at their queue: it counts as their check-in (presence)."""
    services.record_presence(_actor(request))
    services.expire_transfers()  # a poll sees timeouts even when no sweeper runs
    actor = _actor(request)
    return [_transfer_out(t, actor) for t in queries.queue(actor)]


@router.get("/transfers/{transfer_id}", response={200: TransferOut, **COMMON}, summary="One transfer")
def get_transfer(request: HttpRequest, transfer_id: Id) -> TransferOut:
    """Poll this after requesting a transfer: `alert` turns true when it timed out or was declined,
    with the fallback options to offer."""
    services.expire_transfers()
    actor = _actor(request)
    return _transfer_out(queries.get_transfer(actor, transfer_id), actor)


@router.post("/transfers/{transfer_id}/claim", response={200: TransferOut, **TRANSITION}, summary="Claim")
def claim_transfer(request: HttpRequest, transfer_id: Id) -> TransferOut:
    """Exactly one of simultaneous claims wins; the others get 409 with the current status. A claim
    after the deadline gets 409 and the transfer is timed out."""
    return _transfer_out(services.claim_transfer(_actor(request), transfer_id), _actor(request))


@router.post("/transfers/{transfer_id}/decline", response={200: TransferOut, **TRANSITION}, summary="Decline")
def decline_transfer(request: HttpRequest, transfer_id: Id, payload: ReasonIn | None = None) -> TransferOut:
    """The social worker cannot take it: the telecommunicator is alerted and offered the fallback."""
    reason = payload.reason if payload else ""
    return _transfer_out(services.decline_transfer(_actor(request), transfer_id, reason), _actor(request))


@router.post("/transfers/{transfer_id}/cancel", response={200: TransferOut, **TRANSITION}, summary="Cancel")
def cancel_transfer(request: HttpRequest, transfer_id: Id, payload: ReasonIn | None = None) -> TransferOut:
    """The telecommunicator withdraws a requested transfer (e.g. the caller hung up)."""
    reason = payload.reason if payload else ""
    return _transfer_out(services.cancel_transfer(_actor(request), transfer_id, reason), _actor(request))


@router.post(
    "/transfers/{transfer_id}/complete", response={200: TransferOut, **TRANSITION}, summary="Complete"
)
def complete_transfer(request: HttpRequest, transfer_id: Id, payload: ReasonIn | None = None) -> TransferOut:
    """The social worker who claimed the call finished it and is available again."""
    reason = payload.reason if payload else ""
    return _transfer_out(services.complete_transfer(_actor(request), transfer_id, reason), _actor(request))


@router.post(
    "/transfers/{transfer_id}/acknowledge-alert",
    response={200: TransferOut, **COMMON, 409: ErrorOut},
    summary="The telecommunicator saw the timeout / decline alert",
)
def acknowledge_alert(request: HttpRequest, transfer_id: Id) -> TransferOut:
    return _transfer_out(services.acknowledge_alert(_actor(request), transfer_id), _actor(request))


@router.post(
    "/transfers/{transfer_id}/escalation",
    response={201: EscalationOut, **TRANSITION},
    summary="Send a claimed call back to 911 (police, fire or EMS)",
)
def escalate_transfer(request: HttpRequest, transfer_id: Id, payload: EscalationIn) -> Status[EscalationOut]:
    escalation = services.escalate_transfer(_actor(request), transfer_id, payload.responder, payload.reason)
    return Status(201, EscalationOut.of(escalation))


@router.post(
    "/calls/{call_id}/fallback",
    response={201: FallbackOut, **COMMON, 503: ErrorOut},
    summary="Record the fallback the telecommunicator used",
)
def take_fallback(request: HttpRequest, call_id: Id, payload: FallbackIn) -> Status[FallbackOut]:
    route = services.take_fallback(
        _actor(request),
        call_id,
        payload.option,
        callback_number=payload.callback_number,
        note=payload.note,
        transfer_id=payload.transfer_id,
    )
    return Status(201, FallbackOut.of(route))


# --- availability and protocol ----------------------------------------------------------------


@router.put(
    "/social-workers/me/availability",
    response={200: AvailabilityOut, **COMMON},
    summary="The social worker's own status: available, busy or away",
)
def set_availability(request: HttpRequest, payload: AvailabilityIn) -> AvailabilityOut:
    """Live decisions read it: with nobody available an eligible call gets the fallback."""
    return AvailabilityOut.of(services.set_availability(_actor(request), payload.status))


@router.get(
    "/protocol", response={200: ProtocolOut, 401: ErrorOut, 503: ErrorOut}, summary="The active protocol"
)
def get_protocol(request: HttpRequest) -> ProtocolOut:
    row, protocol, _ = active_protocol()
    return ProtocolOut.of(row.published_at, protocol)


# --- errors -----------------------------------------------------------------------------------


def register_exception_handlers(api: NinjaAPI) -> None:
    """Map the calls services' expected failures to JSON answers: {"code", "detail", ...details}.

    A 422 carries its field-level errors as the `detail` list, like the framework's own validation
    errors, so a client reads every 422 the same way.
    """

    def service_error(request: HttpRequest, exc: Any) -> HttpResponse:
        assert isinstance(exc, ServiceError)
        details = dict(exc.details)
        errors = details.pop("errors", None)
        body = {"code": exc.code, "detail": errors if errors is not None else exc.message, **details}
        return api.create_response(request, body, status=exc.status)

    def invalid_transition(request: HttpRequest, exc: Any) -> HttpResponse:
        assert isinstance(exc, InvalidTransition)
        body = {
            "code": "invalid_transition",
            "detail": str(exc),
            "status": exc.status.value,
            "action": exc.action.value,
        }
        return api.create_response(request, body, status=409)

    api.add_exception_handler(ServiceError, service_error)
    api.add_exception_handler(InvalidTransition, invalid_transition)
