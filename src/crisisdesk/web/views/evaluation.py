"""The program evaluation for supervisors and evaluators: measures, comparison group, charts, report.

Aggregates only (small cells suppressed); the charts are the same plotly specs as the monthly
report's (analytics.evaluation_charts), drawn by plotly.js served as a static file.
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
from crisisdesk.analytics.evaluation import month_bounds
from crisisdesk.analytics.evaluation_charts import figures
from crisisdesk.evaluation.report import evaluation_for, month_evaluation, write_report
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


@require_GET
@role_page("view_aggregates")
def program_evaluation(request: HttpRequest) -> HttpResponse:
    """`?month=YYYY-MM` (default this month) and `?months=N` (that many months ending there, default 6)."""
    now = timezone.now()
    ym = _month(request.GET.get("month"), now)
    try:
        months = int(request.GET.get("months", "6"))
    except ValueError:
        months = 0
    if ym is None or not 1 <= months <= MAX_MONTHS:
        return page_error(
            request, 422, "Not a period", f"Ask for ?month=YYYY-MM and ?months=1..{MAX_MONTHS}."
        )
    year, month = ym
    tz = timezone.get_default_timezone()
    first_index = year * 12 + month - 1 - (months - 1)
    start, _ = month_bounds(first_index // 12, first_index % 12 + 1, tz)
    _, end = month_bounds(year, month, tz)
    ev = evaluation_for(start, end, as_of=now)
    charts = [
        {"id": f"chart-{k}", "script_id": f"chart-{k}-spec", "spec": figure_spec(fig)}
        for k, fig in figures(ev).items()
    ]
    return render(
        request,
        "web/program_evaluation.html",
        base_ctx(
            request,
            ev=ev,
            d=ev.as_dict(),
            charts=charts,
            groups=[ev.as_dict()["program"], ev.as_dict()["comparison"]],
            month=f"{year:04d}-{month:02d}",
            months=months,
            period_end=timezone.localtime(end) - timedelta(days=1),
        ),
    )


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
