"""What the social worker does on the case workspace: one POST view per use case.

Each view parses its form, calls one `casework.services` function, and on success redirects back to
the section of the workspace it came from (`?saved=<what>#<section>`). An expected failure re-renders
the workspace with the form as typed, the problem shown in its section and the status code of
DESIGN.md §3.10:

- 403: the wrong role (role_page), or a case owned by another social worker (service `Forbidden`);
- 404: a case, person, link or consent that is not there / not part of this case;
- 409: a case action its status does not allow (`InvalidCaseTransition`), a close the rules refuse
  (`CloseRefused`: every reason, in words), a follow-up that changed (`InvalidFollowUpTransition`,
  service `Conflict`);
- 422: bad input, with the field (`InvalidInput.errors`, form errors, instrument problems).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from crisisdesk.calls.errors import Conflict, NotFound, ServiceError
from crisisdesk.calls.services import InvalidInput
from crisisdesk.casework import queries as cq
from crisisdesk.casework import services as cs
from crisisdesk.domain.cases import REASON_TEXT as CLOSE_REASON_TEXT
from crisisdesk.domain.cases import InvalidCaseTransition
from crisisdesk.domain.followups import InvalidFollowUpTransition
from crisisdesk.domain.instruments import (
    SAFETY_PLAN_FIELDS,
    asked_questions,
    get_instrument,
    validate_answers,
)
from crisisdesk.web import forms
from crisisdesk.web.views import case_words as w
from crisisdesk.web.views.casework import (
    CONCERNS,
    CONSENT_CHANNELS,
    INSTRUMENTS,
    METHODS,
    NOTE_KINDS,
    RELATIONS,
    SAVED,
    render_workspace,
)
from crisisdesk.web.views.common import role_page

CHECK = "Check the fields marked below."
Action = Callable[[Any, dict[str, Any]], None]


class FormProblems(Exception):
    """The view found problems and put them on the form's fields (422, nothing was written)."""


def _problem(section: str, message: str, reasons: list[str] | None = None) -> dict[str, Any]:
    return {"section": section, "message": message, "reasons": reasons or []}


def _place(form: Any, errors: list[dict[str, Any]]) -> list[str]:
    """Put each service field error on its form field; return those the form has no field for."""
    left = []
    for error in errors:
        field, reason = str(error.get("field", "")), str(error.get("reason", ""))
        if form is not None and field in form.fields:
            form.add_error(field, reason)
        else:
            left.append(f"{field.replace('_', ' ')}: {reason}" if field else reason)
    return left


def case_post(
    request: HttpRequest,
    case_id: int,
    saved: str,
    form: Any,
    act: Action,
    *,
    form_key: str = "",
) -> HttpResponse:
    """Run one case use case for a POST and answer with a redirect or the workspace with the problem.

    `saved` names the success message and the section (`casework.SAVED`); `form_key` is the key the
    workspace shows the bound form under (default: `saved`).
    """
    section = SAVED[saved][0]
    key = form_key or saved
    case = cq.get_case(request.user, case_id)  # a case that is not there is a 404 before anything
    bound = {key: form} if form is not None else {}

    def again(status: int, problem: dict[str, Any]) -> HttpResponse:
        return render_workspace(request, case_id, status, bound=bound, problem=problem)

    if form is not None and not form.is_valid():
        return again(422, _problem(section, CHECK, _form_errors(form)))
    try:
        act(case, form.cleaned_data if form is not None else {})
    except FormProblems:
        return again(422, _problem(section, CHECK, _form_errors(form)))
    except cs.CloseRefused as exc:
        reasons = [CLOSE_REASON_TEXT.get(r, r.replace("_", " ")) for r in exc.reasons]
        return again(409, _problem(section, "The case cannot close yet:", reasons))
    except InvalidCaseTransition as exc:
        return again(409, _problem(section, w.transition_text(exc.status, exc.action)))
    except InvalidFollowUpTransition as exc:
        return again(409, _problem(section, f"The follow-up is already {exc.status.value}."))
    except InvalidInput as exc:
        left = _place(form, exc.errors)
        return again(422, _problem(section, CHECK if not left else "Not saved.", left))
    except ServiceError as exc:
        return again(exc.status, _problem(section, _sentence(exc.message)))
    url = reverse("case_workspace", args=[case_id])
    return HttpResponseRedirect(f"{url}?saved={saved}#{section}")


def _form_errors(form: Any) -> list[str]:
    """Every form error as "Field: problem", for the section's alert (a field may be off screen)."""
    out = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        out += [f"{label}: {e}" if label else str(e) for e in errors]
    return out


def _sentence(message: str) -> str:
    message = message.strip()
    return (message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")) if message else ""


# --- people and links ---------------------------------------------------------------------------


@require_POST
@role_page("work_case")
def case_add_person(request: HttpRequest, case_id: int) -> HttpResponse:
    form = forms.PersonForm(RELATIONS, request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.add_person(request.user, case.pk, **data)

    return case_post(request, case_id, "person", form, act)


def _participant(case: Any, person_id: int) -> Any:
    for p in case.participants.all():
        if p.person_id == person_id:
            return p
    raise NotFound("that person is not in this case")


@require_POST
@role_page("work_case")
def case_confirm_link(request: HttpRequest, case_id: int, person_id: int) -> HttpResponse:
    """ "Same person": link a person of this case to one of the candidate records offered for them."""
    form = forms.LinkForm(request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        person = _participant(case, person_id).person
        offered = {other.pk for other, _ in cq.candidates_for(person)}
        if data["other_id"] not in offered:
            # Only what was shown can be confirmed (the list may have changed since the page loaded).
            raise Conflict("that record is no longer offered as a match for this person")
        cs.confirm_link(request.user, person.pk, data["other_id"])

    return case_post(request, case_id, "link", form, act, form_key="link")


@require_POST
@role_page("work_case")
def case_undo_link(request: HttpRequest, case_id: int, link_id: int) -> HttpResponse:
    """Undo a confirmed link (wrong person), with the reason; both records keep all their data."""
    form = forms.ReasonForm(request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        ids = {p.person_id for p in case.participants.all()}
        touching = set()
        for person_id in ids:
            touching |= {link.pk for link in cq.prior_contacts(request.user, person_id).links}
        if link_id not in touching:
            raise NotFound("that link is not about a person in this case")
        cs.undo_link(request.user, link_id, data["reason"])

    return case_post(request, case_id, "unlink", form, act, form_key="unlink")


# --- details, assessments, safety plan, notes ----------------------------------------------------


@require_POST
@role_page("work_case")
def case_details(request: HttpRequest, case_id: int) -> HttpResponse:
    form = forms.CaseDetailsForm(CONCERNS, request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.update_case_details(
            request.user,
            case.pk,
            concerns=set(data["concerns"]),
            language=data["language"],
            interpreter_used=data["interpreter_used"],
        )

    return case_post(request, case_id, "details", form, act)


@require_POST
@role_page("work_case")
def case_assess(request: HttpRequest, case_id: int, instrument: str) -> HttpResponse:
    """Score the C-SSRS screener or the substance-use and housing section.

    Answers to questions the skip logic does not ask (the page hides Q3-Q5 unless Q2 is yes, but a
    radio already checked is still posted) are dropped first; then the instrument's own validation
    marks every missing answer on its question (422) before the service scores and stores it.
    """
    if instrument not in INSTRUMENTS:
        raise NotFound("no such instrument")
    spec = get_instrument(instrument)
    form = forms.InstrumentForm(spec.questions, request.POST)
    saved = INSTRUMENTS[instrument]

    def act(case: Any, data: dict[str, Any]) -> None:
        answers = form.answers()
        asked = {q.key for q in asked_questions(spec, answers)}
        answers = {k: v for k, v in answers.items() if k in asked}
        problems = validate_answers(spec, answers)
        if problems:
            for p in problems:
                form.add_error(p.field if p.field in form.fields else None, p.message)
            raise FormProblems
        cs.record_assessment(request.user, case.pk, instrument, answers)

    return case_post(request, case_id, saved, form, act)


@require_POST
@role_page("work_case")
def case_safety_plan(request: HttpRequest, case_id: int) -> HttpResponse:
    form = forms.SafetyPlanForm(SAFETY_PLAN_FIELDS, request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.save_safety_plan(request.user, case.pk, {k: v or "" for k, v in data.items()})

    return case_post(request, case_id, "safety_plan", form, act)


@require_POST
@role_page("work_case")
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    form = forms.NoteForm(NOTE_KINDS, request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.add_note(request.user, case.pk, data["kind"], data["text"], part2=data.get("part2", False))

    return case_post(request, case_id, "note", form, act)


# --- escalation ---------------------------------------------------------------------------------


@require_POST
@role_page("escalate_case")
def case_escalate(request: HttpRequest, case_id: int) -> HttpResponse:
    """Back to 911 in one step: the responder and the reason. Every console shows it at once."""
    form = forms.EscalateForm(request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.escalate_case(request.user, case.pk, data["responder"], data["reason"])

    return case_post(request, case_id, "escalated", form, act, form_key="escalate")


@require_POST
@role_page("work_case")
def case_escalation_declined(request: HttpRequest, case_id: int) -> HttpResponse:
    form = forms.DeclinedForm(request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.record_escalation_declined(request.user, case.pk, data["note"])

    return case_post(request, case_id, "declined", form, act)


# --- consent and follow-up ----------------------------------------------------------------------


@require_POST
@role_page("work_case")
def case_consent(request: HttpRequest, case_id: int) -> HttpResponse:
    case = cq.get_case(request.user, case_id)
    people = [(str(p.person_id), p.person.display_name()) for p in case.participants.all()]
    form = forms.ConsentForm(RELATIONS, METHODS, CONSENT_CHANNELS, people, request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.record_consent(request.user, case.pk, **data)

    return case_post(request, case_id, "consent", form, act)


@require_POST
@role_page("work_case")
def case_schedule_follow_up(request: HttpRequest, case_id: int) -> HttpResponse:
    """Plan follow-up contact under the active policy: only on a consent recorded in this case."""
    form = forms.ScheduleForm(request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        if data["consent_id"] not in {c.pk for c in case.consents.all()}:
            raise NotFound("no such consent in this case: record the person's consent first")
        cs.schedule_follow_up(request.user, data["consent_id"])

    return case_post(request, case_id, "follow_up", form, act, form_key="schedule")


# --- close and reopen ---------------------------------------------------------------------------


@require_POST
@role_page("work_case")
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    """Close with a disposition and a reason; a refusal lists every rule the close breaks (409)."""
    form = forms.CloseForm(request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.close_case(request.user, case.pk, data["disposition"], data["reason"])

    return case_post(request, case_id, "closed", form, act, form_key="close")


@require_POST
@role_page("work_case")
def case_reopen(request: HttpRequest, case_id: int) -> HttpResponse:
    form = forms.ReasonForm(request.POST)

    def act(case: Any, data: dict[str, Any]) -> None:
        cs.reopen_case(request.user, case.pk, data["reason"])

    return case_post(request, case_id, "reopened", form, act, form_key="reopen")
