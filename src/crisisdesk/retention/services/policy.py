"""Publishing a retention policy version (the write path) and reading the active one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from crisisdesk.audit.services import record
from crisisdesk.calls.errors import Conflict, Forbidden
from crisisdesk.calls.services import InvalidInput
from crisisdesk.domain.retention import (
    RetentionPolicy,
    RetentionPolicyError,
    Rule,
    parse_policy,
    policy_document,
)
from crisisdesk.domain.roles import may
from crisisdesk.retention.models import RetentionPolicyVersion, RetentionRule


class NoPolicy(RuntimeError):
    """No active retention policy: the purge refuses to guess periods."""


def require_manager(actor: Any) -> None:
    """An administrator, or None for the scheduled job the operator runs from the command line."""
    if actor is None:
        return
    if not may(getattr(actor, "role", ""), "manage_retention"):
        raise Forbidden(f"a {getattr(actor, 'role', '') or 'anonymous'} may not manage retention")


def active_policy() -> tuple[RetentionPolicyVersion, RetentionPolicy]:
    row = RetentionPolicyVersion.objects.filter(is_active=True).first()
    if row is None:
        raise NoPolicy("no active retention policy (migration retention/0002 installs the first)")
    return row, policy_from_row(row)


def policy_from_row(row: RetentionPolicyVersion) -> RetentionPolicy:
    rules = {
        r.record_type: {"days": r.days, "counted_from": r.counted_from, "basis": r.basis}
        for r in row.rules.all()
    }
    return parse_policy({"version": row.version, "rules": rules})


def publish_retention_policy(
    actor: Any, document: dict[str, Any], change_note: str, now: datetime | None = None
) -> RetentionPolicyVersion:
    """An administrator's change: a new active version with one rule per record type."""
    require_manager(actor)
    try:
        policy = parse_policy(document)
    except RetentionPolicyError as exc:
        raise InvalidInput("document", "; ".join(exc.problems)) from None
    if not (change_note or "").strip():
        raise InvalidInput("change_note", "say why the retention policy changes", "missing")
    if len(change_note) > 4000:
        raise InvalidInput("change_note", "at most 4000 characters", "string_too_long")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        if RetentionPolicyVersion.objects.filter(version=policy.version).exists():
            raise Conflict(f"retention policy {policy.version!r} exists; give the change a new version")
        previous = RetentionPolicyVersion.objects.filter(is_active=True).first()
        RetentionPolicyVersion.objects.filter(is_active=True).update(is_active=False)
        row = RetentionPolicyVersion.objects.create(
            version=policy.version, is_active=True, created_by=actor, created_at=now, change_note=change_note
        )
        RetentionRule.objects.bulk_create(_rule_rows(row, policy.rules.values()))
        record(
            actor,
            "retention_policy.publish",
            row,
            details={
                "version": policy.version,
                "previous": previous.version if previous else None,
                "rules": policy_document(policy)["rules"],
            },
        )
    return row


def _rule_rows(row: RetentionPolicyVersion, rules: Any) -> list[RetentionRule]:
    out = []
    for rule in rules:
        assert isinstance(rule, Rule)
        out.append(
            RetentionRule(
                policy=row,
                record_type=rule.record_type,
                days=rule.days,
                counted_from=rule.counted_from,
                basis=rule.basis,
            )
        )
    return out
