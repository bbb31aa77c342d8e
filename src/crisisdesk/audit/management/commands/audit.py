"""`crisisdesk audit verify`: recompute the audit chain and report every break.

`crisisdesk audit who-viewed --person ID --from DATE --to DATE`: who read or changed a person's
records (the person, records linked to them, their cases and those cases' calls, referrals and
follow-ups) between two dates, for a privacy review or a breach investigation (Minn. Stat. 13.055).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crisisdesk.audit.services import record_system, verify_chain


def _day(text: str) -> datetime:
    try:
        return timezone.make_aware(datetime.combine(date.fromisoformat(text), time()))
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain, or list who viewed a person's records."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("verify", help="recompute the chain; exit 1 on any break")
        who = sub.add_parser("who-viewed", help="who read or changed a person's records between two dates")
        who.add_argument("--person", type=int, required=True)
        who.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (local)")
        who.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (local), inclusive")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["what"] == "verify":
            self._verify()
        else:
            self._who_viewed(opts["person"], _day(opts["start"]), _day(opts["end"]) + timedelta(days=1))

    def _verify(self) -> None:
        result = verify_chain()
        # The verification itself is audited (CJIS AU-2: access to the audit log is logged); the row is
        # written after the walk, so it is not part of what was verified.
        record_system(
            "audit.verify",
            outcome="ok" if result.ok else "failed",
            details={"rows": result.rows, "problems": len(result.problems)},
        )
        self.stdout.write(
            f"{result.rows} rows, seq {result.first_seq}..{result.last_seq}, head {result.head_hash[:16]}"
        )
        for problem in result.problems:
            self.stdout.write(f"BREAK at {problem.seq} ({problem.kind}): {problem.message}")
        if not result.ok:
            raise CommandError(f"the audit chain is broken: {len(result.problems)} problem(s)", returncode=1)
        self.stdout.write("chain intact")

    def _who_viewed(self, person_id: int, start: datetime, end: datetime) -> None:
        from crisisdesk.audit.queries import who_viewed_person

        for row in who_viewed_person(None, person_id, start, end, system=True):
            self.stdout.write(json.dumps(row, default=str, ensure_ascii=False))
