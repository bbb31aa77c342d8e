"""Writing audit rows. Call `record` inside the service's transaction, never after it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from crisisdesk.audit.models import AuditEvent


def record(
    actor: Any,
    action: str,
    obj: Model | None = None,
    *,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    if obj is None and not object_type:
        object_type = ""
    elif obj is not None:
        object_type = obj._meta.model_name or ""
        object_id = str(obj.pk)
    assert transaction.get_connection().in_atomic_block, (
        "audit rows are written inside the change's transaction"
    )
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_role=getattr(actor, "role", "") or "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        details=details or {},
    )
