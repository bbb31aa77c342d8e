"""Referral pages: the panel inside the case workspace, the refer page, the tracker, the FHIR download.

- The refer page (`/referrals/new/?case=<id>&service=<id>`) is what "Refer" on a directory search
  result opens: it shows the service, asks for the person's consent to be referred there when the
  case has none in force (who, how, the number to be contacted on), and refers and sends in one step.
- The panel (`web/_case_referrals.html`, in the case workspace) lists the case's referrals with
  their history, and lets the social worker who has the case record what the agency said (manual
  mode: the words, who, when, on which channel), a warm handoff, or withdraw the referral.
- The tracker (`/referrals/`): a social worker's referrals by status with their follow-up checks,
  overdue first; a supervisor sees everyone's.
- `/referrals/<id>/fhir.json`: the referral as a FHIR R4 Bundle (Gravity SDOH Clinical Care), for a
  partner whose system takes FHIR; every download is audited.

Forms post, then redirect back to the referral in the workspace; an expected failure re-renders the
workspace with the problem in the referrals section and the status of DESIGN.md §3.10 (403 another
social worker's case, 404 not visible, 409 the referral changed or consent was withdrawn, 422 input).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisisdesk.calls.errors import NotFound, ServiceError
from crisisdesk.calls.services import InvalidInput
from crisisdesk.casework import queries as cq
from crisisdesk.casework.models import Case
from crisisdesk.directory import queries as dq
from crisisdesk.domain.cases import LIVE
from crisisdesk.domain.followups import WorklistState
from crisisdesk.domain.referrals import (
    AGENCY_ACTIONS,
    WARM_HANDOFF_STATES,
    InvalidReferralTransition,
    ReferralAction,
    ReferralStatus,
    allowed_actions,
    suggest_need,
)
from crisisdesk.domain.roles import may
from crisisdesk.referrals import forms as rf
from crisisdesk.referrals import queries as rq
from crisisdesk.referrals import services as rs
from crisisdesk.referrals.models import Referral
from crisisdesk.web.views.casework import clock, render_workspace
from crisisdesk.web.views.common import base_ctx, name_of, page_error, role_page

STATUS_TEXT = {
    ReferralStatus.DRAFT: ("Draft: not sent", "muted"),
    ReferralStatus.REQUESTED: ("Sent: waiting for the agency", "warn"),
    ReferralStatus.ACCEPTED: ("Accepted by the agency", "ok"),
    ReferralStatus.REJECTED: ("Rejected by the agency", "stop"),
    ReferralStatus.IN_PROGRESS: ("Service in progress", "ok"),
    ReferralStatus.COMPLETED: ("Completed", "ok"),
    ReferralStatus.FAILED: ("Did not work out", "stop"),
    ReferralStatus.CANCELLED: ("Withdrawn", "muted"),
}
EVENT_TEXT = {
    "created": "Referral written",
    "sent": "Sent to the agency",
    "accepted": "The agency accepted",
    "rejected": "The agency rejected",
    "started": "Service started",
    "completed": "Completed",
    "failed": "Did not work out",
    "cancelled": "Withdrawn",
    "warm_handoff": "Warm handoff (three-way call)",
}
CHECK_TEXT = {
    WorklistState.UPCOMING: "check not yet on the list",
    WorklistState.DUE: "check due by",
    WorklistState.OVERDUE: "check overdue since",
    WorklistState.DONE: "check done",
}
SAVED = {
    "referral_sent": "Referred and sent: the follow-up check is on your worklist.",
    "referral_report": "Recorded.",
    "referral_handoff": "Warm handoff recorded.",
    "referral_cancelled": "Referral withdrawn; its follow-up check is cancelled.",
}
DIRECTORY_SEARCH = "directory_search"  # the directory page's URL name (web/urls_directory.py)


def words(table: dict[Any, str], code: str) -> str:
    return table.get(code, code.replace("_", " "))


# --- the panel in the case workspace ----------------------------------------------------------------


def directory_link(case: Case) -> str:
    """The directory search opened from the case: it fills in the call's place, the language and the
    needs matching the case's concerns; its "Refer" buttons come back to this case."""
    try:
        url = reverse(DIRECTORY_SEARCH)
    except NoReverseMatch:  # the directory pages are not installed
        return ""
    return f"{url}?{urlencode({'case': case.pk})}"


def referral_panel(
    request: HttpRequest, case: Case, *, can_work: bool, bound: dict[Any, Any] | None = None
) -> dict[str, Any]:
    """Everything `_case_referrals.html` shows; `bound` holds forms as typed after a failure, keyed
    ("report" | "cancel" | "handoff", referral id)."""
    user = request.user
    if not may(getattr(user, "role", ""), "view_referrals"):
        return {"visible": False}
    bound = bound or {}
    now = clock()
    rows = []
    for referral in rq.referrals_for_case(user, case.pk):
        rows.append(_row(referral, can_work=can_work, bound=bound, now=now))
    saved = request.GET.get("saved", "")
    saved_id = request.GET.get("ref", "")
    return {
        "visible": True,
        "rows": rows,
        "find_url": directory_link(case) if can_work and case.status in LIVE else "",
        "saved_text": SAVED.get(saved, ""),
        "saved_id": int(saved_id) if saved_id.isdigit() else None,
    }


def _row(referral: Referral, *, can_work: bool, bound: dict[Any, Any], now: Any) -> dict[str, Any]:
    status = ReferralStatus(referral.status)
    label, tone = STATUS_TEXT[status]
    reportable = [a.value for a in allowed_actions(status) if a in AGENCY_ACTIONS]
    pk = referral.pk
    check = rq.check_state(referral, now)
    return {
        "obj": referral,
        "status_text": label,
        "tone": tone,
        "need": words(rf.NEED_TEXT, referral.need),
        "mode": referral.mode,
        "events": [
            {
                "obj": e,
                "text": words(EVENT_TEXT, e.kind),
                "channel": words(rf.CHANNEL_TEXT, e.channel) if e.channel else "",
                "by": name_of(e.recorded_by),
                "late": (e.recorded_at - e.occurred_at).total_seconds() > 300,
                "handoff": words(rf.HANDOFF_TEXT, e.handoff_outcome) if e.handoff_outcome else "",
            }
            for e in referral.events.all()
        ],
        "check": (
            {
                "state": check.state.value,
                "text": CHECK_TEXT[check.state],
                "due_by": check.due_by,
                "id": check.follow_up.pk,
            }
            if check
            else None
        ),  # fmt: skip
        "can_report": can_work and bool(reportable),
        "can_send": can_work and status is ReferralStatus.DRAFT,
        "can_cancel": can_work and ReferralAction.CANCEL in allowed_actions(status),
        "can_handoff": can_work and status in WARM_HANDOFF_STATES,
        "report_form": bound.get(("report", pk)) or report_form(referral),
        "cancel_form": bound.get(("cancel", pk)) or rf.CancelForm(auto_id=f"ref{pk}-cancel-%s"),
        "handoff_form": bound.get(("handoff", pk)) or rf.WarmHandoffForm(auto_id=f"ref{pk}-handoff-%s"),
    }


def report_form(referral: Referral, data: Any = None) -> rf.ReportForm:
    actions = [a.value for a in allowed_actions(referral.status) if a in AGENCY_ACTIONS]
    channel = "partner_system" if referral.mode == "electronic" else "phone"
    initial = {"action": actions[0] if actions else "", "channel": channel}
    return rf.ReportForm(actions, data, initial=initial, auto_id=f"ref{referral.pk}-%s")


# --- posting to a referral -----------------------------------------------------------------------------


def _load(request: HttpRequest, referral_id: int) -> Referral:
    """The referral (404 when not visible); the service refuses other social workers' cases (403)."""
    return rq.get_referral(request.user, referral_id)


def _back(referral: Referral, saved: str) -> HttpResponse:
    url = reverse("case_workspace", args=[referral.case_id])
    query = urlencode({"saved": saved, "ref": referral.pk})
    return HttpResponseRedirect(f"{url}?{query}#referral-{referral.pk}")


def _again(
    request: HttpRequest,
    referral: Referral,
    status: int,
    message: str,
    reasons: list[str],
    bound: dict[Any, Any],
) -> HttpResponse:
    problem = {"section": "referrals", "message": message, "reasons": reasons, "referral_id": referral.pk}
    return render_workspace(request, referral.case_id, status, bound={"referrals": bound}, problem=problem)


def _form_errors(form: Any) -> list[str]:
    return [
        f"{form.fields[name].label}: {e}" if name in form.fields else str(e)
        for name, errors in form.errors.items()
        for e in errors
    ]


def _post(
    request: HttpRequest, referral: Referral, key: str, form: Any, act: Any, saved: str
) -> HttpResponse:
    """Validate, run one service call, redirect; or the workspace with the problem (status code).

    `form` None: an action without fields (sending a draft)."""
    bound = {(key, referral.pk): form} if form is not None else {}
    if form is not None and not form.is_valid():
        return _again(request, referral, 422, "Check the fields marked below.", _form_errors(form), bound)
    try:
        act(form.cleaned_data if form is not None else {})
    except InvalidReferralTransition as exc:
        message = f"The referral is already {exc.status.value.replace('_', ' ')}: it changed meanwhile."
        return _again(request, referral, 409, message, [], bound)
    except InvalidInput as exc:
        left = []
        for error in exc.errors:
            field, reason = str(error.get("field", "")), str(error.get("reason", ""))
            if form is not None and field in form.fields:
                form.add_error(field, reason)
            else:
                left.append(reason)
        return _again(request, referral, 422, "Check the fields marked below.", left, bound)
    except ServiceError as exc:
        message = exc.message[:1].upper() + exc.message[1:] + "."
        return _again(request, referral, exc.status, message, [], bound)
    return _back(referral, saved)


@require_POST
@role_page("make_referral")
def referral_report(request: HttpRequest, referral_id: int) -> HttpResponse:
    """What the agency (or the person) reported: accepted, rejected, started, completed, did not work out."""
    referral = _load(request, referral_id)
    form = report_form(referral, request.POST)

    def act(data: dict[str, Any]) -> None:
        action = ReferralAction(data["action"])
        report = {
            "said": data["said"], "said_by": data["said_by"], "channel": data["channel"],
            "occurred_at": data["occurred_at"], "reason": data["reason"],
        }  # fmt: skip
        if action in (ReferralAction.ACCEPT, ReferralAction.REJECT):
            rs.record_agency_response(
                request.user, referral.pk, accepted=action is ReferralAction.ACCEPT, **report
            )
        else:
            {"start": rs.start_referral, "complete": rs.complete_referral, "fail": rs.fail_referral}[
                action.value
            ](request.user, referral.pk, **report)

    return _post(request, referral, "report", form, act, "referral_report")


@require_POST
@role_page("make_referral")
def referral_cancel(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = _load(request, referral_id)
    form = rf.CancelForm(request.POST, auto_id=f"ref{referral.pk}-cancel-%s")
    return _post(
        request, referral, "cancel", form,
        lambda data: rs.cancel_referral(request.user, referral.pk, data["reason"]), "referral_cancelled",
    )  # fmt: skip


@require_POST
@role_page("make_referral")
def referral_send(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Send a draft (a referral written but not sent)."""
    referral = _load(request, referral_id)
    return _post(
        request,
        referral,
        "send",
        None,
        lambda data: rs.send_referral(request.user, referral.pk),
        "referral_sent",
    )


@require_POST
@role_page("make_referral")
def referral_warm_handoff(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = _load(request, referral_id)
    form = rf.WarmHandoffForm(request.POST, auto_id=f"ref{referral.pk}-handoff-%s")

    def act(data: dict[str, Any]) -> None:
        rs.record_warm_handoff(request.user, referral.pk, **data)

    return _post(request, referral, "handoff", form, act, "referral_handoff")


# --- the refer page -----------------------------------------------------------------------------------


def _refer_ctx(
    request: HttpRequest, case: Case, service: Any, *, consent_form: Any, refer_form: Any, **extra: Any
) -> dict[str, Any]:
    return base_ctx(
        request,
        case=case,
        service=service,
        organization=service.organization,
        consent=rq.consent_in_force(request.user, case.pk, service.pk),
        consent_form=consent_form,
        refer_form=refer_form,
        back_url=_local(request.GET.get("back", "")),
        **extra,
    )


def _local(url: str) -> str:
    """A link back to a page of this site (the search the social worker came from), nothing else."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else ""


def _people(case: Case) -> list[tuple[str, str]]:
    return [(str(p.person_id), p.person.display_name()) for p in case.participants.all()]


def _shareable(request: HttpRequest, case: Case) -> list[tuple[str, str]]:
    """The case items the social worker may tick to share, in words, Part 2 ones marked."""
    out = []
    for item in cq.shareable_items(request.user, case.pk):
        excerpt = item.text if len(item.text) <= 80 else item.text[:79] + "\u2026"
        out.append((item.key, f"{item.label}: {excerpt}" + (" [Part 2]" if item.part2 else "")))
    return out


def _refer_page(request: HttpRequest, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, "web/referral_new.html", ctx, status=status)
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


@require_http_methods(["GET", "POST"])
@role_page("make_referral")
def referral_new(request: HttpRequest) -> HttpResponse:
    """Refer the case's person to a service found in the directory, with their consent."""
    case_id, service_id = request.GET.get("case", ""), request.GET.get("service", "")
    if not (case_id.isdigit() and service_id.isdigit()):
        raise NotFound("say which case and which service")
    case = cq.get_case(request.user, int(case_id))
    if case.owner_id != request.user.pk:
        return page_error(
            request, 403, "Not your case", "Only the social worker who has the case can refer from it."
        )
    service = dq.get_service(request.user, int(service_id))
    people = _people(case)
    query = request.GET.get("q", "")
    if request.method == "GET":
        participants = list(case.participants.all())
        phone = participants[0].person.phone_raw if participants else ""
        initial_consent = {
            "given_by": people[0][1] if people else "",
            "relation": "person_in_crisis",
            "method": "verbal_on_call",
            "contact": phone or (case.call.caller_phone if case.call else ""),
            "agency_may_contact": True,
        }
        tags = " ".join(service.tags.filter(kind="need").values_list("value", flat=True))
        initial = {
            "person_id": people[0][0] if people else "",
            "need": suggest_need(query, tags.replace("_", " "), service.name).value,
            "mode": "manual",
            "priority": "routine",
        }
        ctx = _refer_ctx(
            request, case, service, consent_form=rf.ReferralConsentForm(initial=initial_consent),
            refer_form=rf.ReferForm(people, initial=initial, shareable=_shareable(request, case)), query=query,
        )  # fmt: skip
        return _refer_page(request, ctx)
    return _refer_post(request, case, service, people, query)


def _refer_post(
    request: HttpRequest, case: Case, service: Any, people: list[tuple[str, str]], query: str
) -> HttpResponse:
    consent = rq.consent_in_force(request.user, case.pk, service.pk)
    consent_form = rf.ReferralConsentForm(request.POST) if consent is None else None
    refer_form = rf.ReferForm(people, request.POST, shareable=_shareable(request, case))

    def again(status: int, message: str, reasons: list[str] | None = None) -> HttpResponse:
        ctx = _refer_ctx(
            request, case, service, consent_form=consent_form, refer_form=refer_form, query=query,
            problem={"message": message, "reasons": reasons or []},
        )  # fmt: skip
        return _refer_page(request, ctx, status)

    valid = refer_form.is_valid()
    valid = (consent_form is None or consent_form.is_valid()) and valid
    if not valid:
        return again(422, "Check the fields marked below.")
    data = refer_form.cleaned_data
    try:
        if consent is None:
            assert consent_form is not None
            c = consent_form.cleaned_data
            consent = rs.record_referral_consent(
                request.user, case.pk, service.pk, given_by=c["given_by"], relation=c["relation"],
                method=c["method"], contact=c["contact"], agency_may_contact=c["agency_may_contact"],
                person_id=data["person_id"],
            )  # fmt: skip
        referral = rs.refer(
            request.user, case.pk, service.pk, consent.pk, need=data["need"], mode=data["mode"],
            priority=data["priority"], request_text=data["request_text"], person_id=data["person_id"],
            request_text_part2=data["request_text_part2"], shared_items=data["shared_items"],
        )  # fmt: skip
    except InvalidInput as exc:
        left = []
        for error in exc.errors:
            field = str(error.get("field", ""))
            target = refer_form if field in refer_form.fields else consent_form
            if target is not None and field in target.fields:
                target.add_error(field, str(error.get("reason", "")))
            else:
                left.append(f"{field.replace('_', ' ')}: {error.get('reason', '')}")
        return again(422, "Check the fields marked below.", left)
    except ServiceError as exc:
        return again(exc.status, exc.message[:1].upper() + exc.message[1:] + ".")
    return _back(referral, "referral_sent")


# --- the tracker and the FHIR download ------------------------------------------------------------------


def tracker_row(row: rq.TrackerRow) -> dict[str, Any]:
    r = row.referral
    label, tone = STATUS_TEXT[ReferralStatus(r.status)]
    return {
        "obj": r,
        "status_text": label,
        "tone": tone,
        "need": words(rf.NEED_TEXT, r.need),
        "person": r.person.display_name() if r.person_id and r.person else "",
        "check": (
            {"state": row.check.state.value, "text": CHECK_TEXT[row.check.state], "due_by": row.check.due_by}
            if row.check
            else None
        ),
    }


GROUPS = (
    ("waiting", "Sent, waiting for the agency", (ReferralStatus.REQUESTED,)),
    ("accepted", "Accepted or in progress", (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)),
    ("drafts", "Drafts (not sent)", (ReferralStatus.DRAFT,)),
    (
        "ended",
        "Ended in the last 30 days",
        (ReferralStatus.COMPLETED, ReferralStatus.REJECTED, ReferralStatus.FAILED, ReferralStatus.CANCELLED),
    ),
)


@require_GET
@role_page("view_referrals")
def referral_tracker(request: HttpRequest) -> HttpResponse:
    """My referrals by status, with the follow-up checks that are overdue or due (everyone's for a supervisor)."""
    everyone = not may(getattr(request.user, "role", ""), "make_referral")
    t = rq.tracker(request.user, clock(), everyone=everyone)
    groups = [
        {
            "key": key,
            "label": label,
            "rows": [tracker_row(row) for s in statuses for row in t.by_status[s.value]],
        }
        for key, label, statuses in GROUPS
    ]
    ctx = base_ctx(
        request,
        everyone=everyone,
        groups=groups,
        overdue=[tracker_row(r) for r in t.overdue_checks],
        due=[tracker_row(r) for r in t.due_checks],
        counts=t.counts,
        now=clock(),
    )
    response = render(request, "web/referral_tracker.html", ctx)
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


@require_GET
@role_page("view_referrals")
def referral_fhir(request: HttpRequest, referral_id: int) -> HttpResponse:
    """The referral as a FHIR R4 transaction Bundle (SDOHCC profiles), as a download. Audited."""
    bundle = rs.export_referral(request.user, referral_id)
    response = HttpResponse(json.dumps(bundle, indent=2), content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="referral-{referral_id}.fhir.json"'
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


@require_GET
@role_page("view_referrals")
def referral_packet(request: HttpRequest, referral_id: int) -> HttpResponse:
    """The referral as text for the agency (fax, e-mail, read on the phone), through the 42 CFR
    Part 2 gate; every download is a disclosure in the ledger."""
    packet = rs.referral_packet(request.user, referral_id)
    response = HttpResponse(packet, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="referral-{referral_id}.txt"'
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response
