"""`crisisdesk publish_protocol [FILE]`: publish a protocol file as the active version (installer use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crisisdesk.calls.models import ProtocolVersion
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.domain.protocol import ProtocolError
from crisisdesk.protocols import DEFAULT_PROTOCOL


class Command(BaseCommand):
    help = "Publish a protocol YAML file as the active version of its center."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(DEFAULT_PROTOCOL))
        parser.add_argument("--note", default="published from the command line")
        parser.add_argument("--if-none", action="store_true", help="only when no version is active yet")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["if_none"] and ProtocolVersion.objects.filter(is_active=True).exists():
            self.stdout.write("a protocol is already active; nothing to do")
            return
        try:
            row = publish_protocol(
                None, Path(opts["file"]).read_text(encoding="utf-8"), change_note=opts["note"], system=True
            )
        except (OSError, ProtocolError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"published {row.center} {row.version}")
