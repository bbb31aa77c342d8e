"""The htmx pages: telecommunicator console, social worker queue and call, supervisor floor, evaluator.

Views are thin: they parse input with `web.forms`, write only through `calls.services`, read through
`calls.queries` (and `web.selectors`), and turn expected failures into a visible message with the
status code of DESIGN.md §3.10 (409 for a transfer that changed under the user, 422 for bad input,
403/404 for the wrong role). Polling endpoints live under `.../live/` and run
`services.expire_transfers()` first, so a timeout shows up without any background job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from crisisdesk.calls import queries, services
from crisisdesk.calls.errors import NoActiveProtocol, NotFound, ServiceError
from crisisdesk.calls.protocols import active_protocol, parsed
from crisisdesk.calls.schemas import CadCall, field_errors
from crisisdesk.domain.protocol import FallbackOption, Protocol
from crisisdesk.domain.reasons import Outcome, Reason
from crisisdesk.domain.roles import Role, may
from crisisdesk.domain.transfers import (
    ACTIVE,
    NEEDS_FALLBACK,
    InvalidTransition,
    TransferAction,
    TransferStatus,
)
from crisisdesk.domain.triage import fallback_for_unclaimed_transfer
from crisisdesk.web import forms, selectors

View = TypeVar("View", bound=Callable[..., HttpResponse])
CONSOLE_SOURCE = "mecc-console"
DEMO_SUFFIX = "-demo-always-open"

# --- words shown to people --------------------------------------------------------------------

OUTCOME_TEXT = {
    Outcome.TRANSFER: ("Transfer to the social worker", "ok"),
    Outcome.DISPATCH: ("Keep with police / fire / EMS", "stop"),
    Outcome.FALLBACK: ("Offer the fallback: the social worker cannot take this call now", "warn"),
    Outcome.NOT_ELIGIBLE: ("Not a social worker call: handle as usual", "muted"),
}

REASON_TEXT = {
    Reason.WEAPON: "A weapon is involved or within reach.",
    Reason.VIOLENCE: "Someone is being violent or threatening violence.",
    Reason.CRIME_IN_PROGRESS: "A crime is in progress.",
    Reason.MEDICAL_EMERGENCY: "Someone needs medical attention now.",
    Reason.IMMINENT_RISK: "Someone is at imminent risk of harming themselves or others.",
    Reason.CALLER_REQUESTS_POLICE: "The caller asked for police to respond.",
    Reason.SCREENING_INCOMPLETE: "Not every screening question was answered; an unanswered question never "
    "allows a transfer.",
    Reason.CALL_TYPE_EMERGENCY_ONLY: "This call type is an emergency by nature and always stays with "
    "police, fire or EMS.",
    Reason.CALL_TYPE_NOT_IN_SCOPE: "This call type is outside the social worker program.",
    Reason.CALL_TYPE_UNKNOWN: "This call type is not in the protocol; it is flagged for review.",
    Reason.OUTSIDE_SERVICE_HOURS: "The social worker desk is closed at this hour.",
    Reason.HOLIDAY: "The social worker desk is closed today (holiday or closure).",
    Reason.SOCIAL_WORKER_UNAVAILABLE: "No social worker is available right now.",
    Reason.CALLER_DECLINED: "The caller does not want to talk with the social worker.",
    Reason.ELIGIBLE: "Every safety check passed, the desk is open and a social worker is available.",
}

STATUS_TEXT = {
    TransferStatus.REQUESTED: "Requested: waiting for a social worker",
    TransferStatus.CLAIMED: "Claimed",
    TransferStatus.TIMED_OUT: "Timed out: nobody claimed it in time",
    TransferStatus.DECLINED: "Declined by the social worker",
    TransferStatus.CANCELLED: "Cancelled",
    TransferStatus.ESCALATED: "Escalated back to 911",
    TransferStatus.COMPLETED: "Completed by the social worker",
}

RESPONDER_TEXT = dict(forms.EscalateForm.RESPONDERS)  # police -> Police, ems -> EMS

ROLE_HOME = {
    Role.TELECOMMUNICATOR: "console",
    Role.SOCIAL_WORKER: "queue",
    Role.SUPERVISOR: "floor",
    Role.EVALUATOR: "evaluation",
}

NAV = [  # (url name, label, action that makes it visible, accesskey)
    ("floor", "Floor", "view_floor", "l"),
    ("console", "Console", "screen_call", "c"),
    ("queue", "Queue", "view_queue", "q"),
    ("evaluation", "Today's numbers", "view_aggregates", "v"),
]


# --- plumbing ---------------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _wants_partial(request: HttpRequest) -> bool:
    """An htmx swap (not a history restore, which needs the whole page)."""
    return _is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def _to_login(request: HttpRequest) -> HttpResponse:
    target = request.get_full_path()
    if _is_htmx(request):
        # A poll after the session ended: send the whole window to the login page, not a fragment.
        current = request.headers.get("HX-Current-URL", "")
        target = urlsplit(current).path or reverse("home")
        response = HttpResponse("")
        response["HX-Redirect"] = f"{reverse('login')}?{urlencode({'next': target})}"
        return response
    return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': target})}")


def _base(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """Context every full page needs: navigation for the role and the active protocol for the footer."""
    role = getattr(request.user, "role", "")
    ctx: dict[str, Any] = {
        "role": role,
        "role_label": role.replace("_", " "),
        "nav": [
            {"url": reverse(name), "label": label, "name": name, "key": key}
            for name, label, action, key in NAV
            if may(role, action)
        ],
        "page": getattr(request.resolver_match, "url_name", ""),
    }
    try:
        row, protocol, _ = active_protocol()
        ctx.update(
            protocol_center=row.center,
            protocol_version=row.version,
            demo_protocol=row.version.endswith(DEMO_SUFFIX),
        )
    except NoActiveProtocol:
        ctx.update(protocol_center="", protocol_version="none published", demo_protocol=False)
    ctx.update(extra)
    return ctx


def _page_error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    template = "web/_message.html" if _wants_partial(request) else "web/error.html"
    level = "error"
    return render(request, template, _base(request, title=title, message=message, level=level), status=status)


def role_page(action: str) -> Callable[[View], View]:
    """Login plus the role that may `action` (domain.roles); anyone else gets 403, never the page.

    Expected failures that escape a view become a page (or fragment) with their status code.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return _to_login(request)
            if not may(getattr(request.user, "role", ""), action):
                return _page_error(request, 403, "Not for your role", "This page is not part of your role.")
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                return _page_error(request, 404, "Not found", "There is nothing here you can see.")
            except NoActiveProtocol as exc:
                return _page_error(request, 503, "No protocol", exc.message)

        return cast(View, wrapped)

    return decorate


def _poll(request: HttpRequest, template: str, ctx: dict[str, Any]) -> HttpResponse:
    """Render a polled fragment; answer 204 (htmx: no swap) when it has not changed since the last poll.

    The fragment carries `__POLL_V__` in a hidden input the poller sends back as `v`. Not swapping an
    unchanged fragment keeps keyboard focus where it is and keeps screen readers quiet.
    """
    html = render_to_string(template, ctx, request=request)
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    if request.GET.get("v") == digest:
        return HttpResponse(status=204)
    return HttpResponse(html.replace("__POLL_V__", digest))


def _name(user: Any) -> str:
    return str(user) if user is not None else ""


def _seconds(later: datetime | None, earlier: datetime | None) -> int | None:
    if later is None or earlier is None:
        return None
    return max(0, int((later - earlier).total_seconds()))


def _transition_message(request: HttpRequest, exc: InvalidTransition, transfer_id: int) -> str:
    """Say in plain words why the action could not happen (the transfer changed under the user)."""
    try:
        transfer = queries.get_transfer(request.user, transfer_id)
    except NotFound:
        transfer = None
    if exc.action is TransferAction.CLAIM:
        if exc.status is TransferStatus.CLAIMED and transfer is not None:
            if transfer.claimed_by_id == request.user.pk:
                return "You already claimed this transfer."
            return f"Already claimed by someone else ({_name(transfer.claimed_by)})."
        if exc.status is TransferStatus.TIMED_OUT:
            return "Too late: the transfer timed out and the telecommunicator is taking the fallback."
        if exc.status is TransferStatus.CANCELLED:
            return "The telecommunicator cancelled this transfer."
        if exc.status is TransferStatus.DECLINED:
            return "This transfer was declined."
    return f"The transfer is already {exc.status.value.replace('_', ' ')}: cannot {exc.action.value} it."


# --- login and home ---------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(_base(self.request))
        return ctx


def home(request: HttpRequest) -> HttpResponse:
    """Send each role to its page; administrators to the admin site."""
    if not request.user.is_authenticated:
        return _to_login(request)
    role = getattr(request.user, "role", "")
    if role == Role.ADMINISTRATOR:
        return redirect("admin:index")
    name = ROLE_HOME.get(Role(role)) if role in Role._value2member_map_ else None
    if name is None:
        return _page_error(
            request, 403, "No page for this account", "This account has no pages (it is for systems)."
        )
    return redirect(name)


# --- console: the telecommunicator ------------------------------------------------------------


def _reasons(decision: Any, call: Any, questions: dict[str, str]) -> list[dict[str, str]]:
    out = []
    answers = decision.screening.answers or {}
    for code in decision.reason_codes:
        text = REASON_TEXT.get(Reason(code), code) if code in Reason._value2member_map_ else code
        if code == Reason.SCREENING_INCOMPLETE:
            missing = [questions.get(q, q) for q, a in answers.items() if a is None]
            if missing:
                text += " Unanswered: " + "; ".join(missing)
        elif code in (
            Reason.CALL_TYPE_EMERGENCY_ONLY,
            Reason.CALL_TYPE_NOT_IN_SCOPE,
            Reason.CALL_TYPE_UNKNOWN,
        ):
            text += f" (call type: {call.call_type or call.call_type_raw})"
        elif code in (Reason.OUTSIDE_SERVICE_HOURS, Reason.HOLIDAY) and decision.next_opening:
            opens = timezone.localtime(decision.next_opening)
            text += f" It opens next {opens:%a %b %-d at %H:%M}."
        out.append({"code": code, "text": text})
    return out


def _decision_ctx(decision: Any, call: Any) -> dict[str, Any] | None:
    if decision is None:
        return None
    protocol, _ = parsed(decision.protocol)
    label, tone = OUTCOME_TEXT.get(Outcome(decision.outcome), (decision.outcome, "muted"))
    return {
        "obj": decision,
        "outcome": decision.outcome,
        "label": label,
        "tone": tone,
        "reasons": _reasons(decision, call, {q.id: q.text for q in protocol.questions}),
        "version": decision.protocol.version,
        "decided_by": _name(decision.decided_by),
    }


def _escalation_rows(escalations: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "transfer_id": e.transfer_id,
            "responder": RESPONDER_TEXT.get(e.responder, e.responder),
            "reason": e.reason,
            "at": e.escalated_at,
            "by": _name(e.escalated_by),
        }
        for e in escalations
    ]


def _after_transfer_options(protocol: Protocol) -> list[FallbackOption]:
    """What to offer when a transfer times out or is declined: the social worker could not take it."""
    ids = fallback_for_unclaimed_transfer(protocol)
    return [protocol.option(i) for i in ids]


def _fallback_rows(fallbacks: list[Any], protocol: Protocol) -> list[dict[str, Any]]:
    labels = {o.id: o.label for o in protocol.fallback_options}
    return [
        {
            "obj": f,
            "transfer_id": f.transfer_id,
            "label": labels.get(f.option, f.option),
            "callback_number": f.callback_number,
            "note": f.note,
            "taken_at": f.taken_at,
            "taken_by": _name(f.taken_by),
        }
        for f in fallbacks
    ]


def _status_ctx(
    request: HttpRequest, transfer: Any, now: datetime, fallbacks: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The live status panel of one transfer, as the telecommunicator sees it."""
    _, protocol, _ = active_protocol()
    status = TransferStatus(transfer.status)
    if fallbacks is None:
        fallbacks = _fallback_rows(selectors.fallbacks_for_call(request.user, transfer.call_id), protocol)
    taken = [f for f in fallbacks if f["transfer_id"] == transfer.pk]
    ctx: dict[str, Any] = {
        "transfer": transfer,
        "status": status.value,
        "status_text": STATUS_TEXT[status],
        "live": status in ACTIVE,
        "waited": _seconds(transfer.claimed_at or transfer.ended_at or now, transfer.requested_at),
        "remaining": _seconds(transfer.deadline, now) if status is TransferStatus.REQUESTED else None,
        "claimed_by": _name(transfer.claimed_by) if transfer.claimed_by_id else "",
        "ended_by": _name(transfer.ended_by) if transfer.ended_by_id else "",
        "needs_fallback": status in NEEDS_FALLBACK and not taken,
        "fallback_taken": taken,
        "call": transfer.call,
    }
    if ctx["needs_fallback"]:
        options = _after_transfer_options(protocol)
        ctx["fallback_form"] = forms.FallbackForm(options, initial={"transfer_id": transfer.pk})
        ctx["fallback_options"] = options
    if status is TransferStatus.ESCALATED:
        rows = _escalation_rows(selectors.escalations_for_call(request.user, transfer.call_id))
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
    transfers = list(call.transfers.all())  # prefetched, newest first
    latest = transfers[0] if transfers else None
    fallbacks = _fallback_rows(selectors.fallbacks_for_call(request.user, call.pk), protocol)
    if screening_form is None:
        initial = forms.ScreeningForm.initial_from(decision.screening.answers if decision else None)
        screening_form = forms.ScreeningForm(protocol.questions, initial=initial)
    ct = protocol.find_call_type(call.call_type_raw)
    decision_ctx = _decision_ctx(decision, call)
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
        "decision": decision_ctx,
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
    ctx = _base(
        request,
        calls=_call_rows(calls, call.pk if call else None),
        call_types=[ct.name for ct in protocol.call_types if ct.scope.value == "in_scope"]
        + [ct.name for ct in protocol.call_types if ct.scope.value != "in_scope"],
        intake_form=panel.pop("intake_form", None) or forms.ManualCallForm(),
        alerts=selectors.open_alerts(request.user),
    )
    if call is not None:
        ctx["panel"] = _panel_ctx(request, call, **panel)
    return ctx


def _call_rows(calls: list[Any], current: int | None) -> list[dict[str, Any]]:
    rows = []
    for call in calls:
        decision = queries.latest_decision(call)
        transfers = list(call.transfers.all())
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
    if _wants_partial(request):
        response = render(
            request, "web/_call_panel.html", {"panel": _panel_ctx(request, call, **panel)}, status=status
        )
    else:
        response = render(request, "web/console.html", _console_ctx(request, call, **panel), status=status)
    patch_vary_headers(response, ["HX-Request"])
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
    rows = _call_rows(queries.recent_calls(request.user), int(current) if current.isdigit() else None)
    return _poll(request, "web/_call_list.html", {"calls": rows})


@require_GET
@role_page("screen_call")
def console_alerts_live(request: HttpRequest) -> HttpResponse:
    """Timed-out and declined transfers of this telecommunicator that still need the fallback."""
    services.expire_transfers()
    return _poll(request, "web/_alerts.html", {"alerts": selectors.open_alerts(request.user)})


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
            if not _is_htmx(request):
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
    if _is_htmx(request):
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
        for alert in selectors.open_alerts(request.user):
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
            message=_transition_message(request, exc, transfer_id),
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


def _with_alerts(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Refresh the alert strip in the same response (htmx out-of-band) once an alert is dealt with."""
    if _wants_partial(request) and response.status_code == 200:
        alerts = render_to_string(
            "web/_alerts.html", {"alerts": selectors.open_alerts(request.user)}, request=request
        )
        response.content += f'<div id="alerts" hx-swap-oob="innerHTML">{alerts}</div>'.encode()
    return response


@require_GET
@role_page("screen_call")
def transfer_status_live(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """The status panel, polled every second while the transfer is live; it stops polling once it ends."""
    services.expire_transfers()
    transfer = queries.get_transfer(request.user, transfer_id)
    return render(request, "web/_transfer_status.html", {"s": _status_ctx(request, transfer, timezone.now())})


# --- queue and call: the social worker --------------------------------------------------------


def _queue_rows(transfers: list[Any], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "transfer": t,
            "call": t.call,
            "waited": _seconds(now, t.requested_at),
            "remaining": _seconds(t.deadline, now),
            "requested_by": _name(t.requested_by),
        }
        for t in transfers
    ]


def _queue_ctx(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    user = request.user
    can_claim = may(getattr(user, "role", ""), "claim_transfer")
    return {
        "waiting": _queue_rows(queries.queue(user), now),
        "mine": queries.my_active_transfers(user) if can_claim else [],
        "can_claim": can_claim,
        "my_status": queries.my_status(user) if can_claim else "",
        "now": now,
    }


@require_GET
@role_page("view_queue")
def queue(request: HttpRequest) -> HttpResponse:
    """The social worker's live queue: transfers waiting (oldest first), my calls, my availability."""
    services.expire_transfers()
    return render(request, "web/queue.html", _base(request, **_queue_ctx(request)))


@require_GET
@role_page("view_queue")
def queue_live(request: HttpRequest) -> HttpResponse:
    services.expire_transfers()
    return render(request, "web/_queue_live.html", _queue_ctx(request))


@require_POST
@role_page("claim_transfer")
def queue_claim(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """Claim a waiting transfer and open its call; a lost race says who got it (409)."""
    try:
        transfer = services.claim_transfer(request.user, transfer_id)
    except InvalidTransition as exc:
        return _queue_message(request, 409, _transition_message(request, exc, transfer_id))
    except ServiceError as exc:
        return _queue_message(request, exc.status, exc.message)
    url = reverse("call_detail", args=[transfer.call_id])
    if _is_htmx(request):
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
        return _queue_message(request, 409, _transition_message(request, exc, transfer_id))
    except ServiceError as exc:
        return _queue_message(request, exc.status, exc.message)
    return _queue_message(
        request,
        200,
        f"Declined {transfer.call.incident_id}: the telecommunicator is offered the fallback.",
        "info",
    )


def _queue_message(request: HttpRequest, status: int, message: str, level: str = "error") -> HttpResponse:
    if _is_htmx(request):
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
    if not _is_htmx(request):
        return redirect("queue")
    return render(
        request, "web/_availability.html", {"my_status": queries.my_status(request.user)}, status=status
    )


def _call_detail_ctx(request: HttpRequest, call: Any) -> dict[str, Any]:
    decision = queries.latest_decision(call)
    answers: list[dict[str, Any]] = []
    if decision is not None:
        protocol, _ = parsed(decision.protocol)
        given = decision.screening.answers or {}
        answers = [
            {"text": q.text, "kind": q.kind.value, "answer": given.get(q.id)} for q in protocol.questions
        ]
    transfers = list(call.transfers.all())
    mine = next(
        (t for t in transfers if t.status == TransferStatus.CLAIMED and t.claimed_by_id == request.user.pk),
        None,
    )
    return {
        "call": call,
        "decision": _decision_ctx(decision, call),
        "answers": answers,
        "screened_by": _name(decision.screening.screened_by) if decision else "",
        "transfers": [
            {
                "obj": t,
                "status_text": STATUS_TEXT[TransferStatus(t.status)],
                "claimed_by": _name(t.claimed_by) if t.claimed_by_id else "",
                "waited": _seconds(t.claimed_at, t.requested_at),
            }
            for t in transfers
        ],
        "mine": mine,
        "escalations": _escalation_rows(selectors.escalations_for_call(request.user, call.pk)),
        "fallbacks": _fallback_rows(
            selectors.fallbacks_for_call(request.user, call.pk), active_protocol()[1]
        ),
        "escalate_form": forms.EscalateForm(),
        "complete_form": forms.CompleteForm(),
    }


@require_GET
@role_page("view_calls")
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    """One call for the social worker: what was reported, the screening, the decision, and the actions."""
    call = queries.get_call(request.user, call_id)
    return render(request, "web/call_detail.html", _base(request, **_call_detail_ctx(request, call)))


def _detail_with_error(
    request: HttpRequest, transfer_id: int, status: int, message: str, **forms_: Any
) -> HttpResponse:
    transfer = queries.get_transfer(request.user, transfer_id)
    call = queries.get_call(request.user, transfer.call_id)
    ctx = _base(request, **_call_detail_ctx(request, call))
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
        return _detail_with_error(request, transfer_id, 409, _transition_message(request, exc, transfer_id))
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
        return _detail_with_error(request, transfer_id, 409, _transition_message(request, exc, transfer_id))
    except ServiceError as exc:
        return _detail_with_error(request, transfer_id, exc.status, exc.message, escalate_form=form)
    messages.warning(
        request,
        f"Call {escalation.transfer.call.incident_id} escalated back to 911 for "
        f"{RESPONDER_TEXT.get(escalation.responder, escalation.responder)}. "
        "Set yourself Available when you are ready for the next call.",
    )
    return redirect("queue")


# --- floor: the supervisor; today's numbers: the evaluator ------------------------------------


def _floor_ctx(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    summary = queries.floor_summary(request.user, now)
    outcomes = [
        {
            "outcome": o.value,
            "label": OUTCOME_TEXT[o][0],
            "tone": OUTCOME_TEXT[o][1],
            "n": summary["decisions_by_outcome"].get(o.value, 0),
        }
        for o in Outcome
    ]
    statuses = [
        {"status": s, "label": s.replace("_", " "), "n": n} for s, n in summary["transfers_by_status"].items()
    ]
    return {
        "summary": summary,
        "waiting": _queue_rows(summary["queue"], now),
        "workers": [
            {"name": _name(w.user), "status": w.status, "since": w.changed_at}
            for w in summary["social_workers"]
        ],
        "outcomes": outcomes,
        "statuses": statuses,
        "now": now,
    }


@require_GET
@role_page("view_floor")
def floor(request: HttpRequest) -> HttpResponse:
    """The supervisor's live floor: queue, who is on shift, today's transfers and decisions."""
    services.expire_transfers()
    return render(request, "web/floor.html", _base(request, **_floor_ctx(request)))


@require_GET
@role_page("view_floor")
def floor_live(request: HttpRequest) -> HttpResponse:
    services.expire_transfers()
    return render(request, "web/_floor_live.html", _floor_ctx(request))


@require_GET
@role_page("view_aggregates")
def evaluation(request: HttpRequest) -> HttpResponse:
    """Today's counts by outcome, status, fallback and escalation: aggregates only, no call details."""
    agg = selectors.today_aggregates(request.user)
    outcomes = [
        {
            "label": OUTCOME_TEXT[o][0],
            "code": o.value,
            "tone": OUTCOME_TEXT[o][1],
            "n": agg["decisions_by_outcome"].get(o.value, 0),
        }
        for o in Outcome
    ]
    reasons = [
        {
            "code": code,
            "text": REASON_TEXT.get(Reason(code), code) if code in Reason._value2member_map_ else code,
            "n": n,
        }
        for code, n in agg["reasons"].items()
    ]
    _, protocol, _ = active_protocol()
    labels = {o.id: o.label for o in protocol.fallback_options}
    fallbacks = [{"label": labels.get(k, k), "n": n} for k, n in sorted(agg["fallbacks_by_option"].items())]
    statuses = [
        {"status": k, "label": k.replace("_", " "), "n": n} for k, n in agg["transfers_by_status"].items()
    ]
    escalations = [
        {"label": RESPONDER_TEXT.get(k, k), "n": n}
        for k, n in sorted(agg["escalations_by_responder"].items())
    ]
    return render(
        request,
        "web/evaluation.html",
        _base(
            request,
            agg=agg,
            outcomes=outcomes,
            reasons=reasons,
            fallbacks=fallbacks,
            statuses=statuses,
            escalations=escalations,
        ),
    )
