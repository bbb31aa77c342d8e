"""The social worker's follow-up worklist: counts, rows, taking a callback, recording attempts.

The list is `casework.queries.worklist` (mine plus unassigned ones now visible): overdue first, then
due, then done in the last 7 days; callbacks waiting for the next shift are only counted (upcoming)
until the shift opens. A "callback next shift" a telecommunicator took overnight appears here when
the shift starts, unassigned: a social worker takes it, or opens a callback case from it (the case
is linked to the 911 call, and the row links to the case from then on).

Every write goes through `casework.services`; failures re-render the worklist with the problem on
the row and the status of DESIGN.md §3.10 (409 when the follow-up changed, 422 for bad input).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crisisdesk.calls.errors import Conflict, ServiceError
from crisisdesk.calls.services import InvalidInput
from crisisdesk.casework import queries as cq
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import FollowUp, FollowUpAttempt
from crisisdesk.domain.followups import AttemptOutcome, InvalidFollowUpTransition, WorklistState, parse_policy
from crisisdesk.web import forms
from crisisdesk.web.views import case_words as w
from crisisdesk.web.views import casework
from crisisdesk.web.views.common import base_ctx, name_of, role_page

ATTEMPT_CHANNELS = forms.coded_choices(FollowUpAttempt.Channel.values, w.CHANNEL_TEXT)
OUTCOMES = forms.coded_choices([o.value for o in AttemptOutcome], w.ATTEMPT_OUTCOME_TEXT)
SAVED = {
    "take": "You have this follow-up now.",
    "attempt": "Attempt recorded.",
}


def attempt_form(follow_up_id: int, data: Any = None) -> forms.AttemptForm:
    """The attempt form of one row (its element ids carry the follow-up's id: one form per row)."""
    return forms.AttemptForm(
        ATTEMPT_CHANNELS, OUTCOMES, data, initial={"channel": "phone"}, auto_id=f"fu{follow_up_id}-%s"
    )


def worklist_rows(request: HttpRequest, items: list[Any]) -> list[dict[str, Any]]:
    """Rows of the worklist with their attempts and linked cases: a fixed number of queries."""
    user = request.user
    attempts = cq.attempts_by_follow_up(user, [i.follow_up.pk for i in items])
    call_ids = [i.follow_up.call_id for i in items if i.follow_up.case_id is None and i.follow_up.call_id]
    callback_cases = cq.callback_cases_by_call(user, call_ids)
    rows = []
    for item in items:
        f = item.follow_up
        label, tone = w.WORKLIST_STATE_TEXT[item.state]
        case = callback_cases.get(f.call_id) if f.case_id is None and f.call_id else None
        rows.append(
            {
                "f": f,
                "state": item.state.value,
                "state_text": label,
                "tone": tone,
                "due_by": item.next_due_by,
                "attempts": item.attempts,
                "max_attempts": parse_policy(f.policy.document).max_attempts,
                "history": [
                    {
                        "obj": a,
                        "outcome": w.words(w.ATTEMPT_OUTCOME_TEXT, a.outcome),
                        "channel": w.words(w.CHANNEL_TEXT, a.channel),
                        "by": name_of(a.attempted_by),
                    }
                    for a in attempts.get(f.pk, [])
                ],
                "kind": w.words(w.FOLLOW_UP_KIND_TEXT, f.kind),
                "status_text": w.words(w.FOLLOW_UP_STATUS_TEXT, f.status),
                "open": item.state is not WorklistState.DONE,
                "unassigned": f.assigned_to_id is None,
                "mine": f.assigned_to_id == user.pk,
                "assigned": name_of(f.assigned_to) if f.assigned_to_id else "",
                "case_id": f.case_id or (case.pk if case else None),
                "is_callback": f.kind == FollowUp.Kind.CALLBACK,
                "contact_valid": f.consent.contact_valid,
            }
        )
    return rows


def _worklist_ctx(
    request: HttpRequest,
    *,
    form_for: tuple[int, forms.AttemptForm] | None = None,
    problem: dict[str, Any] | None = None,
    saved: str = "",
    saved_id: int | None = None,
) -> dict[str, Any]:
    wl = cq.worklist(request.user, casework.clock())
    rows = worklist_rows(request, wl.items)
    for row in rows:
        pk = row["f"].pk
        row["form"] = form_for[1] if form_for and form_for[0] == pk else attempt_form(pk)
        row["problem"] = problem if problem and problem.get("id") == pk else None
        row["saved"] = SAVED.get(saved, "") if saved_id == pk else ""
    counts = [
        {
            "state": s.value,
            "label": w.WORKLIST_STATE_TEXT[s][0],
            "tone": w.WORKLIST_STATE_TEXT[s][1],
            "n": wl.counts[s.value],
        }
        for s in (WorklistState.OVERDUE, WorklistState.DUE, WorklistState.DONE, WorklistState.UPCOMING)
    ]
    listed = {row["f"].pk for row in rows}
    return base_ctx(
        request,
        rows=rows,
        counts=counts,
        # A problem with a follow-up not on this list (taken by someone else, say) shows on top.
        page_problem=problem if problem and problem.get("id") not in listed else None,
        now=casework.clock(),
    )


def _worklist(request: HttpRequest, status: int = 200, **kwargs: Any) -> HttpResponse:
    return render(request, "web/followup_worklist.html", _worklist_ctx(request, **kwargs), status=status)


@require_GET
@role_page("work_follow_ups")
def worklist(request: HttpRequest) -> HttpResponse:
    """Due, overdue and recently done follow-ups of this social worker, plus unassigned callbacks."""
    saved_id = request.GET.get("id", "")
    return _worklist(
        request, saved=request.GET.get("saved", ""), saved_id=int(saved_id) if saved_id.isdigit() else None
    )


def _failure(request: HttpRequest, follow_up_id: int, exc: Exception, form: Any = None) -> HttpResponse:
    """The worklist again, with the problem on the follow-up's row and the status code."""
    if isinstance(exc, InvalidFollowUpTransition):
        status, message = 409, f"The follow-up is already {exc.status.value}."
    elif isinstance(exc, InvalidInput):
        status, message = 422, "Check the fields marked below."
        for error in exc.errors:
            if form is not None and error["field"] in form.fields:
                form.add_error(error["field"], error["reason"])
            else:
                message += f" {error['field']}: {error['reason']}."
    elif isinstance(exc, ServiceError):
        status, message = exc.status, exc.message[:1].upper() + exc.message[1:] + "."
    else:  # pragma: no cover - only the failures above are passed in
        raise exc
    problem = {"id": follow_up_id, "message": message}
    return _worklist(
        request, status, form_for=(follow_up_id, form) if form is not None else None, problem=problem
    )


def _back(saved: str, follow_up_id: int) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse('worklist')}?saved={saved}&id={follow_up_id}#fu-{follow_up_id}")


@require_POST
@role_page("work_follow_ups")
def follow_up_take(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """Take an unassigned follow-up (e.g. last night's callbacks) so that it is yours to work."""
    cq.get_follow_up(request.user, follow_up_id)  # 404 first
    try:
        cs.take_follow_up(request.user, follow_up_id)
    except (ServiceError, InvalidFollowUpTransition) as exc:
        return _failure(request, follow_up_id, exc)
    return _back("take", follow_up_id)


@require_POST
@role_page("work_follow_ups")
def follow_up_attempt(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """One contact attempt: channel, outcome code, notes. The status follows the policy."""
    cq.get_follow_up(request.user, follow_up_id)
    form = attempt_form(follow_up_id, request.POST)
    if not form.is_valid():
        problem = {"id": follow_up_id, "message": "Check the fields marked below."}
        return _worklist(request, 422, form_for=(follow_up_id, form), problem=problem)
    try:
        cs.record_attempt(
            request.user,
            follow_up_id,
            channel=form.cleaned_data["channel"],
            outcome=form.cleaned_data["outcome"],
            notes=form.cleaned_data["notes"],
        )
    except (ServiceError, InvalidFollowUpTransition) as exc:
        return _failure(request, follow_up_id, exc, form)
    return _back("attempt", follow_up_id)


@require_POST
@role_page("work_case")
def follow_up_open_case(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """Work a callback as a case: taken, opened on the 911 call it came from and linked, in one step.

    A follow-up that already has its case (after a case, or a callback opened before) goes there.
    """
    f = cq.get_follow_up(request.user, follow_up_id)
    if f.case_id is not None:
        return redirect("case_workspace", case_id=f.case_id)
    if f.call_id is None:
        return _failure(request, f.pk, Conflict("this follow-up has no 911 call to open a case for"))
    try:
        case = cs.open_case_for_follow_up(request.user, f.pk)
    except (ServiceError, InvalidFollowUpTransition) as exc:
        return _failure(request, f.pk, exc)
    return redirect("case_workspace", case_id=case.pk)
