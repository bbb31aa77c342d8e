"""What a purge of each record type deletes, in which order, and what makes a record live.

A `Plan` names the table a record type lives in (its root), its parts (rows deleted with it,
children first), and the live-state checks. What *holds* a record is not listed here: the purge
finds it from the schema, row by row (any row outside the plan that points at the record or one of
its parts, through any foreign key that is not SET_NULL). So a table added later that points at a
case (a disclosure ledger entry, an access grant) keeps the case until that row is gone, instead
of being deleted with it or making the purge fail.

The tables of the disclosure ledger and of sign-in (failures, server-side sessions) are looked up
by name when first needed, so this module works while those apps change; another app can add or
replace a plan with `register_plan` from its `AppConfig.ready()`. A record type with no table is
reported as such by the purge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.sessions.models import Session
from django.db.models import Exists, Model, OuterRef, Q

from crisisdesk.calls.models import (
    Call,
    Decision,
    DecisionReason,
    Escalation,
    FallbackRoute,
    IntakeConflict,
    RejectedRecord,
    Screening,
    Transfer,
)
from crisisdesk.casework.models import (
    Assessment,
    Case,
    CaseNote,
    CaseParticipant,
    ContactConsent,
    FollowUp,
    FollowUpAttempt,
    Person,
    PersonLink,
    SafetyPlan,
)
from crisisdesk.domain import cases, followups, referrals, transfers
from crisisdesk.domain.retention import TYPES, Reason
from crisisdesk.referrals.models import Referral, ReferralConsent, ReferralEvent


@dataclass(frozen=True)
class Part:
    """Rows of `model` deleted with the record: those reaching the root's id by one of `paths`."""

    model: type[Model]
    paths: tuple[str, ...]
    only: Q = field(default_factory=Q)  # a further condition (e.g. "not part of a case")

    def q(self, root_ids: list[Any]) -> Q:
        reach = Q()
        for path in self.paths:
            reach |= Q(**{f"{path}__in": root_ids})
        return reach & self.only


@dataclass(frozen=True)
class Plan:
    record_type: str
    model: type[Model]
    parts: tuple[Part, ...] = ()  # deleted in this order, before the root
    live: tuple[tuple[Reason, Callable[[], Any]], ...] = ()  # reason, boolean expression on the root
    log_ids: bool = True  # False where the primary key is itself a secret (session keys)

    def __post_init__(self) -> None:
        if self.record_type not in TYPES:
            raise ValueError(f"unknown record type {self.record_type!r}")

    @property
    def root(self) -> Part:
        return Part(self.model, ("pk",))

    @property
    def all_parts(self) -> tuple[Part, ...]:
        return (*self.parts, self.root)


def _exists(model: type[Model], **lookups: Any) -> Callable[[], Any]:
    return lambda: Exists(model._default_manager.filter(**lookups))


NO_CASE = Q(case__isnull=True)


def _optional(label: str) -> type[Model] | None:
    """A table another app owns, if it is installed (`app_label.ModelName`)."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _built_in() -> list[Plan]:
    disclosure = _optional("casework.Disclosure")
    disclosure_consent = _optional("casework.DisclosureConsent")
    login_failure = _optional("accounts.LoginFailure")
    login_session = _optional("accounts.LoginSession")
    case_parts = (
        Part(Escalation, ("case_id",)),
        Part(SafetyPlan, ("case_id",)),
        Part(Assessment, ("case_id",)),
        Part(CaseNote, ("case_id",)),
        Part(CaseParticipant, ("case_id",)),
        # Consents are part of the case; the disclosures made under them are the ledger, kept on
        # their own period (they hold the case until they go).
        *((Part(disclosure_consent, ("case_id",)),) if disclosure_consent else ()),
        Part(ReferralConsent, ("case_id",)),
        Part(ContactConsent, ("case_id",)),
    )
    found = [
        Plan(
            "follow_up",
            FollowUp,
            parts=(Part(FollowUpAttempt, ("follow_up_id",)),),
            live=((Reason.FOLLOW_UP_PENDING, lambda: Q(status__in=sorted(followups.ACTIVE))),),
        ),
        Plan(
            "referral",
            Referral,
            parts=(Part(ReferralEvent, ("referral_id",)),),
            live=((Reason.REFERRAL_ACTIVE, lambda: Q(status__in=sorted(referrals.ACTIVE))),),
        ),
        Plan(
            "case",
            Case,
            parts=case_parts,
            live=(
                (Reason.CASE_OPEN, lambda: Q(status__in=sorted(cases.LIVE))),
                (
                    Reason.ESCALATION_UNACKNOWLEDGED,
                    _exists(Escalation, case=OuterRef("pk"), acknowledged_at__isnull=True),
                ),
            ),
        ),
        Plan("person", Person, parts=(Part(PersonLink, ("person_a_id", "person_b_id")),)),
        Plan("intake_conflict", IntakeConflict),
        Plan(
            "call",
            Call,
            # Escalations and consents that belong to a case go with the case, never with its call.
            parts=(
                Part(Escalation, ("call_id", "transfer__call_id"), only=NO_CASE),
                Part(FallbackRoute, ("call_id",)),
                Part(ContactConsent, ("call_id",), only=NO_CASE),
                Part(Transfer, ("call_id",)),
                Part(DecisionReason, ("decision__call_id",)),
                Part(Decision, ("call_id",)),
                Part(Screening, ("call_id",)),
            ),
            live=(
                (
                    Reason.TRANSFER_LIVE,
                    _exists(Transfer, call=OuterRef("pk"), status__in=sorted(transfers.ACTIVE)),
                ),
                (
                    Reason.ESCALATION_UNACKNOWLEDGED,
                    _exists(Escalation, call=OuterRef("pk"), acknowledged_at__isnull=True),
                ),
            ),
        ),
        Plan("rejected_record", RejectedRecord),
        Plan("session", Session, log_ids=False),
    ]
    if disclosure is not None:
        found.append(Plan("disclosure_ledger", disclosure))
    if login_failure is not None:
        found.append(Plan("login_failure", login_failure))
    if login_session is not None:
        found.append(Plan("login_session", login_session))
    return found


_PLANS: dict[str, Plan] = {}
_REGISTERED: dict[str, Plan] = {}


def _plans() -> dict[str, Plan]:
    if not _PLANS:
        _PLANS.update({p.record_type: p for p in _built_in()})
        _PLANS.update(_REGISTERED)
    return _PLANS


def register_plan(plan: Plan) -> None:
    """Add (or replace) the plan of a record type whose table another app owns.

    E.g. `register_plan(Plan("login_failure", LoginFailure))`. The audit trail cannot be registered: only the audit module deletes audit rows.
    """
    if TYPES[plan.record_type].deleted_by != "retention":
        raise ValueError(f"{plan.record_type} is not deleted by the retention purge")
    _REGISTERED[plan.record_type] = plan
    _PLANS.clear()


def plan_for(record_type: str) -> Plan | None:
    return _plans().get(record_type)


def owner_type(model: type[Model]) -> str:
    """The record type a table's rows belong to, for reporting what holds a record."""
    for plan in _plans().values():
        if any(p.model is model for p in plan.all_parts):
            return plan.record_type
    return model._meta.label_lower
