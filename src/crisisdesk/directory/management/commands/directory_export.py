"""`crisisdesk directory_export --format json|datapackage OUT`: write the directory in HSDS 3.0 form.

json: OUT/ gets services.json, organizations.json, taxonomy_terms.json (HSDS list pages) and one
<table>.json per table for records nested in none of them. datapackage: OUT/ gets one CSV per HSDS
table and datapackage.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crisisdesk.directory import services


class Command(BaseCommand):
    help = "Export the directory as HSDS 3.0 JSON or as a tabular datapackage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out")
        parser.add_argument("--format", choices=["json", "datapackage"], default="json")

    def handle(self, *args: Any, **opts: Any) -> None:
        out = Path(opts["out"])
        export = services.export_datapackage if opts["format"] == "datapackage" else services.export_json
        written = export(None, out)
        self.stdout.write(f"wrote {len(written)} files to {out}")
