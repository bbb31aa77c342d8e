"""`crisisdesk sweep [--every SECONDS]`: time out transfers nobody claimed before their deadline.

Pages and API polls also sweep, so a desk with a console open never needs this; run it as a small
service in production so timeouts are recorded even when no screen is open.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from crisisdesk.calls.services import expire_transfers


class Command(BaseCommand):
    help = "Time out unclaimed transfers past their deadline (once, or in a loop)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every N seconds (0: run once)")

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            expired = expire_transfers()
            if expired:
                self.stdout.write(f"timed out transfers: {expired}")
            if not opts["every"]:
                return
            time.sleep(opts["every"])
