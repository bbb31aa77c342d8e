"""`crisisdesk create_api_token USERNAME --name NAME`: issue a bearer token for an integration account.

The raw token is printed once, on standard output and alone on its line (so a script can capture
it); only its SHA-256 is stored. `--create-user` first creates USERNAME as a CAD integration account
(no password: it can only use tokens). Revoke a token by setting "revoked at" in the admin.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crisisdesk.accounts.models import User
from crisisdesk.accounts.services import TokenError, create_integration_account, issue_api_token


class Command(BaseCommand):
    help = "Issue an API token for an integration account; prints the raw token once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the integration account (role cad_integration)")
        parser.add_argument("--name", required=True, help="what uses the token, e.g. 'MECC CAD production'")
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="create USERNAME as a CAD integration account if it does not exist",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        username = opts["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            if not opts["create_user"]:
                raise CommandError(f"no account named {username!r} (use --create-user to create it)")
            user = create_integration_account(username)
            self.stderr.write(f"created integration account {username!r}")
        try:
            token, raw = issue_api_token(user, opts["name"])
        except TokenError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            f"token {token.pk} ({token.name!r}) for {username}: store it now, it is not shown again"
        )
        self.stdout.write(raw)
