"""The one way a scoped query refuses: audited as `denied`, raised as NotFound (404).

A record the actor may not see is indistinguishable from one that does not exist, and every such
refusal is an audit row (ASVS 16.3.2, HIPAA 164.312(b)).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from crisisdesk.audit import reads
from crisisdesk.audit.services import record_denied
from crisisdesk.calls.errors import NotFound
from crisisdesk.domain.roles import may


def deny(actor: Any, what: str, object_type: str = "", object_id: Any = "", reason: str = "") -> NotFound:
    """Audit a refused access and return the NotFound to raise.

    Inside a transaction (a service that looked the record up) the row would roll back with it, so
    within a request the refusal is handed to the middleware, which writes it with the response.
    """
    details = {"reason": reason} if reason else None
    deferred = transaction.get_connection().in_atomic_block and reads.defer_denial(
        actor, what, object_type, str(object_id), details
    )
    if not deferred:
        record_denied(actor, what, object_type=object_type, object_id=str(object_id), details=details)
    return NotFound("not found")


def require(actor: Any, action: str) -> None:
    """The actor's role may perform `action` (domain.roles.CAN), else an audited NotFound."""
    if not may(getattr(actor, "role", ""), action):
        raise deny(actor, f"access.{action}", reason="role")
