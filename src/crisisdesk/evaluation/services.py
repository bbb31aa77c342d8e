"""The evaluation's write path: an export of aggregates is a disclosure, so it is audited.

`export_evaluation_csv` builds the evaluation for whole periods of the configured date grain, puts
every count through suppression (analytics.evaluation_published), checks the columns against the
Safe Harbor allow-list and the cells against identifier patterns, writes the CSV through the one
neutralising writer, and records `export.evaluation_csv` in the same transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crisisdesk.analytics.evaluation_published import CSV_HEADER, publish
from crisisdesk.analytics.safe_harbor import ExportRefused, policy, scan_cells, write_csv
from crisisdesk.audit.services import record
from crisisdesk.calls.errors import Forbidden
from crisisdesk.domain.roles import may
from crisisdesk.evaluation.report import evaluation_for


@dataclass(frozen=True)
class CsvExport:
    filename: str
    content: str
    rows: int
    withheld: int


def export_evaluation_csv(
    actor: Any, start: datetime, end: datetime, *, grain: str | None = None, now: datetime | None = None
) -> CsvExport:
    """The suppressed aggregates of the calls received in [start, end) as CSV, audited.

    Raises Forbidden for a role that may not view aggregates and ExportRefused when a column or a
    cell would carry an identifier (both audited as refusals).
    """
    grain = grain or settings.EXPORT_DATE_GRAIN
    now = now or timezone.now()
    local_start, local_end = timezone.localtime(start), timezone.localtime(end)
    details: dict[str, Any] = {
        "start": local_start.date().isoformat(),
        "end": local_end.date().isoformat(),
        "grain": grain,
        "policy": policy().version,
    }
    if not may(getattr(actor, "role", ""), "view_aggregates"):
        with transaction.atomic(durable=True):
            record(actor, "export.evaluation_csv", outcome="denied", details=details)
        raise Forbidden("only evaluators and supervisors export evaluation aggregates")
    ev = evaluation_for(start, end, as_of=now, grain=grain)
    published = publish(ev)
    rows = list(published.csv_rows())
    try:
        published.check()
        hits = scan_cells(rows, CSV_HEADER)
        if hits:
            raise ExportRefused(hits)
    except ExportRefused as exc:
        with transaction.atomic(durable=True):
            record(
                actor,
                "export.evaluation_csv",
                outcome="refused",
                details={**details, "problems": list(exc.problems)[:20]},
            )
        raise
    buffer = io.StringIO()
    n = write_csv(buffer, CSV_HEADER, rows)
    withheld = len(published.suppression.withheld)
    last_day = timezone.localtime(end - timedelta(microseconds=1)).date()
    name = f"evaluation-aggregates-{local_start:%Y-%m-%d}-to-{last_day:%Y-%m-%d}.csv"
    with transaction.atomic(durable=True):
        record(
            actor,
            "export.evaluation_csv",
            details={**details, "rows": n, "withheld": withheld, "filename": name},
        )
    return CsvExport(name, buffer.getvalue(), n, withheld)
