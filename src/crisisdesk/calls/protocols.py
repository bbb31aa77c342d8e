"""Publishing and loading protocol versions (the one write path for protocol rows)."""

from __future__ import annotations

from datetime import datetime
from threading import Lock
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from crisisdesk.audit.services import record
from crisisdesk.calls.errors import Forbidden, NoActiveProtocol
from crisisdesk.calls.models import ProtocolVersion
from crisisdesk.domain.calendar import ServiceCalendar
from crisisdesk.domain.protocol import Protocol, parse_protocol
from crisisdesk.domain.roles import may

_cache: dict[tuple[int, str, str, str], tuple[Protocol, ServiceCalendar]] = {}
_cache_lock = Lock()


def parsed(row: ProtocolVersion) -> tuple[Protocol, ServiceCalendar]:
    """The parsed protocol and its calendar for a stored row.

    Published rows never change, so the parse is cached; the key includes center, version and publication time so a
    reused primary key (a test database rolled back) can never serve another version's rules.
    """
    key = (row.pk, row.center, row.version, row.published_at.isoformat())
    with _cache_lock:
        hit = _cache.get(key)
        if hit is None:
            protocol = parse_protocol(row.document)
            hit = _cache[key] = (protocol, ServiceCalendar(protocol.calendar))
        return hit


def active_protocol() -> tuple[ProtocolVersion, Protocol, ServiceCalendar]:
    row = ProtocolVersion.objects.filter(is_active=True).order_by("-published_at").first()
    if row is None:
        raise NoActiveProtocol("no protocol has been published; run `crisisdesk publish_protocol`")
    protocol, calendar = parsed(row)
    return row, protocol, calendar


def publish_protocol(
    actor: Any,
    source_text: str,
    *,
    change_note: str = "",
    system: bool = False,
    now: datetime | None = None,
) -> ProtocolVersion:
    """Validate a protocol document and make it the active version of its center.

    The version string must be new for the center: published versions are immutable, so decisions
    made under them stay explainable. `system=True` is for the installer (no human actor).
    """
    if not system and not may(getattr(actor, "role", ""), "publish_protocol"):
        raise Forbidden("only an administrator can publish a protocol")
    doc = yaml.safe_load(source_text)
    if not isinstance(doc, dict):
        raise ValueError("a protocol file must hold a mapping at the top level")
    protocol = parse_protocol(doc)  # raises ProtocolError with every problem
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        if ProtocolVersion.objects.filter(center=protocol.center, version=protocol.version).exists():
            raise ValueError(
                f"{protocol.center} version {protocol.version} exists; give the change a new version"
            )
        previous = list(
            ProtocolVersion.objects.select_for_update().filter(center=protocol.center, is_active=True)
        )
        ProtocolVersion.objects.filter(pk__in=[p.pk for p in previous]).update(is_active=False)
        row = ProtocolVersion.objects.create(
            center=protocol.center,
            version=protocol.version,
            document=_jsonable(doc),
            source_text=source_text,
            published_at=now,
            published_by=actor if getattr(actor, "pk", None) else None,
            is_active=True,
            change_note=change_note,
        )
        record(
            actor,
            "protocol.publish",
            row,
            details={"version": protocol.version, "replaces": [p.version for p in previous]},
        )
    return row


def _jsonable(value: Any) -> Any:
    """YAML may produce dates; the stored document is plain JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
