"""`crisisdesk totp USERNAME`: print the code USERNAME's authenticator app would show now.

For the demo and development only: it refuses to run unless settings.DEBUG is on, because whoever
can run it can pass anyone's second factor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from crisisdesk.accounts.services import current_code


class Command(BaseCommand):
    help = "Debug only: print the current TOTP code of USERNAME (refuses unless DEBUG is on)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "crisisdesk totp runs only with CRISISDESK_DEBUG=1 (it passes anyone's second factor)"
            )
        device = TOTPDevice.objects.filter(user__username=options["username"], confirmed=True).first()
        if device is None:
            raise CommandError(f"{options['username']} has no authenticator app set up")
        self.stdout.write(current_code(device))
