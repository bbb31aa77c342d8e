"""The social worker: the live queue, availability, claim and decline, then the claimed call with its
screening and decision, and the two ways it ends (completed, or escalated back to 911).

A transfer that changed under the user (claimed by someone else, timed out, cancelled) is a 409 with
the reason in plain words; bad input is a 422.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from crisisdesk.calls import queries, services
from crisisdesk.calls.errors import ServiceError
from crisisdesk.calls.protocols import active_protocol
from crisisdesk.casework import queries as case_queries
from crisisdesk.domain.roles import may
from crisisdesk.domain.transfers import InvalidTransition, TransferStatus
from crisisdesk.web import forms
from crisisdesk.web.views.common import (
    RESPONDER_TEXT,
    STATUS_TEXT,
    base_ctx,
    decision_ctx,
    escalation_rows,
    fallback_rows,
    is_htmx,
    name_of,
    queue_rows,
    role_page,
    screening_answers,
    seconds_between,
    transition_message,
)

# --- the queue --------------------------------------------------------------------------------


def _queue_ctx(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    user = request.user
    can_claim = may(getattr(user, "role", ""), "claim_transfer")
    return {
        "waiting": queue_rows(queries.queue(user), now),
        "mine": queries.my_active_transfers(user) if can_claim else [],
        "can_claim": can_claim,
        "my_status": queries.my_status(user) if can_claim else "",
        "now": now,
    }


@require_GET
@role_page("view_queue")
def queue(request: HttpRequest) -> HttpResponse:
    """The social worker's live queue: transfers waiting (oldest first), my calls, my availability."""
    services.record_presence(request.user)
    services.expire_transfers()
    return render(request, "web/queue.html", base_ctx(request, **_queue_ctx(request)))


@require_GET
@role_page("view_queue")
def queue_live(request: HttpRequest) -> HttpResponse:
    services.record_presence(request.user)  # the open screen keeps "available" meaningful
    services.expire_transfers()
    return render(request, "web/_queue_live.html", _queue_ctx(request))


@require_POST
@role_page("claim_transfer")
def queue_claim(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """Claim a waiting transfer and open its case workspace (the claim opened the case); a lost race
    says who got it (409)."""
    try:
        transfer = services.claim_transfer(request.user, transfer_id)
    except InvalidTransition as exc:
        return _queue_message(request, 409, transition_message(request, exc, transfer_id))
    except ServiceError as exc:
        return _queue_message(request, exc.status, exc.message)
    case = getattr(transfer, "case", None)
    url = (
        reverse("case_workspace", args=[case.pk]) if case else reverse("call_detail", args=[transfer.call_id])
    )
    if is_htmx(request):
        response = HttpResponse("")
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


@require_POST
@role_page("decline_transfer")
def queue_decline(request: HttpRequest, transfer_id: int) -> HttpResponse:
    try:
        transfer = services.decline_transfer(request.user, transfer_id, reason="declined from the queue")
    except InvalidTransition as exc:
        return _queue_message(request, 409, transition_message(request, exc, transfer_id))
    except ServiceError as exc:
        return _queue_message(request, exc.status, exc.message)
    return _queue_message(
        request,
        200,
        f"Declined {transfer.call.incident_id}: the telecommunicator is offered the fallback.",
        "info",
    )


def _queue_message(request: HttpRequest, status: int, message: str, level: str = "error") -> HttpResponse:
    if is_htmx(request):
        return render(request, "web/_message.html", {"message": message, "level": level}, status=status)
    if level == "error":
        messages.error(request, message)
    else:
        messages.info(request, message)
    return redirect("queue")


@require_POST
@role_page("set_availability")
def queue_availability(request: HttpRequest) -> HttpResponse:
    form = forms.AvailabilityForm(request.POST)
    if form.is_valid():
        services.set_availability(request.user, form.cleaned_data["status"])
        status = 200
    else:
        status = 422
    if not is_htmx(request):
        return redirect("queue")
    return render(
        request, "web/_availability.html", {"my_status": queries.my_status(request.user)}, status=status
    )


# --- the claimed call -------------------------------------------------------------------------


def _call_detail_ctx(request: HttpRequest, call: Any) -> dict[str, Any]:
    decision = queries.latest_decision(call)
    transfers = list(call.transfers.all())
    mine = next(
        (t for t in transfers if t.status == TransferStatus.CLAIMED and t.claimed_by_id == request.user.pk),
        None,
    )
    return {
        "call": call,
        "decision": decision_ctx(decision, call),
        "answers": screening_answers(decision),
        "screened_by": name_of(decision.screening.screened_by) if decision else "",
        "transfers": [
            {
                "obj": t,
                "status_text": STATUS_TEXT[TransferStatus(t.status)],
                "claimed_by": name_of(t.claimed_by) if t.claimed_by_id else "",
                "waited": seconds_between(t.claimed_at, t.requested_at),
            }
            for t in transfers
        ],
        "mine": mine,
        "escalations": escalation_rows(queries.escalations_for_call(request.user, call.pk)),
        "fallbacks": fallback_rows(queries.fallbacks_for_call(request.user, call.pk), active_protocol()[1]),
        "escalate_form": forms.EscalateForm(),
        "complete_form": forms.CompleteForm(),
        # The case workspace is where the social worker works the call (people, screening, notes).
        "cases": case_queries.cases_for_call(request.user, call.pk)
        if may(getattr(request.user, "role", ""), "view_cases")
        else [],
    }


@require_GET
@role_page("view_calls")
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    """One call for the social worker: what was reported, the screening, the decision, and the actions."""
    call = queries.get_call(request.user, call_id)
    return render(request, "web/call_detail.html", base_ctx(request, **_call_detail_ctx(request, call)))


def _detail_with_error(
    request: HttpRequest, transfer_id: int, status: int, message: str, **forms_: Any
) -> HttpResponse:
    transfer = queries.get_transfer(request.user, transfer_id)
    call = queries.get_call(request.user, transfer.call_id)
    ctx = base_ctx(request, **_call_detail_ctx(request, call))
    ctx.update(forms_, error=message)
    return render(request, "web/call_detail.html", ctx, status=status)


@require_POST
@role_page("complete_transfer")
def transfer_complete(request: HttpRequest, transfer_id: int) -> HttpResponse:
    form = forms.CompleteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        transfer = services.complete_transfer(request.user, transfer_id, reason=note)
    except InvalidTransition as exc:
        return _detail_with_error(request, transfer_id, 409, transition_message(request, exc, transfer_id))
    except ServiceError as exc:
        return _detail_with_error(request, transfer_id, exc.status, exc.message)
    messages.success(request, f"Call {transfer.call.incident_id} completed. You are available again.")
    return redirect("queue")


@require_POST
@role_page("escalate_transfer")
def transfer_escalate(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """Send the claimed call back to 911 (police / fire / EMS) with the reason, in one step."""
    form = forms.EscalateForm(request.POST)
    if not form.is_valid():
        return _detail_with_error(
            request, transfer_id, 422, "Choose the responder and give the reason.", escalate_form=form
        )
    try:
        escalation = services.escalate_transfer(
            request.user, transfer_id, form.cleaned_data["responder"], form.cleaned_data["reason"]
        )
    except InvalidTransition as exc:
        return _detail_with_error(request, transfer_id, 409, transition_message(request, exc, transfer_id))
    except ServiceError as exc:
        return _detail_with_error(request, transfer_id, exc.status, exc.message, escalate_form=form)
    messages.warning(
        request,
        f"Call {escalation.call.incident_id if escalation.call else ''} escalated back to 911 for "
        f"{RESPONDER_TEXT.get(escalation.responder, escalation.responder)}. "
        "Set yourself Available when you are ready for the next call.",
    )
    return redirect("queue")
