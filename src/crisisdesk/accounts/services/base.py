"""Write path for accounts: people's accounts, and integration accounts with their API tokens (issue,
revoke, and the lookup on each request).

A token is shown once, when issued; only its SHA-256 is stored, so a database leak does not leak
usable tokens. Tokens are for integration accounts (the CAD); people log in with a session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crisisdesk.accounts.models import ApiToken, User, hash_token
from crisisdesk.audit.services import record
from crisisdesk.domain.roles import HUMAN_ROLES, Role

# `last_used_at` is refreshed at most this often: a CAD posting many calls a minute should not
# turn every request into a write (on SQLite every write takes the database's write lock).
LAST_USED_RESOLUTION = timedelta(seconds=60)
# Raw tokens are "cdk_" + 43 characters; anything much longer is not one of ours.
MAX_RAW_TOKEN_LENGTH = 256


class AccountError(ValueError):
    """An account cannot be created (not a person's role, password refused, username taken)."""


class TokenError(ValueError):
    """A token cannot be issued (wrong kind of account, missing name)."""


def is_integration(user: Any) -> bool:
    return bool(getattr(user, "role", "")) and user.role not in HUMAN_ROLES


def create_account(
    actor: Any,
    username: str,
    *,
    role: Role | str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """A person's account: one of HUMAN_ROLES and a password that passes AUTH_PASSWORD_VALIDATORS.

    Raises AccountError (nothing written) for a role that is not a person's (integration accounts come
    from `create_integration_account`), a refused password or a username already taken. `actor` is
    the person creating it, None from the command line (a system action). The audit row records the
    role, never the password.
    """
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"{role!r} is not a role") from None
    if role not in HUMAN_ROLES:
        raise AccountError(
            f"{role.value} is not a person's role: use create_integration_account for integrations"
        )
    if not username:
        raise AccountError("an account needs a username")
    if User.objects.filter(username=username).exists():
        raise AccountError(f"the username {username} is already taken")
    # The similarity check compares the password with the username and names, so it sees the new user.
    candidate = User(username=username, first_name=first_name, last_name=last_name, role=role.value)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise AccountError(f"the password for {username} was refused: {' '.join(exc.messages)}") from exc
    with transaction.atomic(durable=True):
        user = User.objects.create_user(
            username=username,
            password=password,
            role=role.value,
            first_name=first_name,
            last_name=last_name,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        record(actor, "account.create", user, details={"role": role.value})
    return user


def create_integration_account(username: str, *, actor: Any = None) -> User:
    """A CAD integration account: no usable password, so it can only authenticate with a token."""
    with transaction.atomic(durable=True):
        user = User.objects.create_user(username=username, password=None, role=Role.CAD_INTEGRATION.value)
        record(actor, "account.create", user, details={"role": user.role})
    return user


def issue_api_token(user: User, name: str, *, actor: Any = None) -> tuple[ApiToken, str]:
    """Create a token for an integration account; returns the row and the raw token (shown once).

    `actor` is the person issuing it, None from the command line (a system action).
    """
    name = name.strip()
    if not name:
        raise TokenError("a token needs a name (e.g. the system that will use it)")
    if len(name) > 100:  # ApiToken.name's max_length
        raise TokenError("a token name has at most 100 characters")
    if not is_integration(user):
        raise TokenError(
            f"{user.username} is a {user.role or 'user without a role'}: API tokens are for "
            "integration accounts; people log in with a session"
        )
    if not user.is_active:
        raise TokenError(f"{user.username} is not active")
    raw = ApiToken.new_raw_token()
    with transaction.atomic(durable=True):
        token = ApiToken.objects.create(user=user, name=name, token_hash=hash_token(raw))
        record(actor, "api_token.issue", token, details={"user_id": user.pk, "name": name})
    return token, raw


def revoke_api_token(token_id: int, *, actor: Any = None, now: datetime | None = None) -> ApiToken:
    """Stop a token from working (idempotent: revoking twice keeps the first revocation time)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        token = ApiToken.objects.select_for_update().get(pk=token_id)
        if token.revoked_at is None:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            record(actor, "api_token.revoke", token, details={"user_id": token.user_id, "name": token.name})
    return token


def authenticate_token(raw: str, now: datetime | None = None) -> User | None:
    """The integration account a raw bearer token belongs to, or None (unknown, revoked, inactive).

    Looked up by the token's SHA-256; records when it was last used (see LAST_USED_RESOLUTION).
    """
    if not raw or len(raw) > MAX_RAW_TOKEN_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active or not is_integration(token.user):
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
