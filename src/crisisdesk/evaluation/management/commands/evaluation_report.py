"""`crisisdesk evaluation_report --month 2026-11 --out DIR`: the City + County monthly report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crisisdesk.evaluation.report import month_evaluation, write_report


class Command(BaseCommand):
    help = "Write the monthly program evaluation as HTML and PDF (charts included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM, a local (America/Chicago) month")
        parser.add_argument("--out", default="reports", help="folder for the files (default: ./reports)")
        parser.add_argument("--no-pdf", action="store_true", help="write the HTML only")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            year, month = (int(part) for part in options["month"].split("-"))
            if not 1 <= month <= 12:
                raise ValueError
        except ValueError:
            raise CommandError("--month must look like 2026-11") from None
        ev = month_evaluation(year, month)
        for path in write_report(ev, Path(options["out"]), pdf=not options["no_pdf"]):
            self.stdout.write(f"wrote {path}")
        f = ev.funnel
        self.stdout.write(
            f"{f['calls']} calls, {f['in_scope']} in scope, {f['answered']} answered by the social worker, "
            f"{ev.outcomes['escalations']} escalated; comparison group {ev.comparison.calls} calls."
        )
