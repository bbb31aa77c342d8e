"""The audited purge: delete the records whose retention period has passed, and nothing else.

For each record type, in the order of `domain.retention.RECORD_TYPES` (a type before the types it
holds on to), one durable transaction: find the records past their period, lock them, gather their
facts (live state, what holds them), let `domain.retention.decide` rule on each, delete the due ones
with their parts (children first), and write ONE audit row `retention.purge` for the type with the
counts, the ids purged and the policy version. The rows are really deleted (no soft delete); what
that means for SQLite pages and backups is in docs/retention.md.

A run deletes at most `limit` records of a type (the transaction stays bounded); the rest is
reported as remaining and goes in the next run. A type whose purge fails (a row that holds a record
appeared in between) is rolled back alone, audited as failed, and the run goes on.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import SET_NULL, Model, ProtectedError, RestrictedError
from django.utils import timezone

from crisisdesk.audit.models import AuditEvent
from crisisdesk.audit.services import record
from crisisdesk.domain.calendar import NaiveDatetimeError
from crisisdesk.domain.retention import (
    RECORD_TYPES,
    RecordFacts,
    RetentionPolicy,
    Rule,
    cutoff,
    decide,
)
from crisisdesk.retention import plans
from crisisdesk.retention.plans import Plan
from crisisdesk.retention.services.policy import active_policy, require_manager

log = logging.getLogger(__name__)

CHUNK = 500  # rows per statement: far below SQLite's and PostgreSQL's parameter limits
MAX_PER_RUN = 5000  # records of one type deleted per run


@dataclass
class TypeReport:
    record_type: str
    status: str  # purged | dry_run | no_table | audit_module | failed
    days: int = 0
    counted_from: str = ""
    cutoff: datetime | None = None
    past_period: int = 0  # records whose period has passed (live or held ones included)
    due: int = 0  # of those, due for purge now
    purged: int = 0
    ids: list[Any] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)  # reason -> records kept for it
    held_by: dict[str, int] = field(default_factory=dict)  # record type -> records it holds
    rows_deleted: dict[str, int] = field(default_factory=dict)  # table -> rows (parts included)
    more_remain: bool = False
    error: str = ""

    def audit_details(self, policy_version: str, log_ids: bool = True) -> dict[str, Any]:
        details: dict[str, Any] = {
            "policy_version": policy_version,
            "status": self.status,
            "days": self.days,
            "counted_from": self.counted_from,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "past_period": self.past_period,
            "due": self.due,
            "purged": self.purged,
            "kept": self.kept,
            "held_by": self.held_by,
            "rows_deleted": self.rows_deleted,
            "more_remain": self.more_remain,
        }
        if log_ids:
            details["ids"] = self.ids
        else:
            details["ids_withheld"] = "the primary key is a credential"
        if self.error:
            details["error"] = self.error
        return details


@dataclass
class PurgeReport:
    policy_version: str
    at: datetime
    dry_run: bool
    types: list[TypeReport]

    @property
    def failed(self) -> bool:
        return any(t.status == "failed" for t in self.types)

    def by_type(self) -> dict[str, TypeReport]:
        return {t.record_type: t for t in self.types}


@dataclass(frozen=True)
class AuditDue:
    """What the active policy makes due in the audit trail (for the audit module's purge)."""

    policy_version: str
    days: int
    cutoff: datetime  # rows with `at` at or before this instant are past their period
    count: int


# The audit module's chain-aware purge, `(actor, cutoff) -> rows removed`, registered from its
# AppConfig.ready() with `register_audit_purge`. Until then audit rows are only counted.
_AUDIT_PURGE: list[Any] = []


def register_audit_purge(purge: Any) -> None:
    """For the audit module: the purge calls `purge(actor, cutoff)` with the policy's cutoff."""
    _AUDIT_PURGE[:] = [purge]


def audit_events_due(now: datetime | None = None) -> AuditDue:
    """The hook for the audit chain's own purge: the cutoff of the active policy and how many rows
    are past it. Only rows older than every period apply (the audit module keeps the chain whole)."""
    now = _now(now)
    row, policy = active_policy()
    rule = policy.rules["audit_event"]
    end = cutoff(rule, now)
    return AuditDue(row.version, rule.days, end, AuditEvent.objects.filter(at__lte=end).count())


def purge_expired(
    actor: Any, *, now: datetime | None = None, dry_run: bool = False, limit: int = MAX_PER_RUN
) -> PurgeReport:
    """Purge every record due under the active retention policy at `now` (or say what would go).

    A dry run deletes nothing and writes one `retention.dry_run` audit row with the counts; a real
    run writes one `retention.purge` row per record type (zero counts included, so every run shows).
    """
    require_manager(actor)
    now = _now(now)
    policy_row, policy = active_policy()
    released: dict[type[Model], set[Any]] = defaultdict(set)  # dry run: what this run would delete
    reports: list[TypeReport] = []
    for rtype in RECORD_TYPES:
        rule = policy.rules[rtype.key]
        if rtype.deleted_by == "audit":
            reports.append(_audit_type(actor, rule, policy.version, now, dry_run))
            continue
        plan = plans.plan_for(rtype.key)
        if plan is None:
            report = TypeReport(rtype.key, "no_table", rule.days, rule.counted_from, cutoff(rule, now))
            if not dry_run:
                _audit_row(actor, report, policy.version)
            reports.append(report)
            continue
        reports.append(_purge_type(actor, plan, rule, policy, now, dry_run, limit, released))
    result = PurgeReport(policy.version, now, dry_run, reports)
    if dry_run:
        with transaction.atomic(durable=True):
            record(actor, "retention.dry_run", policy_row, details=_summary(result))
    return result


def _now(now: datetime | None) -> datetime:
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise NaiveDatetimeError("now must be timezone-aware")
    return now


def _summary(report: PurgeReport) -> dict[str, Any]:
    return {
        "policy_version": report.policy_version,
        "at": report.at.isoformat(),
        "types": {
            t.record_type: {"status": t.status, "past_period": t.past_period, "due": t.due, "kept": t.kept}
            for t in report.types
        },
    }


def _audit_row(actor: Any, report: TypeReport, version: str, log_ids: bool = True) -> None:
    with transaction.atomic(durable=True):
        record(
            actor,
            "retention.purge",
            outcome="failed" if report.status == "failed" else "ok",
            object_type=report.record_type,
            details=report.audit_details(version, log_ids),
        )


def _audit_type(actor: Any, rule: Rule, version: str, now: datetime, dry_run: bool) -> TypeReport:
    """Audit rows are counted here and deleted only by the audit module (the chain stays verifiable)."""
    end = cutoff(rule, now)
    report = TypeReport(rule.record_type, "audit_module", rule.days, rule.counted_from, end)
    report.past_period = report.due = AuditEvent.objects.filter(at__lte=end).count()
    if dry_run:
        return report
    if _AUDIT_PURGE and report.due:
        report.purged = int(_AUDIT_PURGE[0](actor, end))
        report.rows_deleted = {AuditEvent._meta.label_lower: report.purged}
    _audit_row(actor, report, version)
    return report


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _purge_type(
    actor: Any,
    plan: Plan,
    rule: Rule,
    policy: RetentionPolicy,
    now: datetime,
    dry_run: bool,
    limit: int,
    released: dict[type[Model], set[Any]],
) -> TypeReport:
    end = cutoff(rule, now)
    report = TypeReport(
        rule.record_type, "dry_run" if dry_run else "purged", rule.days, rule.counted_from, end
    )
    try:
        with transaction.atomic(durable=True):
            due = _decide(plan, rule, policy, now, limit, report, released if dry_run else None)
            if dry_run:
                _release(plan, due, released)
            else:
                _delete(plan, due, report)
                record(
                    actor,
                    "retention.purge",
                    object_type=rule.record_type,
                    details=report.audit_details(policy.version, plan.log_ids),
                )
    except (ProtectedError, RestrictedError) as exc:
        # A row that holds a record appeared between the facts and the delete: nothing of this type
        # was deleted (the transaction rolled back); the next run decides again.
        log.warning("retention purge of %s rolled back: %s", rule.record_type, type(exc).__name__)
        report = TypeReport(
            rule.record_type, "failed", rule.days, rule.counted_from, end, error=type(exc).__name__
        )
        if not dry_run:
            _audit_row(actor, report, policy.version, plan.log_ids)
    return report


def _decide(
    plan: Plan,
    rule: Rule,
    policy: RetentionPolicy,
    now: datetime,
    limit: int,
    report: TypeReport,
    released: dict[type[Model], set[Any]] | None,
) -> list[Any]:
    root = plan.model
    anchor = rule.counted_from
    candidates = list(
        root._default_manager.filter(**{f"{anchor}__lte": report.cutoff})
        .order_by("pk")
        .values_list("pk", anchor)
    )
    report.past_period = len(candidates)
    kept: Counter[str] = Counter()
    held_by: Counter[str] = Counter()
    due: list[Any] = []
    for chunk in _chunks(candidates):
        ids = [pk for pk, _ in chunk]
        # Lock the records (PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock)
        # so a case cannot be reopened between its facts and its deletion.
        list(root._default_manager.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
        live: dict[Any, list[Any]] = defaultdict(list)
        for reason, expression in plan.live:
            for pk in (
                root._default_manager.filter(pk__in=ids).filter(expression()).values_list("pk", flat=True)
            ):
                live[pk].append(reason)
        holders = _holders(plan, ids, released)
        for pk, instant in chunk:
            facts = RecordFacts(
                rule.record_type, {anchor: instant}, tuple(live[pk]), tuple(sorted(holders[pk]))
            )
            decision = decide(facts, policy, now)
            if decision.due:
                if len(due) >= limit:
                    report.more_remain = True
                    continue
                due.append(pk)
            else:
                kept.update(r.value for r in decision.reasons)
                held_by.update(decision.held_by)
    report.due = len(due)
    report.kept = dict(sorted(kept.items()))
    report.held_by = dict(sorted(held_by.items()))
    return due


def _part_rows(plan: Plan, ids: list[Any]) -> dict[type[Model], dict[Any, Any]]:
    """For each table of the plan: its rows belonging to these records, mapped to the record's id."""
    wanted = set(ids)
    rows: dict[type[Model], dict[Any, Any]] = {}
    for part in plan.parts:
        mapping: dict[Any, Any] = {}
        for pk, *roots in part.model._default_manager.filter(part.q(ids)).values_list("pk", *part.paths):
            mapping[pk] = next(r for r in roots if r in wanted)
        rows.setdefault(part.model, {}).update(mapping)
    rows.setdefault(plan.model, {}).update({pk: pk for pk in ids})
    return rows


def _holders(plan: Plan, ids: list[Any], released: dict[type[Model], set[Any]] | None) -> dict[Any, set[str]]:
    """Which record types hold each record: rows outside the plan pointing at it or at its parts.

    Found from the schema (every reverse foreign key that is not SET_NULL), so a table another app
    adds later holds what it points at. In a dry run, rows an earlier type would delete are ignored.
    """
    rows = _part_rows(plan, ids)
    held: dict[Any, set[str]] = defaultdict(set)
    for model, mapping in rows.items():
        if not mapping:
            continue
        for rel in _reverse_relations(model):
            other = rel.related_model
            assert isinstance(other, type) and issubclass(other, Model)
            own = rows.get(other, {})
            gone = released.get(other, set()) if released is not None else set()
            for targets in _chunks(list(mapping)):
                pointing = other._default_manager.filter(**{f"{rel.field.name}__in": targets})
                for pk, target in pointing.values_list("pk", rel.field.attname):
                    if pk in own or pk in gone:
                        continue
                    held[mapping[target]].add(plans.owner_type(other))
    return held


def _reverse_relations(model: type[Model]) -> list[Any]:
    """Foreign keys pointing at `model`, hidden ones (related_name="+") included: a deletion must
    respect those too (Django's own collector does)."""
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created
        and not f.concrete
        and (f.one_to_many or f.one_to_one)
        and getattr(f, "on_delete", None) is not SET_NULL
    ]


def _release(plan: Plan, due: list[Any], released: dict[type[Model], set[Any]]) -> None:
    for chunk in _chunks(due):
        for model, mapping in _part_rows(plan, chunk).items():
            released[model].update(mapping)


def _delete(plan: Plan, due: list[Any], report: TypeReport) -> None:
    deleted: Counter[str] = Counter()
    for chunk in _chunks(due):
        for part in plan.all_parts:
            _, counts = part.model._default_manager.filter(part.q(chunk)).delete()
            deleted.update({k.lower(): v for k, v in counts.items() if v})
    report.purged = len(due)
    report.ids = list(due) if plan.log_ids else []
    report.rows_deleted = dict(sorted(deleted.items()))
