"""The sign-in and session policy, read from `settings.CRISISDESK_SIGN_IN` (one place for the numbers;
docs/security.md, "Sign-in and sessions", says why each has the value it has).

Read on every use rather than at import, so a deployment (or a test) changes it in settings alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings

# Who may unlock a locked account and who may disable one. The permission matrix in domain/roles.py
# has no account-management actions yet; these move there when it gains them.

# Requests that background polling makes: htmx fragments (their URLs end in `live/`, see
# web/urls.py) and API reads (a queue client polling GET /api/v1/transfers). They never count as
# activity, so a screen left open does not keep its session alive.
POLL_SUFFIX = "/live/"
API_PREFIX = "/api/v1/"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class SignInPolicy:
    failure_limit: int
    failure_window: timedelta
    client_failure_limit: int
    idle: Mapping[str, timedelta]
    absolute: timedelta
    activity_resolution: timedelta
    second_step: timedelta

    def idle_for(self, role: str) -> timedelta:
        """A role without its own value gets the shortest one: an unknown role fails safe."""
        return self.idle.get(role) or min(self.idle.values())


def current() -> SignInPolicy:
    raw: dict[str, Any] = settings.CRISISDESK_SIGN_IN
    return SignInPolicy(
        failure_limit=int(raw["failure_limit"]),
        failure_window=timedelta(seconds=raw["failure_window_seconds"]),
        client_failure_limit=int(raw["client_failure_limit"]),
        idle={role: timedelta(seconds=s) for role, s in raw["idle_seconds"].items()},
        absolute=timedelta(seconds=raw["absolute_seconds"]),
        activity_resolution=timedelta(seconds=raw["activity_resolution_seconds"]),
        second_step=timedelta(seconds=raw["second_step_seconds"]),
    )


def is_background(method: str, path: str) -> bool:
    """A request made by polling, not by the person (it neither counts as activity nor is exempt)."""
    return path.endswith(POLL_SUFFIX) or (path.startswith(API_PREFIX) and method in READ_METHODS)


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX)
