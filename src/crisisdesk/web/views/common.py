"""What every page shares: role guards and error mapping, the words shown to people, htmx plumbing,
and the rows (decisions with reasons, transfers, escalations, fallbacks) more than one page shows.

Expected failures become a page (or, for an htmx swap, a fragment) with the status code of
DESIGN.md §3.10: 403 for the wrong role, 404 for what the user may not see, 503 without a protocol.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from crisisdesk.calls import queries
from crisisdesk.calls.errors import NoActiveProtocol, NotFound
from crisisdesk.calls.protocols import active_protocol, parsed
from crisisdesk.domain.protocol import Protocol
from crisisdesk.domain.reasons import Outcome, Reason
from crisisdesk.domain.roles import may
from crisisdesk.domain.transfers import InvalidTransition, TransferAction, TransferStatus
from crisisdesk.web import forms

View = TypeVar("View", bound=Callable[..., HttpResponse])
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

NAV = [  # (url name, label, action that makes it visible, accesskey)
    ("floor", "Floor", "view_floor", "l"),
    ("floor_casework", "Casework", "view_floor", "o"),
    ("console", "Console", "screen_call", "c"),
    ("queue", "Queue", "view_queue", "q"),
    ("my_cases", "Cases", "work_case", "g"),
    ("worklist", "Follow-ups", "work_follow_ups", "u"),
    ("referral_tracker", "Referrals", "view_referrals", "h"),
    ("evaluation", "Today's numbers", "view_aggregates", "v"),
    ("program_evaluation", "Evaluation", "view_aggregates", "e"),
    ("directory_search", "Directory", "search_directory", "d"),
    ("privacy_review", "Privacy", "review_audit", "y"),
    ("locked_accounts", "Unlock", "unlock_account", "j"),
]
# Pages that belong under a navigation entry (marked as the current page there).
NAV_SECTION = {"case_workspace": "my_cases"}


def reason_text(code: str) -> str:
    """The plain-words reason for a reason code; an unknown code is shown as it is."""
    return REASON_TEXT.get(Reason(code), code) if code in Reason._value2member_map_ else code


# --- plumbing ---------------------------------------------------------------------------------


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_partial(request: HttpRequest) -> bool:
    """An htmx swap (not a history restore, which needs the whole page)."""
    return is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def to_login(request: HttpRequest) -> HttpResponse:
    target = request.get_full_path()
    if is_htmx(request):
        # A poll after the session ended: send the whole window to the login page, not a fragment.
        current = request.headers.get("HX-Current-URL", "")
        target = urlsplit(current).path or reverse("home")
        response = HttpResponse("")
        response["HX-Redirect"] = f"{reverse('login')}?{urlencode({'next': target})}"
        return response
    return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': target})}")


def base_ctx(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """Context every full page needs: navigation for the role and the active protocol for the footer."""
    role = getattr(request.user, "role", "")
    page = getattr(request.resolver_match, "url_name", "") or ""
    ctx: dict[str, Any] = {
        "role": role,
        "role_label": role.replace("_", " "),
        "nav": [
            {"url": reverse(name), "label": label, "name": name, "key": key}
            for name, label, action, key in NAV
            if may(role, action)
        ],
        "page": NAV_SECTION.get(page, page),
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


def page_error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    template = "web/_message.html" if wants_partial(request) else "web/error.html"
    level = "error"
    return render(
        request, template, base_ctx(request, title=title, message=message, level=level), status=status
    )


def role_page(action: str) -> Callable[[View], View]:
    """Login plus the role that may `action` (domain.roles); anyone else gets 403, never the page.

    Expected failures that escape a view become a page (or fragment) with their status code.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return to_login(request)
            if not may(getattr(request.user, "role", ""), action):
                return page_error(request, 403, "Not for your role", "This page is not part of your role.")
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                return page_error(request, 404, "Not found", "There is nothing here you can see.")
            except NoActiveProtocol as exc:
                return page_error(request, 503, "No protocol", exc.message)

        wrapped.required_action = action  # type: ignore[attr-defined]  # read by the access-matrix test
        return cast(View, wrapped)

    return decorate


def poll(request: HttpRequest, template: str, ctx: dict[str, Any]) -> HttpResponse:
    """Render a polled fragment; answer 204 (htmx: no swap) when it has not changed since the last poll.

    The fragment carries `__POLL_V__` in a hidden input the poller sends back as `v`. Not swapping an
    unchanged fragment keeps keyboard focus where it is and keeps screen readers quiet.
    """
    html = render_to_string(template, ctx, request=request)
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    if request.GET.get("v") == digest:
        return HttpResponse(status=204)
    return HttpResponse(html.replace("__POLL_V__", digest))


def name_of(user: Any) -> str:
    return str(user) if user is not None else ""


def seconds_between(later: datetime | None, earlier: datetime | None) -> int | None:
    if later is None or earlier is None:
        return None
    return max(0, int((later - earlier).total_seconds()))


def transition_message(request: HttpRequest, exc: InvalidTransition, transfer_id: int) -> str:
    """Say in plain words why the action could not happen (the transfer changed under the user)."""
    try:
        transfer = queries.get_transfer(request.user, transfer_id)
    except NotFound:
        transfer = None
    if exc.action is TransferAction.CLAIM:
        if exc.status is TransferStatus.CLAIMED and transfer is not None:
            if transfer.claimed_by_id == request.user.pk:
                return "You already claimed this transfer."
            return f"Already claimed by someone else ({name_of(transfer.claimed_by)})."
        if exc.status is TransferStatus.TIMED_OUT:
            return "Too late: the transfer timed out and the telecommunicator is taking the fallback."
        if exc.status is TransferStatus.CANCELLED:
            return "The telecommunicator cancelled this transfer."
        if exc.status is TransferStatus.DECLINED:
            return "This transfer was declined."
    return f"The transfer is already {exc.status.value.replace('_', ' ')}: cannot {exc.action.value} it."


# --- rows shown on more than one page ---------------------------------------------------------


def _reasons(decision: Any, call: Any, questions: dict[str, str]) -> list[dict[str, str]]:
    out = []
    answers = decision.screening.answers or {}
    for code in decision.reason_codes:
        text = reason_text(code)
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


def decision_ctx(decision: Any, call: Any) -> dict[str, Any] | None:
    """A decision as shown to people: outcome label and tone, each reason in words, protocol version."""
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
        "decided_by": name_of(decision.decided_by),
    }


def screening_answers(decision: Any) -> list[dict[str, Any]]:
    """The telecommunicator's answer to each question of the protocol version that decided."""
    if decision is None:
        return []
    protocol, _ = parsed(decision.protocol)
    given = decision.screening.answers or {}
    return [{"text": q.text, "kind": q.kind.value, "answer": given.get(q.id)} for q in protocol.questions]


def escalation_rows(escalations: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "transfer_id": e.transfer_id,
            "responder": RESPONDER_TEXT.get(e.responder, e.responder),
            "reason": e.reason,
            "at": e.escalated_at,
            "by": name_of(e.escalated_by),
        }
        for e in escalations
    ]


def fallback_rows(fallbacks: list[Any], protocol: Protocol) -> list[dict[str, Any]]:
    labels = {o.id: o.label for o in protocol.fallback_options}
    return [
        {
            "obj": f,
            "transfer_id": f.transfer_id,
            "label": labels.get(f.option, f.option),
            "callback_number": f.callback_number,
            "note": f.note,
            "taken_at": f.taken_at,
            "taken_by": name_of(f.taken_by),
        }
        for f in fallbacks
    ]


def queue_rows(transfers: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Transfers waiting for a social worker, with how long they waited and how long they have left."""
    return [
        {
            "transfer": t,
            "call": t.call,
            "waited": seconds_between(now, t.requested_at),
            "remaining": seconds_between(t.deadline, now),
            "requested_by": name_of(t.requested_by),
        }
        for t in transfers
    ]
