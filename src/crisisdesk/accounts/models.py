"""People and integration accounts. Every account has exactly one role."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models

from crisisdesk.domain.roles import Role


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=[(r.value, r.value.replace("_", " ")) for r in Role])

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for an integration (the CAD). Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @staticmethod
    def new_raw_token() -> str:
        return "cdk_" + secrets.token_urlsafe(32)


class LoginSession(models.Model):
    """One signed-in session of a person, kept on the server so that the idle and absolute limits,
    logout and "end every session of this account" do not depend on the browser or the cookie.

    Created when the second factor is verified (never at the password step); `session_key` follows
    the Django session it belongs to. `last_activity_at` moves only for what a person does, never
    for background polling (see accounts.policy.is_background).
    """

    class EndReason(models.TextChoices):
        LOGOUT = "logout"
        IDLE = "idle"
        ABSOLUTE = "absolute"
        DISABLED = "disabled"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, db_index=True)
    created_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    client_addr = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class LoginFailure(models.Model):
    """A refused password or code. Counted per account (lockout) and per client address (throttle).

    `user` is empty for an unknown user name; the name typed is not kept (people type passwords
    into it). `reason` is for the security officer, never shown at the login page.
    """

    class Step(models.TextChoices):
        PASSWORD = "password"  # noqa: S105 - the name of the step, not a secret
        CODE = "code"

    at = models.DateTimeField()
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    client_addr = models.CharField(max_length=64, blank=True)
    step = models.CharField(max_length=16, choices=Step.choices)
    reason = models.CharField(max_length=32)

    class Meta:
        indexes = [models.Index(fields=["user", "at"]), models.Index(fields=["client_addr", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.step} {self.reason}"


class AccountLock(models.Model):
    """An account locked after too many failures; it stays locked until a supervisor or an
    administrator unlocks it (CJIS AC-7: no automatic unlock). One open lock per account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="locks")
    locked_at = models.DateTimeField()
    failures = models.PositiveIntegerField()
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(unlocked_at__isnull=True),
                name="one_open_lock_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} locked {self.locked_at:%Y-%m-%d %H:%M}"
