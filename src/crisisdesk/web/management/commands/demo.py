"""`crisisdesk demo` (what `make demo` runs): migrate, load the demo, print the logins and serve.

When the social worker desk is closed right now (evenings, weekends, holidays) a clearly labelled demo
variant of the active protocol, open around the clock, is published so that a new user can click the
whole flow at any hour; the command says so. Serving is gunicorn on 127.0.0.1, exec'd in place of
this process so that Ctrl+C stops it.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils import timezone

from crisisdesk.calls.models import ProtocolVersion
from crisisdesk.calls.protocols import active_protocol, publish_protocol
from crisisdesk.web.management.commands.seed_demo import print_logins

DEMO_SUFFIX = "-demo-always-open"
ALWAYS_OPEN = {
    "hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00", "close": "24:00"}],
    "holidays": {"country": None},
    "closures": [],
    "open_dates": [],
}


def ensure_open_for_demo(write: Any, now: datetime | None = None) -> str | None:
    """Publish `<version>-demo-always-open` if the desk is closed now; return its version when published."""
    row, _, calendar = active_protocol()
    now = now or timezone.now()
    if row.version.endswith(DEMO_SUFFIX) or calendar.is_open(now).open:
        return None
    version = f"{row.version}{DEMO_SUFFIX}"
    if ProtocolVersion.objects.filter(center=row.center, version=version).exists():
        write(
            f"The desk is closed now and {version} exists but is not active; publish it from the admin if needed."
        )
        return None
    doc = yaml.safe_load(row.source_text) if row.source_text else dict(row.document)
    doc["version"] = version
    doc["service_calendar"] = ALWAYS_OPEN
    publish_protocol(
        None,
        yaml.safe_dump(doc, sort_keys=False, allow_unicode=True),
        system=True,
        change_note=(
            f"DEMO ONLY: {row.version} with the social worker desk open 24/7 and no holidays, published by "
            "`crisisdesk demo` because the desk was closed when the demo started, so every step of the flow "
            "can be tried at any hour. Never use on a live floor."
        ),
    )
    return version


class Command(BaseCommand):
    help = "Migrate, load the demo weekday at MECC, print the demo logins and serve on 127.0.0.1:PORT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
        parser.add_argument("--no-serve", action="store_true", help="prepare everything but do not serve")

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} is not a TCP port")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("seed_demo", no_logins=True, stdout=self.stdout)
        version = ensure_open_for_demo(self.stdout.write)
        if version:
            self.stdout.write(
                self.style.WARNING(
                    f"The social worker desk is closed right now (MECC: Mon-Fri 12:00-20:30, not on holidays), "
                    f"so the demo published protocol {version}: the shipped protocol with the desk open 24/7. "
                    "It is labelled DEMO in the header."
                )
            )
        print_logins(self.stdout.write)
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(f"\nCrisis Desk demo: {url}  (Ctrl+C stops it)")
        if options["no_serve"]:
            return
        self.stdout.flush()
        connections.close_all()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
        argv = [
            str(gunicorn),
            "crisisdesk.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "8",
        ]
        os.execvp(argv[0], argv)  # noqa: S606 - replaces this process with the server, fixed argv
