"""`crisisdesk directory_import FILE_OR_DIR [--format json|datapackage] [--report OUT.json]`.

Imports HSDS 3.0 records (created or updated by id) and prints every rejected record with its
reason. Exit status 0 when everything was accepted, 1 when some records were rejected (the
accepted ones are kept), 2 when nothing could be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crisisdesk.directory import services


def guess_format(path: Path) -> str:
    """A folder with CSV files is a datapackage; a .json file or a folder of them is JSON."""
    if path.is_dir():
        return "datapackage" if any(path.glob("*.csv")) else "json"
    return "json"


class Command(BaseCommand):
    help = "Import an HSDS 3.0 directory (JSON file/folder or CSV datapackage folder)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--format", choices=["json", "datapackage"], default=None)
        parser.add_argument("--report", default="", help="also write the report as JSON to this file")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        fmt = opts["format"] or guess_format(path)
        if fmt == "datapackage":
            if not path.is_dir():
                raise CommandError("a datapackage is a folder of CSV files")
            report = services.import_hsds_datapackage(None, path)
        else:
            report = services.import_hsds_json(None, path)
        self.stdout.write(report.text())
        if opts["report"]:
            Path(opts["report"]).write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
        if report.problems:
            sys.exit(2 if not report.created and not report.updated else 1)
