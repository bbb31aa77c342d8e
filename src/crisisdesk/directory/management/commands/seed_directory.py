"""`crisisdesk seed_directory`: load (or refresh) the Minneapolis / Hennepin demo directory.

Idempotent: listings are imported by their stable HSDS ids, so running it again updates them
(and moves the sample "last verified" dates along with today). Only 988 and 911 are facts; every
other listing is marked SAMPLE DATA in the data itself (see crisisdesk.directory.demo).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crisisdesk.directory.services import seed_demo_directory


class Command(BaseCommand):
    help = "Load the demo service directory (Minneapolis / Hennepin County; mostly sample data)."

    def handle(self, *args: Any, **opts: Any) -> None:
        report = seed_demo_directory()
        if report.problems:
            raise CommandError(report.text())
        self.stdout.write(
            f"demo directory: {report.created.get('service', 0)} services created, "
            f"{report.updated.get('service', 0)} updated"
        )
