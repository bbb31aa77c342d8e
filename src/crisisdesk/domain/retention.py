"""Retention: how long each kind of record is kept, and whether one record is due for purge.

The policy is data (`retention/default_policy.yaml` is the first version; an administrator
publishes later ones): per record type, a period in days and the instant it is counted from (a
case from `closed_at`, a call from `received_at`, a follow-up from `ended_at`, ...). The periods
shipped are proposals to agree with the City and County records officers (reliability-security
§1.8 and §4.7), except the two floors below, which come from the rules themselves.

A record is due for purge when all of these hold, and `decide` reports every one that fails:

- it has the instant its period counts from (a case that never closed has no `closed_at`);
- `days` full days have passed since that instant (due exactly at `counted_from + days`, an
  elapsed-time instant computed in UTC, so a DST change moves nothing);
- it is not live (an open case, a live transfer, a pending follow-up, an active referral ...);
- nothing that is being kept holds on to it (a case still inside its period keeps its call and the
  person records in it; a pending follow-up keeps its case). The service works out what holds a
  record; this module only weighs the facts.

Deleting a record deletes its parts with it (a case's notes, assessments, safety plans,
participants, consents and escalations; a call's screenings, decisions, transfers and fallbacks).
The audit trail is never deleted here: it is hash-chained, and only the audit module may remove
its oldest rows without breaking the chain (`RecordType.deleted_by`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from crisisdesk.domain.calendar import NaiveDatetimeError

# Two periods are not proposals: HIPAA § 164.316 keeps documentation 6 years and the accounting of
# disclosures looks back 6 years (reliability-security §1.8). A policy below them is refused, so a
# typo cannot destroy the access audit or the disclosure ledger early.
SIX_YEARS = 2190
# Longer than any records schedule we know of; a policy beyond it is almost certainly a unit mistake.
MAX_DAYS = 100 * 366


class Outcome(StrEnum):
    DUE = "due"
    KEEP = "keep"


class Reason(StrEnum):
    PERIOD_ELAPSED = "period_elapsed"  # the only reason of a `due` decision
    INSIDE_RETENTION = "inside_retention"
    NOT_ENDED = "not_ended"  # no instant to count from yet (a case not closed, a follow-up not ended)
    HELD = "held_by_kept_record"  # a record that is kept depends on this one (see `held_by`)
    # Live records are never purged, whatever their age.
    CASE_OPEN = "case_open"
    TRANSFER_LIVE = "transfer_live"
    FOLLOW_UP_PENDING = "follow_up_pending"
    REFERRAL_ACTIVE = "referral_active"
    ESCALATION_UNACKNOWLEDGED = "escalation_unacknowledged"


LIVE_REASONS = frozenset(
    {
        Reason.CASE_OPEN,
        Reason.TRANSFER_LIVE,
        Reason.FOLLOW_UP_PENDING,
        Reason.REFERRAL_ACTIVE,
        Reason.ESCALATION_UNACKNOWLEDGED,
    }
)


@dataclass(frozen=True)
class RecordType:
    """A kind of record the policy covers: what its period may count from, and who deletes it."""

    key: str
    label: str
    anchors: tuple[str, ...]  # the instants a period may count from; the first is the default
    min_days: int = 0
    deleted_by: str = "retention"  # or "audit": only the audit module deletes audit rows (chain)


# In purge order: a record type comes before the types it holds on to, so one run that purges a
# follow-up can then purge its case, and a purged case frees its call and people in the same run.
RECORD_TYPES: tuple[RecordType, ...] = (
    # A ledger entry points at the case, referral and person it disclosed: it goes first.
    RecordType("disclosure_ledger", "disclosure ledger entry", ("disclosed_at",), min_days=SIX_YEARS),
    RecordType("follow_up", "follow-up (with its attempts)", ("ended_at",)),
    RecordType("referral", "referral (with its history)", ("ended_at", "created_at")),
    RecordType(
        "case",
        "case (notes, assessments, safety plans, participants, consents, escalations)",
        ("closed_at",),
    ),
    RecordType("person", "person record (and its links)", ("created_at",)),
    RecordType("intake_conflict", "intake conflict (a repeat with another payload)", ("received_at",)),
    RecordType("call", "call (screenings, decisions, transfers, fallbacks)", ("received_at",)),
    RecordType("rejected_record", "rejected CAD record", ("received_at",)),
    RecordType("login_failure", "failed sign-in", ("at",)),
    RecordType("login_session", "sign-in session record (server side)", ("created_at", "ended_at")),
    RecordType("session", "expired browser session", ("expire_date",)),
    RecordType("audit_event", "audit event", ("at",), min_days=SIX_YEARS, deleted_by="audit"),
)
TYPES: Mapping[str, RecordType] = {t.key: t for t in RECORD_TYPES}


@dataclass(frozen=True)
class Rule:
    record_type: str
    days: int
    counted_from: str
    basis: str = ""  # why this period: the rule, schedule or agreement it comes from

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.days)


@dataclass(frozen=True)
class RetentionPolicy:
    version: str
    rules: Mapping[str, Rule]


class RetentionPolicyError(ValueError):
    """A policy document is invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid retention policy: " + "; ".join(problems))


def _rule(key: str, raw: Any, problems: list[str]) -> Rule | None:
    rtype = TYPES[key]
    if not isinstance(raw, Mapping):
        problems.append(f"{key}: must be a mapping with days and counted_from")
        return None
    days = raw.get("days")
    # bool is an int in Python; `days: true` is a mistake, not one day.
    if isinstance(days, bool) or not isinstance(days, int):
        problems.append(f"{key}.days: must be a whole number of days, not {days!r}")
        days = None
    elif not 0 <= days <= MAX_DAYS:
        problems.append(f"{key}.days: between 0 and {MAX_DAYS}, not {days}")
    elif days < rtype.min_days:
        problems.append(f"{key}.days: at least {rtype.min_days} (six years: HIPAA § 164.316), not {days}")
    counted_from = raw.get("counted_from", rtype.anchors[0])
    if counted_from not in rtype.anchors:
        problems.append(f"{key}.counted_from: one of {', '.join(rtype.anchors)}, not {counted_from!r}")
    unknown = sorted(set(raw) - {"days", "counted_from", "basis"})
    if unknown:
        problems.append(f"{key}: unknown keys {', '.join(map(str, unknown))}")
    basis = raw.get("basis", "")
    if not isinstance(basis, str):
        problems.append(f"{key}.basis: must be text")
    if problems or days is None:
        return None
    return Rule(key, days, str(counted_from), str(basis).strip())


def parse_policy(doc: Mapping[str, Any]) -> RetentionPolicy:
    """Validate a policy document: a version and one rule for every record type, nothing else."""
    problems: list[str] = []
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > 32:
        problems.append("version: a non-empty string of at most 32 characters")
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, Mapping):
        raise RetentionPolicyError([*problems, "rules: a mapping from record type to its rule"])
    missing = [t.key for t in RECORD_TYPES if t.key not in raw_rules]
    if missing:
        problems.append(f"rules: no rule for {', '.join(missing)}")
    unknown = sorted(str(k) for k in raw_rules if k not in TYPES)
    if unknown:
        problems.append(f"rules: unknown record types {', '.join(unknown)}")
    rules: dict[str, Rule] = {}
    for key in (t.key for t in RECORD_TYPES if t.key in raw_rules):
        own: list[str] = []
        rule = _rule(key, raw_rules[key], own)
        problems.extend(own)
        if rule is not None:
            rules[key] = rule
    if problems:
        raise RetentionPolicyError(problems)
    return RetentionPolicy(str(version).strip(), rules)


def policy_document(policy: RetentionPolicy) -> dict[str, Any]:
    """The stored form of a policy (what `parse_policy` reads back)."""
    return {
        "version": policy.version,
        "rules": {
            key: {"days": r.days, "counted_from": r.counted_from, "basis": r.basis}
            for key, r in policy.rules.items()
        },
    }


@dataclass(frozen=True)
class RecordFacts:
    """What `decide` needs to know about one record; the service gathers these from the database.

    `anchors` maps an anchor name (e.g. "closed_at") to its instant, or None when it has none yet;
    `live` holds live-state reasons (`LIVE_REASONS`); `held_by` names the record types of kept
    records that depend on this one.
    """

    record_type: str
    anchors: Mapping[str, datetime | None]
    live: tuple[Reason, ...] = ()
    held_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetentionDecision:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    version: str
    due_at: datetime | None = None  # when the period ends (None: nothing to count from yet)
    held_by: tuple[str, ...] = field(default=())

    @property
    def due(self) -> bool:
        return self.outcome is Outcome.DUE


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(f"{what} must be timezone-aware")
    return value.astimezone(UTC)


def due_at(rule: Rule, anchor: datetime) -> datetime:
    """The instant the period ends: elapsed days on the UTC timeline (a DST day moves nothing)."""
    return _aware(anchor, rule.counted_from) + rule.period


def cutoff(rule: Rule, now: datetime) -> datetime:
    """Records whose anchor is at or before this instant have passed their period at `now`."""
    return _aware(now, "now") - rule.period


def decide(facts: RecordFacts, policy: RetentionPolicy, now: datetime) -> RetentionDecision:
    """Whether the record is due for purge at `now`, with every reason it is kept if it is not."""
    rule = policy.rules.get(facts.record_type)
    if rule is None:
        raise KeyError(f"the policy has no rule for {facts.record_type!r}")
    now = _aware(now, "now")
    bad_live = [r for r in facts.live if r not in LIVE_REASONS]
    if bad_live:
        raise ValueError(f"not live-state reasons: {bad_live}")
    reasons: list[Reason] = list(dict.fromkeys(facts.live))
    anchor = facts.anchors.get(rule.counted_from)
    end = None if anchor is None else due_at(rule, anchor)
    if end is None:
        reasons.append(Reason.NOT_ENDED)
    elif now < end:
        reasons.append(Reason.INSIDE_RETENTION)
    held = tuple(dict.fromkeys(facts.held_by))
    if held:
        reasons.append(Reason.HELD)
    if reasons:
        return RetentionDecision(Outcome.KEEP, tuple(reasons), policy.version, end, held)
    return RetentionDecision(Outcome.DUE, (Reason.PERIOD_ELAPSED,), policy.version, end)
