"""The social worker's case workspace: one screen for an active call, and the list of my cases.

The workspace shows, top to bottom: the call (what the CAD sent, the telecommunicator's screening
answers and the decision's reasons), the people in the case with candidate matches to earlier
records and, once a match is confirmed, their prior contacts; concerns; the C-SSRS screener and the
substance-use and housing section; the safety plan; escalation back to 911; notes; consent to
contact and follow-up; close and reopen. Forms post to `case_actions` (plain POST, then a redirect
back to the section, so that every form works without script); failures re-render this page with
the status of DESIGN.md §3.10 and the problem shown in its section.

Only the case's owner sees the forms; a supervisor sees the same page read-only. The page carries
health data: `Cache-Control: no-store` (web.middleware sets it on every page; `case_workspace`
sets it itself too, so the guarantee does not depend on the middleware list).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from crisisdesk.calls import queries as call_queries
from crisisdesk.calls.errors import ServiceError
from crisisdesk.casework import queries as cq
from crisisdesk.casework import services as cs
from crisisdesk.casework.models import ContactConsent
from crisisdesk.domain.cases import CaseStatus, Concern, Disposition, NoteKind, Relation
from crisisdesk.domain.instruments import (
    CONTEXT_SCREEN,
    CSSRS_SCREENER,
    SAFETY_PLAN_FIELDS,
    Instrument,
    RiskLevel,
    get_instrument,
    safety_plan_problems,
)
from crisisdesk.domain.people import STRONG_MATCH
from crisisdesk.domain.roles import may
from crisisdesk.web import forms
from crisisdesk.web.views import case_words as w
from crisisdesk.web.views.common import (
    RESPONDER_TEXT,
    base_ctx,
    decision_ctx,
    name_of,
    poll,
    role_page,
    screening_answers,
    seconds_between,
)


def clock() -> datetime:
    """The pages' clock (a test may replace it to look at a worklist at another instant)."""
    return timezone.now()


# --- choices (codes from the domain, words from case_words) ----------------------------------

RELATIONS = forms.coded_choices([r.value for r in Relation], w.RELATION_TEXT)
CONCERNS = forms.coded_choices([c.value for c in Concern], w.CONCERN_TEXT)
NOTE_KINDS = forms.coded_choices([k.value for k in NoteKind], w.NOTE_KIND_TEXT)
DISPOSITIONS = forms.coded_choices([d.value for d in Disposition], w.DISPOSITION_TEXT, blank="Choose...")
METHODS = forms.coded_choices(ContactConsent.Method.values, w.CONSENT_METHOD_TEXT)
CONSENT_CHANNELS = forms.coded_choices(ContactConsent.Channel.values, w.CHANNEL_TEXT)
INSTRUMENTS = {CSSRS_SCREENER: "cssrs", CONTEXT_SCREEN: "context"}  # instrument key -> page section

# What a successful action says, and the section the page scrolls back to.
SAVED = {
    "person": ("people", "Person added."),
    "link": ("people", "Linked: the earlier records of this person are shown below."),
    "unlink": ("people", "Link undone. Both records keep all their data."),
    "details": ("details", "Concerns, language and interpreter saved."),
    "cssrs": ("cssrs", "Screening saved."),
    "context": ("context", "Substance use and housing saved."),
    "safety_plan": ("safety-plan", "Safety plan saved."),
    "note": ("notes", "Note added."),
    "escalated": ("escalation", "Escalated to 911: every telecommunicator console shows it now."),
    "declined": ("escalation", "Recorded: escalation offered and declined (added to the notes)."),
    "consent": ("follow-up", "Consent to contact recorded."),
    "follow_up": ("follow-up", "Follow-up planned: it is on your worklist."),
    "closed": ("close", "Case closed."),
    "reopened": ("close", "Case reopened."),
    "disclosure_consent": ("part2", "Disclosure consent recorded."),
    "disclosure_revoked": ("part2", "Disclosure consent revoked: it covers nothing from now on."),
}


# --- the workspace ------------------------------------------------------------------------------


def _call_ctx(request: HttpRequest, case: Any) -> dict[str, Any] | None:
    if case.call_id is None:
        return None
    call = call_queries.get_call(request.user, case.call_id)
    decision = call_queries.latest_decision(call)
    return {
        "obj": call,
        "decision": decision_ctx(decision, call),
        "answers": screening_answers(decision),
        "screened_by": name_of(decision.screening.screened_by) if decision else "",
    }


def _link_rows(links: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "obj": link,
            "a": link.person_a.display_name(),
            "b": link.person_b.display_name(),
            "score": round(link.score * 100),
            "live": link.undone_at is None,
            "confirmed_by": name_of(link.confirmed_by),
            "undone_by": name_of(link.undone_by) if link.undone_by_id else "",
        }
        for link in links
    ]


def _person_ctx(request: HttpRequest, participant: Any, case_id: int) -> dict[str, Any]:
    """One person in the case: facts, flags, candidate matches, links and prior contacts."""
    person = participant.person
    prior = cq.prior_contacts(request.user, person.pk, exclude_case_id=case_id)
    candidates = [
        {
            "person": other,
            "score": round(match.score * 100),
            "likely": match.score >= STRONG_MATCH,
            "reasons": [w.words(w.MATCH_REASON_TEXT, r) for r in match.reasons],
        }
        for other, match in cq.candidates_for(person)
    ]
    return {
        "participant": participant,
        "person": person,
        "relation": w.words(w.RELATION_TEXT, participant.relation),
        "phone_flag": (
            w.words(w.PHONE_PROBLEM_TEXT, person.phone_problem or "invalid_number")
            if person.phone_raw and not person.phone_valid
            else ""
        ),
        "candidates": candidates,
        "linked": len(prior.person_ids) > 1,
        "links": _link_rows(prior.links),
        "prior": prior,
        "prior_cases": [
            {
                "obj": c,
                "status": w.words(w.CASE_STATUS_TEXT, c.status),
                "disposition": w.words(w.DISPOSITION_TEXT, c.disposition) if c.disposition else "",
                "owner": name_of(c.owner),
            }
            for c in prior.cases
        ],
        "prior_follow_ups": [
            {
                "obj": f,
                "status": w.words(w.FOLLOW_UP_STATUS_TEXT, f.status),
                "attempts": len(f.attempts.all()),
            }
            for f in prior.follow_ups
        ],
    }


def _result_ctx(assessment: Any) -> dict[str, Any] | None:
    if assessment is None:
        return None
    label, tone = w.RISK_TEXT.get(RiskLevel(assessment.risk_level), (assessment.risk_level, "muted"))
    return {
        "obj": assessment,
        "level": assessment.risk_level,
        "label": label,
        "tone": tone,
        "reasons": [w.assessment_reason_text(r) for r in assessment.reasons],
        "actions": [w.words(w.ACTION_TEXT, a) for a in assessment.required_actions],
        "flags": [w.words(w.FLAG_TEXT, f) for f in assessment.flags],
        "by": name_of(assessment.assessed_by),
    }


def instrument_rows(instrument: Instrument, form: forms.InstrumentForm, prefix: str) -> list[dict[str, Any]]:
    """Questions as a tree for the template: a question asked only when another is "yes" is nested
    under it, so the page can reveal it with CSS alone (`:has(:checked)`), no script."""

    def row(q: Any) -> dict[str, Any]:
        bound = form[q.key]
        return {
            "key": q.key,
            "id": f"{prefix}-{q.key}",
            "text": q.text,
            "help": q.help,
            "kind": q.kind,
            "value": bound.value() or "",
            "errors": bound.errors,
            "choices": [(c, w.words(w.CHOICE_TEXT, c)) for c in q.allowed()],
            "children": [],
        }

    rows: dict[str, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for q in instrument.questions:
        rows[q.key] = row(q)
        gate = q.ask_if
        # Nested one level: a question gated by a gated question is shown with its gate's group.
        while gate is not None and instrument.question(gate).ask_if is not None:
            gate = instrument.question(gate).ask_if
        (rows[gate]["children"] if gate else top).append(rows[q.key])
    return top


def _forms(case: Any, call: Any, bound: dict[str, Any]) -> dict[str, Any]:
    people = [(str(p.person_id), p.person.display_name()) for p in case.participants.all()]
    plans = list(case.safety_plans.all())
    consent_initial = {"contact": call.caller_phone if call else "", "relation": Relation.CALLER.value}
    out = {
        "person": forms.PersonForm(RELATIONS, initial={"relation": Relation.PERSON_IN_CRISIS.value}),
        "details": forms.CaseDetailsForm(
            CONCERNS,
            initial={
                "concerns": sorted(case.concerns()),
                "language": case.language,
                "interpreter_used": case.interpreter_used,
            },
        ),
        "cssrs": forms.InstrumentForm(get_instrument(CSSRS_SCREENER).questions),
        "context": forms.InstrumentForm(get_instrument(CONTEXT_SCREEN).questions),
        "safety_plan": forms.SafetyPlanForm(SAFETY_PLAN_FIELDS, initial=plans[0].values if plans else None),
        "note": forms.NoteForm(NOTE_KINDS, initial={"kind": NoteKind.CRISIS_INTERVENTION.value}),
        "escalate": forms.EscalateForm(),
        "declined": forms.DeclinedForm(),
        "consent": forms.ConsentForm(RELATIONS, METHODS, CONSENT_CHANNELS, people, initial=consent_initial),
        "close": forms.CloseForm(),
        "reopen": forms.ReasonForm(),
        "unlink": forms.ReasonForm(),
    }
    out.update(bound)
    return out


def escalation_rows_for_case(escalations: list[Any], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "obj": e,
            "responder": RESPONDER_TEXT.get(e.responder, e.responder),
            "by": name_of(e.escalated_by),
            "acknowledged_by": name_of(e.acknowledged_by) if e.acknowledged_by_id else "",
            "seconds_to_ack": seconds_between(e.acknowledged_at, e.escalated_at),
            "waiting": seconds_between(now, e.escalated_at) if e.acknowledged_at is None else None,
        }
        for e in escalations
    ]


def workspace_ctx(
    request: HttpRequest,
    case: Any,
    *,
    bound: dict[str, Any] | None = None,
    problem: dict[str, Any] | None = None,
    saved: str = "",
) -> dict[str, Any]:
    """Everything the workspace shows for one case; `bound` replaces blank forms after a failure."""
    user = request.user
    now = clock()
    can_work = may(getattr(user, "role", ""), "work_case") and case.owner_id == user.pk
    live = case.status != CaseStatus.CLOSED
    call = _call_ctx(request, case)
    form = _forms(case, call["obj"] if call else None, bound or {})
    assessments = list(case.assessments.all())  # newest first
    cssrs = [a for a in assessments if a.instrument == CSSRS_SCREENER]
    context = [a for a in assessments if a.instrument == CONTEXT_SCREEN]
    latest = _result_ctx(cssrs[0]) if cssrs else None
    plans = list(case.safety_plans.all())
    follow_ups = list(case.follow_ups.all())
    pending_consents = {f.consent_id for f in follow_ups if f.status == "pending"}
    saved_section, saved_text = SAVED.get(saved, ("", ""))
    high_risk = latest is not None and latest["level"] == RiskLevel.HIGH
    return {
        "case": case,
        "owner": name_of(case.owner),
        "status_text": w.words(w.CASE_STATUS_TEXT, case.status),
        "origin_text": "911 transfer" if case.origin == "transfer" else "Callback",
        "disposition_text": w.words(w.DISPOSITION_TEXT, case.disposition) if case.disposition else "",
        "can_work": can_work,
        "can_review_audit": may(getattr(user, "role", ""), "review_audit"),
        "editable": can_work and live,
        "live": live,
        "call": call,
        "people": [_person_ctx(request, p, case.pk) for p in case.participants.all()],
        "concerns": [w.words(w.CONCERN_TEXT, c) for c in sorted(case.concerns())],
        "cssrs": {
            "latest": latest,
            "earlier": [_result_ctx(a) for a in cssrs[1:]],
            "rows": instrument_rows(get_instrument(CSSRS_SCREENER), form["cssrs"], "cssrs"),
            "instrument": get_instrument(CSSRS_SCREENER),
        },
        "context": {
            "latest": _result_ctx(context[0]) if context else None,
            "rows": instrument_rows(get_instrument(CONTEXT_SCREEN), form["context"], "context"),
            "instrument": get_instrument(CONTEXT_SCREEN),
        },
        "plan": {
            "latest": plans[0] if plans else None,
            "problems": [
                w.words(w.SAFETY_PLAN_PROBLEM_TEXT, p) for p in safety_plan_problems(plans[0].values)
            ]
            if plans
            else [],
            "fields": [(key, label, form["safety_plan"][key]) for key, label in SAFETY_PLAN_FIELDS],
            "needed": latest is not None and latest["level"] in (RiskLevel.HIGH, RiskLevel.MODERATE),
        },
        "escalation": {
            "rows": escalation_rows_for_case(list(case.escalations.all()), now),
            "urgent": high_risk and case.status == CaseStatus.OPEN,
            "waiting": any(e.acknowledged_at is None for e in case.escalations.all()),
            "can_escalate": can_work and case.status == CaseStatus.OPEN,
            "declined_at": case.escalation_offer_declined_at,
            "responders": forms.EscalateForm.RESPONDERS,
        },
        "notes": [
            {"obj": n, "kind": w.words(w.NOTE_KIND_TEXT, n.kind), "author": name_of(n.author)}
            for n in case.notes.all()
        ],
        "consents": [
            {
                "obj": c,
                "relation": w.words(w.RELATION_TEXT, c.relation),
                "method": w.words(w.CONSENT_METHOD_TEXT, c.method),
                "channel": w.words(w.CHANNEL_TEXT, c.channel),
                "can_schedule": can_work and c.withdrawn_at is None and c.pk not in pending_consents,
                "planned": c.pk in pending_consents,
            }
            for c in case.consents.all()
        ],
        "follow_ups": _follow_up_rows(follow_ups),
        "callbacks": _follow_up_rows(
            cq.callback_follow_ups_for_call(user, case.call_id)
            if case.origin == "callback" and case.call_id
            else []
        ),
        "referrals": _referral_panel(request, case, can_work=can_work, bound=(bound or {}).get("referrals")),
        "part2": _part2_panel(request, case, can_work=can_work, live=live, bound=bound or {}),
        "dispositions": DISPOSITIONS,
        "form": form,
        "problem": problem or {},
        "saved_section": saved_section,
        "saved_text": saved_text,
    }


def _referral_panel(request: HttpRequest, case: Any, **kwargs: Any) -> dict[str, Any]:
    """The referrals panel (web/views/referrals.py builds it; imported here to keep the import one-way)."""
    from crisisdesk.web.views.referrals import referral_panel

    return referral_panel(request, case, **kwargs)


def _part2_panel(request: HttpRequest, case: Any, **kwargs: Any) -> dict[str, Any]:
    """Disclosure consents and ledger (web/views/disclosures.py; imported here, one-way as above)."""
    from crisisdesk.web.views.disclosures import part2_panel

    return part2_panel(request, case, **kwargs)


def _follow_up_rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "obj": f,
            "kind": w.words(w.FOLLOW_UP_KIND_TEXT, f.kind),
            "status": w.words(w.FOLLOW_UP_STATUS_TEXT, f.status),
            "attempts": [
                {"obj": a, "outcome": w.words(w.ATTEMPT_OUTCOME_TEXT, a.outcome)} for a in f.attempts.all()
            ],
        }
        for f in rows
    ]


def render_workspace(
    request: HttpRequest,
    case_id: int,
    status: int = 200,
    *,
    bound: dict[str, Any] | None = None,
    problem: dict[str, Any] | None = None,
    saved: str = "",
) -> HttpResponse:
    case = cq.get_case(request.user, case_id)
    ctx = workspace_ctx(request, case, bound=bound, problem=problem, saved=saved)
    response = render(request, "web/case_workspace.html", base_ctx(request, **ctx), status=status)
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


@require_GET
@role_page("view_cases")
def case_workspace(request: HttpRequest, case_id: int) -> HttpResponse:
    """One screen for the case (read-only for a supervisor and for social workers who do not own it)."""
    return render_workspace(request, case_id, saved=request.GET.get("saved", ""))


@require_GET
@role_page("view_cases")
def case_escalations_live(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case's escalations, polled while one waits for a telecommunicator's acknowledgement."""
    cq.get_case(request.user, case_id)  # 404 for a case that is not there
    rows = escalation_rows_for_case(cq.escalations_for_case(request.user, case_id), clock())
    if any(r["waiting"] is not None for r in rows):
        return poll(request, "web/_case_escalations.html", {"rows": rows})
    # Everything acknowledged: show it, and stop polling (htmx stops on 286).
    html = render_to_string("web/_case_escalations.html", {"rows": rows}, request=request)
    return HttpResponse(html.replace("__POLL_V__", ""), status=286)


# --- my cases and new callback cases ------------------------------------------------------------


def _case_list_ctx(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [
        {
            "obj": c,
            "status_text": w.words(w.CASE_STATUS_TEXT, c.status),
            "disposition": w.words(w.DISPOSITION_TEXT, c.disposition) if c.disposition else "",
        }
        for c in cq.my_cases(request.user, live_only=False)
    ]
    extra.setdefault("new_form", forms.NewCaseForm())
    return base_ctx(
        request,
        live=[r for r in rows if r["obj"].status != CaseStatus.CLOSED],
        closed=[r for r in rows if r["obj"].status == CaseStatus.CLOSED][:20],
        **extra,
    )


@require_GET
@role_page("work_case")
def my_cases(request: HttpRequest) -> HttpResponse:
    """The social worker's cases: live ones first, then the recently closed (20 at most)."""
    return render(request, "web/case_list.html", _case_list_ctx(request))


@require_POST
@role_page("work_case")
def case_new(request: HttpRequest) -> HttpResponse:
    """Open a case by hand to call someone back (a person who rang back, a callback next shift)."""
    form = forms.NewCaseForm(request.POST)
    if not form.is_valid():
        ctx = _case_list_ctx(request, new_form=form, error="Check the note.")
        return render(request, "web/case_list.html", ctx, status=422)
    try:
        case = cs.open_callback_case(request.user, note=form.cleaned_data["note"])
    except ServiceError as exc:
        ctx = _case_list_ctx(request, new_form=form, error=exc.message)
        return render(request, "web/case_list.html", ctx, status=exc.status)
    return redirect("case_workspace", case_id=case.pk)
