"""`crisisdesk retention_purge [--dry-run] [--now ISO] [--as USERNAME]`: the scheduled purge.

Prints, per record type, how many records are past their period, how many of those are due (the
rest are live or held, with the reasons) and how many were purged. Exits 1 if a type failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crisisdesk.calls.errors import ServiceError
from crisisdesk.retention.services import NoPolicy, PurgeReport, purge_expired


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now: not an ISO 8601 instant: {text!r}") from None
    if value.tzinfo is None:
        raise CommandError("--now: give the offset too (e.g. 2033-01-01T03:00:00-06:00)")
    return value


class Command(BaseCommand):
    help = "Purge the records whose retention period has passed (audited), or show what would go."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="delete nothing; show what is due")
        parser.add_argument("--now", help="decide as of this instant (ISO 8601 with offset)")
        parser.add_argument(
            "--as",
            dest="username",
            help="run as this administrator (default: the system, no person, in the audit trail)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = _instant(options["now"]) if options.get("now") else None
        actor = None
        if options.get("username"):
            from crisisdesk.accounts.models import User

            actor = User.objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"no account {options['username']!r}")
        try:
            report = purge_expired(actor, now=now, dry_run=options["dry_run"])
        except (ServiceError, NoPolicy) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(render(report))
        if report.failed:
            raise CommandError("some record types were not purged (see above); nothing of them was deleted")


def render(report: PurgeReport) -> str:
    verb = "would purge" if report.dry_run else "purged"
    lines = [
        f"retention policy {report.policy_version}, as of {report.at.isoformat()}"
        + (" (dry run: nothing deleted)" if report.dry_run else ""),
        f"{'record type':<18} {'days':>6} {'past period':>11} {'due':>6} {verb:>12}  kept because",
    ]
    for t in report.types:
        purged = "-" if report.dry_run else str(t.purged)
        if t.status == "no_table":
            purged = "no table"
        elif t.status == "audit_module" and not t.purged:
            purged = "audit module"
        elif t.status == "failed":
            purged = "FAILED"
        kept = ", ".join(f"{reason} {n}" for reason, n in t.kept.items())
        if t.more_remain:
            kept = (kept + "; " if kept else "") + "more due than one run deletes: rest next run"
        line = f"{t.record_type:<18} {t.days:>6} {t.past_period:>11} {t.due:>6} {purged:>12}  {kept}"
        lines.append(line.rstrip())
    return "\n".join(lines)
