"""What every calls use case shares: input errors, bounded text, the role check and the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from crisisdesk.calls.errors import Forbidden, ServiceError
from crisisdesk.domain.roles import may


class Invalid(ServiceError):
    """Input failed validation; `errors` are field-level and the input was kept as a RejectedRecord."""

    status = 422
    code = "invalid"

    def __init__(self, errors: list[dict[str, Any]], rejected_id: int):
        super().__init__("the record was rejected", errors=errors, rejected_id=rejected_id)
        self.errors = errors
        self.rejected_id = rejected_id


class InvalidInput(ServiceError):
    """An argument a use case cannot act on (an unknown option, a missing number): 422 with the field.

    Same wire shape as `Invalid` (a list of field-level errors) but nothing is kept: these come from
    people at a console, not from an integration whose records must be traceable.
    """

    status = 422
    code = "invalid"

    def __init__(self, field: str, reason: str, type: str = "value_error"):
        errors = [{"field": field, "reason": reason, "type": type}]
        super().__init__(f"{field}: {reason}", errors=errors)
        self.errors = errors


def _text(field: str, value: str, max_length: int) -> str:
    """Free text headed for a column: bounded (PostgreSQL enforces varchar lengths) and storable."""
    if len(value) > max_length:
        raise InvalidInput(field, f"at most {max_length} characters", "string_too_long")
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    return value


def _storable(text: str) -> str:
    """Kept verbatim as far as a database allows: NUL and unpaired surrogates are replaced."""
    return text.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "\ufffd")


def _require(actor: Any, action: str) -> None:
    if not may(getattr(actor, "role", ""), action):
        raise Forbidden(
            f"a {getattr(actor, 'role', 'anonymous') or 'anonymous'} may not {action.replace('_', ' ')}"
        )


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()
