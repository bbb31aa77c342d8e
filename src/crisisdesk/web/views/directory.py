"""Directory pages: search (from the menu or from a case) and the administrators' maintenance screens.

Search is a GET form (bookmarkable; htmx swaps only the results list, a plain submit works without
script). `?case=<id>` opens it from a case: the call's coordinates, the case language and needs
matching the case's concerns are filled in; the id travels with the form so that the referral
button (web/_directory_result_actions.html) knows the case. Results show addresses and hours first,
then phones, languages, eligibility, why the result matched, how stale it is and a SAMPLE DATA
badge on invented listings.

Maintenance (role `maintain_directory`): the stale listings (not verified within
DIRECTORY_STALE_DAYS days) with "verified today" stamps, an edit page for basic fields, needs and
access modes, and the per-record rejection report of each import.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisisdesk.calls.errors import NotFound, ServiceError
from crisisdesk.casework import queries as case_queries
from crisisdesk.directory import queries
from crisisdesk.directory.models import Service
from crisisdesk.directory.search import ACCESS_LABELS, INSURANCE_LABELS, SearchParams
from crisisdesk.directory.services import maintenance
from crisisdesk.directory.vocab import GENDER_VALUES, LANGUAGES, NEED_LABELS, Need, TagKind
from crisisdesk.domain.roles import may
from crisisdesk.web.views.common import base_ctx, role_page, wants_partial

# A case's concerns suggest these needs when the search is opened from the case.
CONCERN_NEEDS = {
    "mental_health": Need.MENTAL_HEALTH_CARE,
    "substance_use": Need.ADDICTION_TREATMENT,
    "other_crisis": Need.CRISIS_SERVICES,
}
WHEN = [("any", "Any time"), ("now", "Open now"), ("at", "Open at…")]


def clock() -> datetime:
    """The pages' clock (a test may replace it)."""
    return timezone.now()


def _choices(pairs: dict[str, str], blank: str = "Any") -> list[tuple[str, str]]:
    return [("", blank), *pairs.items()]


class SearchForm(forms.Form):
    need = forms.MultipleChoiceField(
        choices=list(NEED_LABELS.items()), required=False, widget=forms.CheckboxSelectMultiple, label="Needs"
    )
    when = forms.ChoiceField(choices=WHEN, required=False, label="Open")
    at = forms.DateTimeField(
        required=False, label="Date and time", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    language = forms.ChoiceField(choices=_choices(LANGUAGES), required=False)
    age = forms.IntegerField(required=False, min_value=0, max_value=130)
    insurance = forms.ChoiceField(choices=_choices(INSURANCE_LABELS), required=False)
    gender = forms.ChoiceField(choices=_choices({g: g.title() for g in GENDER_VALUES}), required=False)
    county = forms.CharField(required=False, max_length=64, label="Lives in county")
    city = forms.CharField(required=False, max_length=64, label="Lives in city")
    access = forms.ChoiceField(
        choices=_choices(ACCESS_LABELS), required=False, label="Walk-in or appointment"
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, label="Latitude")
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, label="Longitude")
    within_km = forms.FloatField(required=False, min_value=0.1, max_value=500, label="Within km")
    q = forms.CharField(required=False, max_length=100, label="Words")
    case = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("when") == "at" and not data.get("at"):
            self.add_error("at", "Give the date and time to check.")
        if (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error("lng", "Give both latitude and longitude, or neither.")
        if data.get("within_km") is not None and data.get("lat") is None:
            self.add_error("within_km", "A distance needs a point: give latitude and longitude.")
        return data

    def params(self, now: datetime) -> SearchParams:
        d = self.cleaned_data
        open_at = now if d.get("when") == "now" else d.get("at") if d.get("when") == "at" else None
        near = (d["lat"], d["lng"]) if d.get("lat") is not None and d.get("lng") is not None else None
        return SearchParams(
            needs=tuple(d.get("need") or ()),
            open_at=open_at,
            at=open_at or now,
            language=d.get("language") or "",
            age=d.get("age"),
            insurance=d.get("insurance") or "",
            gender=d.get("gender") or "",
            county=d.get("county") or "",
            city=d.get("city") or "",
            access=d.get("access") or "",
            near=near,
            within_km=d.get("within_km"),
            text=(d.get("q") or "").strip(),
        )


def _from_case(request: HttpRequest, case_id: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Initial values from a case (call location, language, concerns); NotFound when not visible."""
    case = case_queries.get_case(request.user, case_id)
    initial: dict[str, Any] = {"case": case.pk}
    call = case.call
    if call is not None and call.latitude is not None and call.longitude is not None:
        initial.update(lat=call.latitude, lng=call.longitude, within_km=10)
    code = next((c for c, name in LANGUAGES.items() if name.lower() == (case.language or "").lower()), "")
    if code:
        initial["language"] = code
    needs = [CONCERN_NEEDS[c].value for c in sorted(case.concerns()) if c in CONCERN_NEEDS]
    if needs:
        initial["need"] = needs
    info = {"id": case.pk, "address": call.address if call is not None else "", "language": case.language}
    return initial, info


@require_GET
@role_page("search_directory")
def directory_search(request: HttpRequest) -> HttpResponse:
    now = clock()
    case_info = None
    data = request.GET.copy()
    case_param = request.GET.get("case", "")
    if case_param:
        try:
            initial, case_info = _from_case(request, int(case_param))
        except (ValueError, NotFound):
            raise NotFound("no such case") from None
        if len(data) == 1:  # opened from a case: prefill from it, then search
            data = _as_query(initial)
    form = SearchForm(data or None)
    result, status = None, 200
    if form.is_bound:
        if form.is_valid():
            result = queries.search_directory(request.user, form.params(now), now=now)
        else:
            status = 422
    ctx = base_ctx(
        request,
        form=form,
        result=result,
        case=case_info,
        case_id=case_info["id"] if case_info else None,
        stale_days=settings.DIRECTORY_STALE_DAYS,
        may_maintain=may(getattr(request.user, "role", ""), "maintain_directory"),
        now=now,
    )
    template = "web/directory_results.html" if wants_partial(request) else "web/directory_search.html"
    return render(request, template, ctx, status=status)


def _as_query(initial: dict[str, Any]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in initial.items():
        if isinstance(value, list):
            query.setlist(key, [str(v) for v in value])
        else:
            query[key] = str(value)
    return query


# --- maintenance --------------------------------------------------------------------------------


@require_GET
@role_page("maintain_directory")
def directory_maintain(request: HttpRequest) -> HttpResponse:
    now = clock()
    text = request.GET.get("q", "").strip()[:100]
    stale = list(queries.stale_services(request.user, now=now)[:200])
    listing = list(queries.all_services(request.user, text)[:200]) if text else []
    ctx = base_ctx(
        request,
        stale=[_row(s, now) for s in stale],
        found=[_row(s, now) for s in listing],
        q=text,
        imports=queries.recent_imports(request.user),
        stale_days=settings.DIRECTORY_STALE_DAYS,
    )
    return render(request, "web/directory_maintain.html", ctx)


def _row(service: Service, now: datetime) -> dict[str, Any]:
    verified = service.last_verified_at
    days = (timezone.localdate(now) - timezone.localdate(verified)).days if verified else None
    return {"obj": service, "days": days, "stale": days is None or days > settings.DIRECTORY_STALE_DAYS}


@require_POST
@role_page("maintain_directory")
def directory_verify(request: HttpRequest) -> HttpResponse:
    try:
        ids = [int(x) for x in request.POST.getlist("service")]
    except ValueError:
        ids = []
    if not ids:
        messages.warning(request, "Choose at least one listing to stamp as verified.")
        return redirect("directory_maintain")
    try:
        count = maintenance.stamp_verified(request.user, ids, now=clock())
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("directory_maintain")
    messages.success(request, f"{count} listing(s) stamped as verified today.")
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("directory_maintain")


class EditForm(forms.Form):
    name = forms.CharField(max_length=255)
    status = forms.ChoiceField(choices=Service.Status.choices)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    eligibility_description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Eligibility"
    )
    application_process = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="How to apply"
    )
    minimum_age = forms.IntegerField(required=False, min_value=0, max_value=130)
    maximum_age = forms.IntegerField(required=False, min_value=0, max_value=130)
    alert = forms.CharField(required=False, max_length=500, label="Alert shown with the listing")
    needs = forms.MultipleChoiceField(
        choices=list(NEED_LABELS.items()), required=False, widget=forms.CheckboxSelectMultiple
    )
    access = forms.MultipleChoiceField(
        choices=list(ACCESS_LABELS.items()), required=False, widget=forms.CheckboxSelectMultiple
    )


@require_http_methods(["GET", "POST"])
@role_page("maintain_directory")
def directory_edit(request: HttpRequest, service_id: int) -> HttpResponse:
    service = queries.get_service(request.user, service_id)
    status = 200
    if request.method == "POST":
        form = EditForm(request.POST)
        if form.is_valid():
            try:
                maintenance.edit_service(request.user, service.pk, dict(form.cleaned_data), now=clock())
            except ServiceError as exc:
                form.add_error(exc.details.get("errors", [{}])[0].get("field") or None, exc.message)
                status = exc.status
            else:
                messages.success(request, "Listing saved.")
                return redirect("directory_edit", service_id=service.pk)
        else:
            status = 422
    else:
        form = EditForm(
            initial={
                **{
                    f: getattr(service, f)
                    for f in ("name", "status", "description", "eligibility_description")
                },
                "application_process": service.application_process,
                "alert": service.alert,
                "minimum_age": service.minimum_age,
                "maximum_age": service.maximum_age,
                "needs": queries.service_tags(service, TagKind.NEED),
                "access": queries.service_tags(service, TagKind.ACCESS),
            }
        )
    ctx = base_ctx(request, form=form, service=service, row=_row(service, clock()), page="directory_maintain")
    return render(request, "web/directory_edit.html", ctx, status=status)


@require_GET
@role_page("maintain_directory")
def directory_import_run(request: HttpRequest, run_id: int) -> HttpResponse:
    run, rejections = queries.import_rejections(request.user, run_id)
    ctx = base_ctx(request, run=run, rejections=rejections, page="directory_maintain")
    return render(request, "web/directory_import.html", ctx)
