"""The program evaluation for supervisors and evaluators: measures, comparison group, charts, report.

Aggregates only: every number on these pages, in the report and in the CSV export goes through one
suppression (analytics.evaluation_published: counts of 1..10 withheld, plus the counts that would let
one be worked out); the charts are the same plotly specs as the monthly report's
(analytics.evaluation_charts), drawn by plotly.js served as a static file.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crisisdesk.analytics.charts import figure_spec
from crisisdesk.analytics.disclosure import LEGEND
from crisisdesk.analytics.evaluation import month_bounds
from crisisdesk.analytics.evaluation_charts import figures, measure_rows, repeat_rows
from crisisdesk.analytics.evaluation_published import publish
from crisisdesk.analytics.safe_harbor import ExportRefused, is_safe_harbor_grain
from crisisdesk.evaluation.report import evaluation_for, month_evaluation, write_report
from crisisdesk.evaluation.services import export_evaluation_csv
from crisisdesk.web.views.common import base_ctx, page_error, role_page

MAX_MONTHS = 24


def _month(value: str | None, now: datetime) -> tuple[int, int] | None:
    if not value:
        local = timezone.localtime(now)
        return local.year, local.month
    try:
        year, month = (int(p) for p in value.split("-"))
    except ValueError:
        return None
    return (year, month) if 1 <= month <= 12 and 2000 <= year <= 2100 else None


def _period(request: HttpRequest, now: datetime) -> tuple[datetime, datetime, int, int, int] | None:
    """[start, end) of `?month=YYYY-MM` (default this month) and the `?months=N` before it (default 6).

    Whole local months only: a free day range would let two exports be subtracted day by day.
    """
    ym = _month(request.GET.get("month"), now)
    try:
        months = int(request.GET.get("months", "6"))
    except ValueError:
        months = 0
    if ym is None or not 1 <= months <= MAX_MONTHS:
        return None
    year, month = ym
    tz = timezone.get_default_timezone()
    first_index = year * 12 + month - 1 - (months - 1)
    start, _ = month_bounds(first_index // 12, first_index % 12 + 1, tz)
    _, end = month_bounds(year, month, tz)
    return start, end, year, month, months


def _bad_period(request: HttpRequest) -> HttpResponse:
    return page_error(request, 422, "Not a period", f"Ask for ?month=YYYY-MM and ?months=1..{MAX_MONTHS}.")


@require_GET
@role_page("view_aggregates")
def program_evaluation(request: HttpRequest) -> HttpResponse:
    """`?month=YYYY-MM` (default this month) and `?months=N` (that many months ending there, default 6)."""
    now = timezone.now()
    period = _period(request, now)
    if period is None:
        return _bad_period(request)
    start, end, year, month, months = period
    ev = evaluation_for(start, end, as_of=now)
    pub = publish(ev)
    charts = [
        {"id": f"chart-{k}", "script_id": f"chart-{k}-spec", "spec": figure_spec(fig)}
        for k, fig in figures(ev, pub).items()
    ]
    return render(
        request,
        "web/program_evaluation.html",
        base_ctx(
            request,
            ev=ev,
            pub=pub,
            tiles={
                "calls": pub.shown(("funnel", "calls")),
                "in_scope": pub.shown(("funnel", "in_scope")),
                "answered": pub.shown(("funnel", "answered")),
                "resolved": pub.shown(("outcomes", "resolved_without_police_or_ems")),
                "escalations": pub.shown(("outcomes", "escalations")),
                "follow_ups_done": pub.shown(("follow_ups", "done")),
                "follow_ups_planned": pub.shown(("follow_ups", "planned")),
                "referrals_made": pub.shown(("referrals", "made")),
                "referrals_completed": pub.shown(("referrals", "completed")),
                "referrals_failed": pub.shown(("referrals", "failed")),
                "median_answer": pub.stats["median_seconds_to_answer"],
            },
            measures=measure_rows(pub),
            repeats=repeat_rows(ev, pub),
            comparison=pub.breakdown("comparison_group"),
            legend=LEGEND,
            charts=charts,
            month=f"{year:04d}-{month:02d}",
            months=months,
            period_end=timezone.localtime(end) - timedelta(days=1),
            grain=ev.grain,
            safe_harbor_grain=is_safe_harbor_grain(ev.grain),
        ),
    )


@require_GET
@role_page("view_aggregates")
def program_export(request: HttpRequest) -> HttpResponse:
    """The suppressed aggregates of the same period as CSV; every download is an audited disclosure."""
    now = timezone.now()
    period = _period(request, now)
    if period is None:
        return _bad_period(request)
    start, end, *_ = period
    try:
        export = export_evaluation_csv(request.user, start, end, now=now)
    except ExportRefused as exc:
        return page_error(request, 422, "Export refused", "; ".join(exc.problems))
    response = HttpResponse(export.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@require_GET
@role_page("view_aggregates")
def program_report(request: HttpRequest, kind: str) -> HttpResponse:
    """The monthly City + County report of `?month=YYYY-MM` as HTML or PDF (made on request)."""
    ym = _month(request.GET.get("month"), timezone.now())
    if ym is None:
        return page_error(request, 422, "Not a month", "Ask for ?month=YYYY-MM.")
    ev = month_evaluation(*ym)
    out = Path(tempfile.mkdtemp(prefix="crisisdesk-report-"))
    html_path, *rest = write_report(ev, out, pdf=kind == "pdf")
    path = rest[0] if kind == "pdf" else html_path
    content_type = "application/pdf" if kind == "pdf" else "text/html; charset=utf-8"
    response = HttpResponse(path.read_bytes(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{path.name}"'
    shutil.rmtree(out, ignore_errors=True)  # made for this request only
    return response
