"""The program evaluation from the operational database: the dashboard's data and the monthly report.

`evaluation_for` builds the de-identified rows (evaluation.dataset) and hands them to
`analytics.evaluation.evaluate`; `write_report` writes the City + County monthly report as HTML with
the same chart specs as the dashboard, and prints that HTML to PDF with Chromium.
"""

from __future__ import annotations

import html
import os
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from crisisdesk.analytics.charts import render_html
from crisisdesk.analytics.disclosure import LEGEND
from crisisdesk.analytics.evaluation import Evaluation, evaluate, month_bounds
from crisisdesk.analytics.evaluation_charts import report_sections
from crisisdesk.analytics.evaluation_published import publish
from crisisdesk.evaluation.dataset import evaluation_rows, later_calls

CHROMIUM = os.environ.get("CRISISDESK_CHROMIUM", "/usr/bin/chromium")


def evaluation_for(
    start: datetime, end: datetime, as_of: datetime | None = None, grain: str | None = None
) -> Evaluation:
    """Raw measures: print them only through `analytics.evaluation_published.publish`."""
    as_of = as_of or timezone.now()
    rows = evaluation_rows(start, end)
    keys = {r["caller_key"] for r in rows if r["caller_key"]}
    return evaluate(
        rows,
        later_calls(start, keys),
        start=start,
        end=end,
        as_of=as_of,
        grain=grain or settings.EXPORT_DATE_GRAIN,
        tz=timezone.get_default_timezone(),
    )


def month_evaluation(year: int, month: int, as_of: datetime | None = None) -> Evaluation:
    start, end = month_bounds(year, month, timezone.get_default_timezone())
    return evaluation_for(start, end, as_of)


def write_report(ev: Evaluation, out_dir: Path, *, center: str = "MECC", pdf: bool = True) -> list[Path]:
    """HTML (self-contained, plotly.js inside) and, with `pdf`, the same page printed by Chromium."""
    local = timezone.localtime(ev.start)
    stem = f"evaluation-{local:%Y-%m}"
    intro = (
        f"<p>{center} 911 social worker pilot, calls received {local:%B %Y} (America/Chicago). "
        f"Computed {timezone.localtime(ev.as_of):%Y-%m-%d %H:%M} with definitions {ev.version}. "
        f"{html.escape(LEGEND)}</p>"
    )
    html_path = render_html(
        f"{center} social worker pilot: monthly evaluation, {local:%B %Y}",
        report_sections(ev, publish(ev)),
        out_dir / f"{stem}.html",
        intro=intro,
    )
    written = [html_path]
    if pdf:
        written.append(print_pdf(html_path, out_dir / f"{stem}.pdf"))
    return written


def print_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print a report page to PDF in headless Chromium once its charts have been drawn."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(html_path.resolve().as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
            page.pdf(
                path=str(pdf_path),
                format="Letter",
                print_background=True,
                margin={"top": "12mm", "bottom": "12mm"},
            )
        finally:
            browser.close()
    return pdf_path
