"""Use cases of the case itself: open, details, notes, assessments, safety plan, close, reopen.

Each public function is one durable transaction with its audit row inside it, and checks status
changes against `domain.cases.TRANSITIONS`. `open_case_for_transfer` is the exception: it runs
inside the claim's transaction (calls.services.claim_transfer), so a claim and its case commit
together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from crisisdesk.audit.services import record
from crisisdesk.calls.models import Call, Transfer
from crisisdesk.casework.models import Assessment, Case, CaseNote, SafetyPlan
from crisisdesk.casework.services.common import Conflict, InvalidInput, load_case, now_or, require, text
from crisisdesk.domain.cases import (
    CaseAction,
    CaseOrigin,
    CaseStatus,
    CloseFacts,
    Concern,
    InvalidCaseTransition,
    NoteKind,
    close_check,
    transition,
)
from crisisdesk.domain.instruments import (
    CSSRS_SCREENER,
    SAFETY_PLAN_FIELDS,
    SAFETY_PLAN_VERSION,
    InstrumentError,
    RiskLevel,
    get_instrument,
    safety_plan_problems,
    score,
)


class CloseRefused(InvalidCaseTransition):
    """The close breaks rules of `domain.cases.close_check` (409 with every reason)."""

    def __init__(self, status: CaseStatus, reasons: tuple[str, ...]):
        super().__init__(status, CaseAction.CLOSE)
        self.reasons = reasons
        self.args = (f"the case cannot close yet: {', '.join(reasons)}",)


def open_case_for_transfer(actor: Any, transfer: Transfer, now: datetime) -> Case:
    """Open the case of a transfer the actor just claimed. Runs inside the claim's transaction."""
    case = Case.objects.create(
        call_id=transfer.call_id,
        transfer=transfer,
        origin=CaseOrigin.TRANSFER,
        status=CaseStatus.OPEN,
        owner=actor,
        opened_at=now,
    )
    record(
        actor, "case.open", case, details={"transfer_id": transfer.pk, "origin": CaseOrigin.TRANSFER.value}
    )
    return case


def open_callback_case(
    actor: Any, *, call_id: int | None = None, note: str = "", now: datetime | None = None
) -> Case:
    """Open a case by hand, to call someone back (a "callback next shift", or a person who rang back)."""
    require(actor, "work_case")
    text("note", note, 4000)
    now = now_or(now)
    with transaction.atomic(durable=True):
        if call_id is not None and not Call.objects.filter(pk=call_id).exists():
            raise InvalidInput("call_id", "no such call")
        case = Case.objects.create(
            call_id=call_id, origin=CaseOrigin.CALLBACK, status=CaseStatus.OPEN, owner=actor, opened_at=now
        )
        if note.strip():
            CaseNote.objects.create(case=case, kind=NoteKind.OTHER, text=note, author=actor, written_at=now)
        record(actor, "case.open", case, details={"call_id": call_id, "origin": CaseOrigin.CALLBACK.value})
    return case


def update_case_details(
    actor: Any,
    case_id: int,
    *,
    concerns: list[str] | set[str] | frozenset[str],
    language: str = "",
    interpreter_used: bool = False,
    now: datetime | None = None,
) -> Case:
    """Presenting concerns (any of mental health, substance use, other crisis), language, interpreter."""
    require(actor, "work_case")
    unknown = sorted(set(concerns) - {c.value for c in Concern})
    if unknown:
        raise InvalidInput(
            "concerns", f"unknown concern(s) {unknown}; use {[c.value for c in Concern]}", "enum"
        )
    text("language", language, 64)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        _require_live(case, "change")
        before = sorted(case.concerns())
        case.concern_mental_health = Concern.MENTAL_HEALTH in concerns
        case.concern_substance_use = Concern.SUBSTANCE_USE in concerns
        case.concern_other_crisis = Concern.OTHER_CRISIS in concerns
        case.language = language.strip()
        case.interpreter_used = bool(interpreter_used)
        case.save(
            update_fields=[
                "concern_mental_health",
                "concern_substance_use",
                "concern_other_crisis",
                "language",
                "interpreter_used",
            ]
        )
        record(
            actor,
            "case.details",
            case,
            details={
                "concerns": sorted(case.concerns()),
                "before": before,
                "interpreter_used": interpreter_used,
            },
        )
    return case


def add_note(
    actor: Any, case_id: int, kind: str, note: str, now: datetime | None = None, *, part2: bool = False
) -> CaseNote:
    """A timestamped note of crisis intervention, counseling or support (notes are never edited).

    `part2`: the social worker says the note is about substance use (42 CFR Part 2); it then leaves
    the program only under a disclosure consent (domain.part2). Never inferred from the text."""
    require(actor, "work_case")
    if kind not in {k.value for k in NoteKind}:
        raise InvalidInput("kind", f"must be one of {[k.value for k in NoteKind]}", "enum")
    text("text", note, 20000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        _require_live(case, "add a note to")
        row = CaseNote.objects.create(
            case=case, kind=kind, text=note, part2=bool(part2), author=actor, written_at=now
        )
        record(actor, "case.note", row, details={"case_id": case.pk, "kind": kind, "part2": bool(part2)})
    return row


def record_assessment(
    actor: Any, case_id: int, instrument: str, answers: dict[str, str], now: datetime | None = None
) -> Assessment:
    """Score an instrument (current version) and keep answers, version, risk level and actions."""
    require(actor, "work_case")
    try:
        version = get_instrument(instrument).version
        result = score(instrument, version, answers)
    except InstrumentError as exc:
        error = InvalidInput("answers", str(exc))
        # One error per question, so a page (or an API client) can mark each one.
        error.errors = [
            {"field": f"answers.{p.field}", "reason": p.message, "type": p.code} for p in exc.details
        ]
        error.details["errors"] = error.errors
        raise error from None
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        _require_live(case, "assess")
        row = Assessment.objects.create(
            case=case,
            instrument=result.instrument,
            instrument_version=result.version,
            answers=dict(answers),
            risk_level=result.risk_level.value,
            reasons=list(result.reasons),
            required_actions=list(result.required_actions),
            flags=list(result.flags),
            assessed_by=actor,
            assessed_at=now,
        )
        record(
            actor,
            "case.assessment",
            row,
            details={"case_id": case.pk, "instrument": instrument, "risk_level": result.risk_level.value},
        )
    return row


def save_safety_plan(
    actor: Any, case_id: int, values: dict[str, str], now: datetime | None = None
) -> SafetyPlan:
    """Save the Stanley-Brown safety plan (a new row each time; `complete` says if it counts)."""
    require(actor, "work_case")
    known = {key for key, _ in SAFETY_PLAN_FIELDS}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidInput("values", f"unknown safety-plan field(s) {unknown}", "enum")
    clean = {key: text(key, values.get(key, ""), 4000).strip() for key in known}
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        _require_live(case, "plan for")
        problems = safety_plan_problems(clean)
        row = SafetyPlan.objects.create(
            case=case,
            version=SAFETY_PLAN_VERSION,
            values=clean,
            complete=not problems,
            written_by=actor,
            written_at=now,
        )
        record(actor, "case.safety_plan", row, details={"case_id": case.pk, "missing": list(problems)})
    return row


def record_escalation_declined(actor: Any, case_id: int, note: str, now: datetime | None = None) -> Case:
    """The person was offered escalation to 911 (or mobile crisis) and declined; the note says how."""
    require(actor, "work_case")
    text("note", note, 4000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        _require_live(case, "change")
        case.escalation_offer_declined_at = now
        case.save(update_fields=["escalation_offer_declined_at"])
        CaseNote.objects.create(
            case=case, kind=NoteKind.CRISIS_INTERVENTION, text=f"Escalation offered and declined: {note}",
            author=actor, written_at=now,
        )  # fmt: skip
        record(actor, "case.escalation_declined", case)
    return case


def latest_risk(case: Case) -> RiskLevel | None:
    row = (
        Assessment.objects.filter(case=case, instrument=CSSRS_SCREENER)
        .order_by("-assessed_at", "-pk")
        .values_list("risk_level", flat=True)
        .first()
    )
    return RiskLevel(row) if row else None


def close_facts(case: Case, disposition: str, reason: str) -> CloseFacts:
    plan = SafetyPlan.objects.filter(case=case).order_by("-written_at", "-pk").first()
    return CloseFacts(
        status=CaseStatus(case.status),
        disposition=disposition,
        reason=reason,
        concerns=case.concerns(),
        risk_level=latest_risk(case),
        escalated=case.escalations.exists(),
        escalation_offer_declined=case.escalation_offer_declined_at is not None,
        safety_plan_complete=bool(plan and plan.complete),
    )


def close_case(actor: Any, case_id: int, disposition: str, reason: str, now: datetime | None = None) -> Case:
    """Close with a coded disposition and a reason, if `domain.cases.close_check` allows it.

    A claimed transfer still live is completed in the same transaction: the phone part ended.
    """
    require(actor, "work_case")
    text("reason", reason, 4000)
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        check = close_check(close_facts(case, disposition, reason))
        if not check.ok:
            refusal = CloseRefused(CaseStatus(case.status), check.reasons)
            record(actor, "case.close", case, outcome="refused", details={"reasons": list(check.reasons)})
        else:
            refusal = None
            case.status = transition(case.status, CaseAction.CLOSE).value
            case.disposition = disposition
            case.close_reason = reason
            case.closed_at = now
            case.closed_by = actor
            case.save(update_fields=["status", "disposition", "close_reason", "closed_at", "closed_by"])
            _complete_live_transfer(actor, case, now)
            record(actor, "case.close", case, details={"disposition": disposition, "rules": check.version})
    # Raised after the commit so that the refused attempt stays in the audit trail.
    if refusal is not None:
        raise refusal
    return case


def reopen_case(actor: Any, case_id: int, reason: str, now: datetime | None = None) -> Case:
    """New information after closing: the case opens again; the earlier close stays in the audit."""
    require(actor, "work_case")
    text("reason", reason, 4000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        before = {
            "disposition": case.disposition,
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        }
        case.status = transition(case.status, CaseAction.REOPEN).value
        case.disposition = ""
        case.close_reason = ""
        case.closed_at = None
        case.closed_by = None
        case.save(update_fields=["status", "disposition", "close_reason", "closed_at", "closed_by"])
        CaseNote.objects.create(
            case=case, kind=NoteKind.OTHER, text=f"Reopened: {reason}", author=actor, written_at=now
        )
        record(actor, "case.reopen", case, details={"reason": reason, **before})
    return case


def _require_live(case: Case, verb: str) -> None:
    if case.status == CaseStatus.CLOSED:
        raise Conflict(f"the case is closed: reopen it to {verb} it")


def _complete_live_transfer(actor: Any, case: Case, now: datetime) -> None:
    from crisisdesk.calls.services import finish_claimed_transfer

    if case.transfer_id is not None:
        finish_claimed_transfer(actor, case.transfer_id, now, reason=f"case closed: {case.disposition}")


__all__ = [
    "CloseRefused",
    "add_note",
    "close_case",
    "latest_risk",
    "open_callback_case",
    "open_case_for_transfer",
    "record_assessment",
    "record_escalation_declined",
    "reopen_case",
    "save_safety_plan",
    "update_case_details",
]
