"""Helpers every casework use case shares: role checks, the clock, bounded text, loading rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from crisisdesk.calls.errors import Conflict, Forbidden, NotFound
from crisisdesk.calls.services import InvalidInput
from crisisdesk.casework.models import Case

__all__ = ["Conflict", "Forbidden", "InvalidInput", "NotFound", "load_case", "now_or", "require", "text"]


def require(actor: Any, action: str) -> None:
    from crisisdesk.domain.roles import may

    if not may(getattr(actor, "role", ""), action):
        raise Forbidden(
            f"a {getattr(actor, 'role', 'anonymous') or 'anonymous'} may not {action.replace('_', ' ')}"
        )


def now_or(now: datetime | None) -> datetime:
    return now or timezone.now()


def text(field: str, value: str, max_length: int, *, required: bool = False) -> str:
    """Free text headed for a column: bounded, storable, and present when required."""
    value = value or ""
    if required and not value.strip():
        raise InvalidInput(field, "is required", "missing")
    if len(value) > max_length:
        raise InvalidInput(field, f"at most {max_length} characters", "string_too_long")
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    return value


def load_case(actor: Any, case_id: int, *, lock: bool = True, owner_only: bool = True) -> Case:
    """The case, locked for update; only its owner (the social worker who has it) may change it."""
    qs = Case.objects.select_for_update() if lock else Case.objects.all()
    case = qs.filter(pk=case_id).first()
    if case is None:
        raise NotFound("no such case")
    if owner_only and case.owner_id != getattr(actor, "pk", None):
        raise Forbidden("only the social worker who has the case can change it")
    return case
