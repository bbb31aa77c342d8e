"""Loading the Minneapolis / Hennepin demo directory through the ordinary import path."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from crisisdesk.directory import demo
from crisisdesk.directory.hsds import zone
from crisisdesk.directory.services.imports import ImportReport, import_hsds_documents

DEMO_SOURCE = "demo:minneapolis-hennepin"


def seed_demo_directory(actor: Any = None, *, today: date | None = None) -> ImportReport:
    """Import (or refresh, by HSDS id) the demo listings; sample "last verified" dates follow `today`."""
    day = today or datetime.now(zone()).date()
    return import_hsds_documents(actor, demo.documents(day), source=DEMO_SOURCE)
