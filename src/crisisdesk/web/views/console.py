"""The telecommunicator's console: recent calls, manual intake, screening, the decision with its reasons,
the transfer to the social worker, its live status, and the fallback when the social worker cannot take it.

Polling endpoints (`.../live/`) run `services.expire_transfers()` first, so a timeout shows up without
any background job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from crisisdesk.calls import queries, services
from crisisdesk.calls.errors import ServiceError
from crisisdesk.calls.protocols import active_protocol
from crisisdesk.calls.schemas import CadCall, field_errors
from crisisdesk.casework import queries as case_queries
from crisisdesk.casework import services as case_services
from crisisdesk.domain.protocol import FallbackOption, Protocol
from crisisdesk.domain.reasons import Outcome
from crisisdesk.domain.transfers import ACTIVE, NEEDS_FALLBACK, InvalidTransition, TransferStatus
from crisisdesk.domain.triage import fallback_for_unclaimed_transfer
from crisisdesk.web import forms
from crisisdesk.web.views.common import (
    OUTCOME_TEXT,
    RESPONDER_TEXT,
    STATUS_TEXT,
    base_ctx,
    decision_ctx,
    escalation_rows,
    fallback_rows,
    is_htmx,
    name_of,
    page_error,
    poll,
    role_page,
    seconds_between,
    transition_message,
    wants_partial,
)

CONSOLE_SOURCE = "mecc-console"


def _after_transfer_options(protocol: Protocol) -> list[FallbackOption]:
    """What to offer when a transfer times out or is declined: the social worker could not take it."""
    ids = fallback_for_unclaimed_transfer(protocol)
    return [protocol.option(i) for i in ids]


def _status_ctx(
    request: HttpRequest, transfer: Any, now: datetime, fallbacks: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The live status panel of one transfer, as the telecommunicator sees it."""
    _, protocol, _ = active_protocol()
    status = TransferStatus(transfer.status)
    if fallbacks is None:
        fallbacks = fallback_rows(queries.fallbacks_for_call(request.user, transfer.call_id), protocol)
    taken = [f for f in fallbacks if f["transfer_id"] == transfer.pk]
    ctx: dict[str, Any] = {
        "transfer": transfer,
        "status": status.value,
        "status_text": STATUS_TEXT[status],
        "live": status in ACTIVE,
        "waited": seconds_between(transfer.claimed_at or transfer.ended_at or now, transfer.requested_at),
        "remaining": seconds_between(transfer.deadline, now) if status is TransferStatus.REQUESTED else None,
        "claimed_by": name_of(transfer.claimed_by) if transfer.claimed_by_id else "",
        "ended_by": name_of(transfer.ended_by) if transfer.ended_by_id else "",
        "needs_fallback": status in NEEDS_FALLBACK and not taken,
        "fallback_taken": taken,
        "call": transfer.call,
    }
    if ctx["needs_fallback"]:
        options = _after_transfer_options(protocol)
        ctx["fallback_form"] = forms.FallbackForm(options, initial={"transfer_id": transfer.pk})
        ctx["fallback_options"] = options
    if status is TransferStatus.ESCALATED:
        rows = escalation_rows(queries.escalations_for_call(request.user, transfer.call_id))
        ctx["escalations"] = [e for e in rows if e["transfer_id"] == transfer.pk]
    return ctx


def _panel_ctx(
    request: HttpRequest,
    call: Any,
    *,
    screening_form: forms.ScreeningForm | None = None,
    fallback_form: forms.FallbackForm | None = None,
    message: str = "",
    level: str = "info",
) -> dict[str, Any]:
    """Everything the console's call panel shows for one call."""
    now = timezone.now()
    _, protocol, _ = active_protocol()
    decision = queries.latest_decision(call)
    transfers = queries.visible_transfers(request.user, call)  # prefetched, newest first; own only
    latest = transfers[0] if transfers else None
    fallbacks = fallback_rows(queries.fallbacks_for_call(request.user, call.pk), protocol)
    if screening_form is None:
        initial = forms.ScreeningForm.initial_from(decision.screening.answers if decision else None)
        screening_form = forms.ScreeningForm(protocol.questions, initial=initial)
    ct = protocol.find_call_type(call.call_type_raw)
    # After a timeout or decline the status panel offers "try again" beside the fallback.
    can_transfer = (
        decision is not None
        and decision.outcome == Outcome.TRANSFER
        and (latest is None or latest.status == TransferStatus.CANCELLED)
        and not fallbacks
    )
    show_fallback = decision is not None and decision.outcome == Outcome.FALLBACK and not fallbacks
    if decision is not None and show_fallback and fallback_form is None:
        options = [
            protocol.option(o)
            for o in decision.fallback_options
            if o in {x.id for x in protocol.fallback_options}
        ]
        fallback_form = forms.FallbackForm(options)
    return {
        "call": call,
        "scope": ct.scope.value if ct else "unknown",
        "call_type_note": ct.note if ct else "",
        "screening": screening_form,
        "questions": screening_form.rows(),
        "decision": decision_ctx(decision, call),
        "can_transfer": can_transfer,
        "latest_transfer": latest,
        "status": _status_ctx(request, latest, now, fallbacks) if latest else None,
        "show_fallback": show_fallback,
        "fallback_form": fallback_form if show_fallback else None,
        "fallbacks": fallbacks,
        "message": message,
        "level": level,
    }


def _console_ctx(request: HttpRequest, call: Any | None, **panel: Any) -> dict[str, Any]:
    _, protocol, _ = active_protocol()
    calls = queries.recent_calls(request.user)
    ctx = base_ctx(
        request,
        calls=_call_rows(request, calls, call.pk if call else None),
        call_types=[ct.name for ct in protocol.call_types if ct.scope.value == "in_scope"]
        + [ct.name for ct in protocol.call_types if ct.scope.value != "in_scope"],
        intake_form=panel.pop("intake_form", None) or forms.ManualCallForm(),
        alerts=queries.open_alerts(request.user),
        **escalation_strip_ctx(request),
    )
    if call is not None:
        ctx["panel"] = _panel_ctx(request, call, **panel)
    return ctx


def _call_rows(request: HttpRequest, calls: list[Any], current: int | None) -> list[dict[str, Any]]:
    rows = []
    for call in calls:
        decision = queries.latest_decision(call)
        transfers = queries.visible_transfers(request.user, call)
        rows.append(
            {
                "call": call,
                "current": call.pk == current,
                "outcome": decision.outcome if decision else "",
                "outcome_label": decision.outcome.replace("_", " ") if decision else "",
                "tone": OUTCOME_TEXT[Outcome(decision.outcome)][1] if decision else "new",
                "transfer": transfers[0].status if transfers else "",
                "transfer_label": transfers[0].status.replace("_", " ") if transfers else "",
            }
        )
    return rows


def _render_panel(request: HttpRequest, call_id: int, status: int = 200, **panel: Any) -> HttpResponse:
    call = queries.get_call(request.user, call_id)
    if wants_partial(request):
        response = render(
            request, "web/_call_panel.html", {"panel": _panel_ctx(request, call, **panel)}, status=status
        )
    else:
        response = render(request, "web/console.html", _console_ctx(request, call, **panel), status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _with_alerts(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Refresh the alert strip in the same response (htmx out-of-band) once an alert is dealt with."""
    if wants_partial(request) and response.status_code == 200:
        alerts = render_to_string(
            "web/_alerts.html", {"alerts": queries.open_alerts(request.user)}, request=request
        )
        response.content += f'<div id="alerts" hx-swap-oob="innerHTML">{alerts}</div>'.encode()
    return response


@require_GET
@role_page("screen_call")
def console(request: HttpRequest, call_id: int | None = None) -> HttpResponse:
    """The telecommunicator's console: recent calls on the left, the selected call on the right."""
    if call_id is not None:
        return _render_panel(request, call_id)
    response = render(request, "web/console.html", _console_ctx(request, None))
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@role_page("screen_call")
def console_calls_live(request: HttpRequest) -> HttpResponse:
    """The recent-calls list, polled: a new CAD call appears without a reload."""
    services.expire_transfers()
    current = request.GET.get("current", "")
    rows = _call_rows(
        request, queries.recent_calls(request.user), int(current) if current.isdigit() else None
    )
    return poll(request, "web/_call_list.html", {"calls": rows})


@require_GET
@role_page("screen_call")
def console_alerts_live(request: HttpRequest) -> HttpResponse:
    """Timed-out and declined transfers of this telecommunicator that still need the fallback."""
    services.expire_transfers()
    return poll(request, "web/_alerts.html", {"alerts": queries.open_alerts(request.user)})


@require_POST
@role_page("screen_call")
def console_intake(request: HttpRequest) -> HttpResponse:
    """A call entered by hand: created through the same intake as CAD calls (origin console)."""
    form = forms.ManualCallForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        data = form.cleaned_data
        record: dict[str, Any] = {
            "source": CONSOLE_SOURCE,
            "incident_id": data["incident_id"],
            "call_type": data["call_type"],
            "received_at": timezone.now(),
        }
        if data["address"]:
            record["location"] = {"address": data["address"]}
        if data["caller_phone"]:
            record["caller"] = {"phone": data["caller_phone"]}
        try:
            result = services.intake_call(request.user, CadCall.model_validate(record), origin="console")
        except ValidationError as exc:
            errors = [f"{e['field']}: {e['reason']}" for e in field_errors(exc)]
        except ServiceError as exc:
            errors = [exc.message]
        else:
            message = ""
            if not result.created:
                message = f"Incident {result.call.incident_id} was already entered: it is opened below."
                if result.conflict is not None:
                    message += " The details you typed differ and were kept for review."
            if not is_htmx(request):
                return redirect("console_call", call_id=result.call.pk)
            response = _render_panel(request, result.call.pk, message=message)
            # A fresh, empty intake form replaces the one just used (htmx out-of-band swap).
            response.content += render_to_string(
                "web/_intake_form.html", {"form": forms.ManualCallForm(), "oob": True}, request=request
            ).encode()
            response["HX-Push-Url"] = reverse("console_call", args=[result.call.pk])
            return response
    ctx = _console_ctx(request, None)
    ctx.update(intake_form=form, intake_errors=errors)
    if is_htmx(request):
        response = render(request, "web/_intake_form.html", ctx, status=422)
        response["HX-Retarget"] = "#intake"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "web/console.html", ctx, status=422)


@require_POST
@role_page("screen_call")
def console_screen(request: HttpRequest, call_id: int) -> HttpResponse:
    _, protocol, _ = active_protocol()
    form = forms.ScreeningForm(protocol.questions, request.POST)
    if not form.is_valid():
        return _render_panel(
            request, call_id, 422, screening_form=form, message="Check the answers.", level="error"
        )
    try:
        services.screen_call(request.user, call_id, form.answers())
    except ServiceError as exc:
        return _render_panel(
            request, call_id, exc.status, screening_form=form, message=exc.message, level="error"
        )
    return _render_panel(request, call_id)


@require_POST
@role_page("request_transfer")
def console_transfer(request: HttpRequest, call_id: int) -> HttpResponse:
    """One button: hand the call to the social worker (only when the decision is `transfer`)."""
    try:
        # A new try after a timeout or decline closes the old alert: the telecommunicator has seen it.
        for alert in queries.open_alerts(request.user):
            if alert.call_id == call_id:
                services.acknowledge_alert(request.user, alert.pk)
        services.request_transfer(request.user, call_id)
    except ServiceError as exc:
        return _render_panel(request, call_id, exc.status, message=exc.message, level="error")
    return _with_alerts(request, _render_panel(request, call_id))


@require_POST
@role_page("cancel_transfer")
def console_cancel(request: HttpRequest, transfer_id: int) -> HttpResponse:
    transfer = queries.get_transfer(request.user, transfer_id)
    try:
        services.cancel_transfer(request.user, transfer_id, reason="cancelled from the console")
    except InvalidTransition as exc:
        return _render_panel(
            request,
            transfer.call_id,
            409,
            message=transition_message(request, exc, transfer_id),
            level="error",
        )
    except ServiceError as exc:
        return _render_panel(request, transfer.call_id, exc.status, message=exc.message, level="error")
    return _render_panel(request, transfer.call_id, message="Transfer cancelled.")


@require_POST
@role_page("take_fallback")
def console_fallback(request: HttpRequest, call_id: int) -> HttpResponse:
    """Record the fallback taken (mobile crisis team, 988, callback ...); callbacks need a number."""
    _, protocol, _ = active_protocol()
    form = forms.FallbackForm(protocol.fallback_options, request.POST)
    if not form.is_valid():
        problems = " ".join(str(e) for errs in form.errors.values() for e in errs)
        return _render_panel(
            request, call_id, 422, message=f"The fallback was not recorded. {problems}", level="error"
        )
    data = form.cleaned_data
    # The number field is prefilled with the caller's phone; it is only a callback number for a callback.
    number = (data.get("callback_number") or "") if data["option"].startswith("callback") else ""
    try:
        services.take_fallback(
            request.user,
            call_id,
            data["option"],
            callback_number=number,
            note=data.get("note") or "",
            transfer_id=data.get("transfer_id"),
        )
    except ServiceError as exc:
        return _render_panel(request, call_id, exc.status, message=exc.message, level="error")
    label = protocol.option(data["option"]).label
    return _with_alerts(request, _render_panel(request, call_id, message=f"Fallback recorded: {label}."))


@require_GET
@role_page("screen_call")
def transfer_status_live(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """The status panel, polled every second while the transfer is live; it stops polling once it ends."""
    services.expire_transfers()
    transfer = queries.get_transfer(request.user, transfer_id)
    return render(request, "web/_transfer_status.html", {"s": _status_ctx(request, transfer, timezone.now())})


# --- escalations back to 911 from the social worker ----------------------------------------------


def escalation_strip_ctx(request: HttpRequest) -> dict[str, Any]:
    """Escalations no telecommunicator has acknowledged yet, oldest first, as every console shows them.

    No running seconds here: the strip is `role="alert"` and polled with 204-when-unchanged, so it
    changes (and is announced) when an escalation arrives or is acknowledged, and at most once a
    minute for its age.
    """
    now = timezone.now()
    rows = []
    for e in case_queries.unacknowledged_escalations(request.user):
        waited = seconds_between(now, e.escalated_at) or 0
        rows.append(
            {
                "obj": e,
                "responder": RESPONDER_TEXT.get(e.responder, e.responder),
                "call": e.call,
                "by": name_of(e.escalated_by),
                "ago": "just now" if waited < 60 else f"{waited // 60} min ago",
            }
        )
    return {"escalations": rows}


@require_GET
@role_page("acknowledge_escalation")
def console_escalations_live(request: HttpRequest) -> HttpResponse:
    """The escalation strip, polled every 2 s on every console."""
    return poll(request, "web/_case_escalation_strip.html", escalation_strip_ctx(request))


@require_POST
@role_page("acknowledge_escalation")
def console_acknowledge_escalation(request: HttpRequest, escalation_id: int) -> HttpResponse:
    """ "Acknowledge": this telecommunicator has the request for police / fire / EMS. It leaves every
    console; the first acknowledgement counts (the time to it is recorded by the service)."""
    try:
        escalation = case_services.acknowledge_escalation(request.user, escalation_id)
    except ServiceError as exc:
        return page_error(request, exc.status, "Not acknowledged", exc.message)
    if not is_htmx(request):
        return (
            redirect("console_call", call_id=escalation.call_id)
            if escalation.call_id
            else redirect("console")
        )
    ctx = escalation_strip_ctx(request)
    ctx["acknowledged"] = escalation
    return poll(request, "web/_case_escalation_strip.html", ctx)
