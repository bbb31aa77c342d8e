"""The supervisor's privacy review: who read or changed a person's records between two dates.

For a suspected browsing breach (Minn. Stat. 13.055: access without a work assignment that needs it)
or an individual's request. The person is found by a case number (its people) or a person number;
the list comes from the audit trail (`crisisdesk.audit.queries.who_viewed_person`), and running the
review is itself an audit row.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crisisdesk.audit.queries import who_viewed_person
from crisisdesk.casework.models import CaseParticipant
from crisisdesk.web.views.common import base_ctx, role_page


def _day(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


@require_GET
@role_page("review_audit")
def privacy_review(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    start = _day(request.GET.get("from", ""), today - timedelta(days=30))
    end = _day(request.GET.get("to", ""), today)
    person_text = request.GET.get("person", "").strip()
    case_text = request.GET.get("case", "").strip()
    people: list[int] = []
    error = ""
    if person_text.isdigit():
        people = [int(person_text)]
    elif case_text.isdigit():
        people = list(
            CaseParticipant.objects.filter(case_id=int(case_text))
            .values_list("person_id", flat=True)
            .distinct()
        )
        if not people:
            error = f"Case {case_text} has no people recorded (or does not exist)."
    elif person_text or case_text:
        error = "A case or person number is digits only."
    results: list[dict[str, Any]] = []
    if start > end:
        error = "The first day is after the last day."
    elif people:
        lo = timezone.make_aware(datetime.combine(start, time()))
        hi = timezone.make_aware(datetime.combine(end + timedelta(days=1), time()))
        for person_id in people:
            rows = who_viewed_person(request.user, person_id, lo, hi)
            results.append(
                {
                    "person_id": person_id,
                    "rows": rows,
                    "viewers": sorted({r["actor__username"] or "(system)" for r in rows}),
                }
            )
    ctx = base_ctx(
        request,
        start=start,
        end=end,
        person=person_text,
        case=case_text,
        results=results,
        error=error,
        searched=bool(people),
    )
    return render(request, "web/privacy_review.html", ctx)
