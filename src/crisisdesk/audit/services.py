"""Writing audit rows. Call `record` inside the service's transaction, never after it.

Every row carries the actor and role, the action, the record, the time (UTC), the request id and
client address of the request it came from (`crisisdesk.audit.context`) and the outcome, and is
chained to the row before it (`chain.row_digest`). Appending locks the chain's head row, so two
transactions never chain onto the same row; a failed append fails the transaction it is in, so a
read or change never happens without its audit row (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from crisisdesk.audit import chain, context
from crisisdesk.audit.models import AuditChainHead, AuditEvent
from crisisdesk.domain.retention import SIX_YEARS as AUDIT_FLOOR_DAYS

HEAD_ID = 1


def _row(
    actor: Any,
    action: str,
    obj: Model | None,
    outcome: str,
    details: dict[str, Any] | None,
    otype: str,
    oid: str,
) -> AuditEvent:
    if obj is not None:
        otype = obj._meta.model_name or ""
        oid = str(obj.pk)
    ctx = context.current()
    return AuditEvent(
        at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_role=getattr(actor, "role", "") or "",
        action=action,
        object_type=otype,
        object_id=oid,
        outcome=outcome,
        details=details or {},
        request_id=ctx.request_id,
        client_addr=ctx.client_addr,
    )


def _head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=HEAD_ID).first()
    if head is None:  # first row ever (the migration creates it; a flushed test database may not)
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=HEAD_ID)
    return head


def _append(rows: list[AuditEvent]) -> list[AuditEvent]:
    if not rows:
        return rows
    head = _head()
    key: bytes = settings.AUDIT_KEY
    seq, prev = head.seq, head.row_hash or chain.GENESIS
    for row in rows:
        seq += 1
        row.seq = seq
        row.prev_hash = prev
        row.row_hash = chain.row_digest(key, _fields(row), prev)
        prev = row.row_hash
    AuditEvent.objects.bulk_create(rows)
    AuditChainHead.objects.filter(pk=head.pk).update(seq=seq, row_hash=prev)
    return rows


def _fields(row: AuditEvent) -> dict[str, Any]:
    return {name: getattr(row, name) for name in chain.FIELDS}


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
    """One audit row for a change (or a refused change) inside the caller's transaction."""
    assert transaction.get_connection().in_atomic_block, (
        "audit rows are written inside the change's transaction"
    )
    return _append([_row(actor, action, obj, outcome, details, object_type, object_id)])[0]


def record_read(
    actor: Any,
    objs: Model | Iterable[Model],
    *,
    action: str = "",
    details: dict[str, Any] | None = None,
) -> list[AuditEvent]:
    """One row per record read (`<model>.read` unless `action` says otherwise).

    Within a request the scoped queries only note their reads (`crisisdesk.audit.reads`), and the
    middleware calls this before the response leaves; elsewhere it is called at once. Either way a
    read whose audit row cannot be written fails instead of disclosing.
    """
    items = [objs] if isinstance(objs, Model) else list(objs)
    return record_reads([(actor, o, action) for o in items], details=details)


def record_reads(
    reads: Iterable[tuple[Any, Model, str]], *, details: dict[str, Any] | None = None
) -> list[AuditEvent]:
    """Rows for (actor, record, action) triples in one chained append (one lock of the chain head,
    whoever the actors are); an empty action is `<model>.read`."""
    rows = [
        _row(actor, action or f"{o._meta.model_name}.read", o, "ok", details, "", "")
        for actor, o, action in reads
    ]
    # No savepoint of its own: a failed append fails the enclosing block, which is what we want.
    with transaction.atomic(savepoint=False):
        return _append(rows)


def record_denied(
    actor: Any,
    action: str,
    *,
    object_type: str = "",
    object_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """A refused access (wrong role, a record out of scope): outcome `denied`, in its own transaction."""
    from crisisdesk.audit.reads import mark_denied

    # A refusal inside a transaction that may roll back is deferred by access.deny instead (the
    # middleware writes it); this one is written now, so the request's refusal is on record.
    mark_denied()
    with transaction.atomic():
        return record(
            actor,
            action,
            outcome="denied",
            details=details,
            object_type=object_type,
            object_id=str(object_id),
        )


def record_system(action: str, *, details: dict[str, Any] | None = None, outcome: str = "ok") -> AuditEvent:
    """A row with no actor (a command, a sweep), in its own transaction."""
    with transaction.atomic():
        return record(None, action, outcome=outcome, details=details)


def verify_chain(*, chunk_size: int = 5000) -> chain.Verification:
    """Recompute the whole chain from its anchor; see chain.verify_rows for what is reported."""
    head = AuditChainHead.objects.filter(pk=HEAD_ID).first() or AuditChainHead(pk=HEAD_ID)
    rows = AuditEvent.objects.order_by("seq").values(*chain.FIELDS).iterator(chunk_size=chunk_size)
    return chain.verify_rows(
        settings.AUDIT_KEY,
        rows,
        anchor_seq=head.anchor_seq,
        anchor_hash=head.anchor_hash,
        head_seq=head.seq,
        head_hash=head.row_hash,
    )


def purge_audit_before(actor: Any, cutoff: Any) -> int:
    """Remove audit rows at or before `cutoff` (retention), keeping the chain verifiable.

    Only a prefix of the chain is removed (rows up to the last one at or before `cutoff`); the head
    records the last removed row as the new anchor, and the purge itself is the next audit row.
    Returns the number removed.
    """
    # Whatever `cutoff` a run is given (a dry run, a test, a wrong clock argument), nothing younger than
    # the legal floor by the server's own clock goes (HIPAA 164.316 / accounting of disclosures: 6 years).
    cutoff = min(cutoff, timezone.now() - timedelta(days=AUDIT_FLOOR_DAYS))
    with transaction.atomic(durable=True):
        head = _head()
        last = AuditEvent.objects.filter(at__lte=cutoff).order_by("-seq").values("seq", "row_hash").first()
        if last is None or last["seq"] <= head.anchor_seq:
            return 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL crisisdesk.audit_purge = 'on'")
        removed, _ = AuditEvent.objects.filter(seq__lte=last["seq"]).delete()
        AuditChainHead.objects.filter(pk=head.pk).update(anchor_seq=last["seq"], anchor_hash=last["row_hash"])
        record(
            actor,
            "audit.purge",
            object_type="auditevent",
            details={"through_seq": last["seq"], "removed": removed, "cutoff": cutoff.isoformat()},
        )
    return removed
