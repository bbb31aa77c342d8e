"""Audited reads: the scoped queries note each protected record they hand out; the rows are written
before the response that shows them leaves the server.

Within a request (RequestContextMiddleware) the noted reads are collected and written, one row per
record, when the response is ready and discloses something: a polled fragment that has not changed
(204) or a redirect shows nothing and writes nothing, so a screen polling every second does not
write a row a second, while every view of the data does. If the rows cannot be written, the response
is replaced by the generic error page: no data leaves unaudited (fail closed, CJIS AU-5 / ASVS 16.5.3).
Outside a request (commands, jobs) a noted read is written at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from django.db.models import Model

_pending: ContextVar[dict[tuple[Any, ...], tuple[Any, Model, str]] | None] = ContextVar(
    "crisisdesk_audited_reads", default=None
)


def note(actor: Any, objs: Model | Iterable[Model] | None, *, action: str = "") -> None:
    """Record that `actor` is being shown `objs` (one row each; the same record once per request)."""
    if objs is None:
        return
    items = [objs] if isinstance(objs, Model) else [o for o in objs if o is not None]
    if not items:
        return
    pending = _pending.get()
    if pending is None:
        from crisisdesk.audit.services import record_read

        record_read(actor, items, action=action)
        return
    for obj in items:
        key = (getattr(actor, "pk", None), obj._meta.label, obj.pk, action)
        pending.setdefault(key, (actor, obj, action))


_denied: ContextVar[bool] = ContextVar("crisisdesk_denial_audited", default=False)


def mark_denied() -> None:
    """A refusal of this request has its audit row (the middleware then writes no generic one)."""
    _denied.set(True)


def denial_recorded() -> bool:
    return _denied.get()


_deferred: ContextVar[tuple[Any, ...] | None] = ContextVar("crisisdesk_deferred_denial", default=None)


def defer_denial(actor: Any, action: str, object_type: str, object_id: str, details: Any) -> bool:
    """Keep a refusal for the middleware to write (False outside a request: write it yourself)."""
    if _pending.get() is None:
        return False
    if _deferred.get() is None:
        _deferred.set((actor, action, object_type, object_id, details))
    return True


def deferred_denial() -> tuple[Any, ...] | None:
    return _deferred.get()


def begin() -> object:
    _denied.set(False)
    _deferred.set(None)
    return _pending.set({})


def end(token: object, *, disclosed: bool) -> int:
    """Write the collected rows when the response disclosed something; returns the number written."""
    pending = _pending.get()
    _pending.reset(token)  # type: ignore[arg-type]
    if not disclosed or not pending:
        return 0
    from crisisdesk.audit.services import record_reads

    # Grouped by action (a stable sort keeps the order of the reads within each), so that a page's
    # rows come out in the same order every time.
    return len(record_reads(sorted(pending.values(), key=lambda read: read[2])))
