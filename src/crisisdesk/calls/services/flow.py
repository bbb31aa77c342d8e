"""Screening and decision, transfers (request, claim, decline, cancel, complete, escalate, expire),
the fallback, presence and availability."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from crisisdesk.audit.services import record
from crisisdesk.calls.errors import Conflict, Forbidden, NotAllowedByDecision, NotFound
from crisisdesk.calls.models import (
    Call,
    Decision,
    DecisionReason,
    Escalation,
    FallbackRoute,
    Screening,
    SocialWorkerStatus,
    Transfer,
)
from crisisdesk.calls.protocols import active_protocol
from crisisdesk.calls.services.base import InvalidInput, _now, _require, _text
from crisisdesk.domain.followups import next_shift_start
from crisisdesk.domain.reasons import Outcome
from crisisdesk.domain.roles import Role
from crisisdesk.domain.transfers import InvalidTransition, TransferAction, TransferStatus, transition
from crisisdesk.domain.triage import decide

# --- screening and decision -------------------------------------------------------------------


# A social worker counts as available only while set "available" AND their queue screen checked in
# within PRESENCE_WINDOW (the page polls every second; presence is written at most every
# PRESENCE_WRITE_EVERY). Otherwise live decisions say social_worker_unavailable at once instead of
# sending a transfer to an empty desk and waiting for its timeout.
PRESENCE_WINDOW = timedelta(seconds=60)
PRESENCE_WRITE_EVERY = timedelta(seconds=15)


def social_worker_available(now: datetime | None = None) -> bool:
    now = _now(now)
    return SocialWorkerStatus.objects.filter(
        status=SocialWorkerStatus.Status.AVAILABLE, last_seen_at__gte=now - PRESENCE_WINDOW
    ).exists()


def record_presence(actor: Any, now: datetime | None = None) -> None:
    """The social worker's queue screen is open (called by its polls).

    One conditional UPDATE, skipped when the last check-in is recent, so a screen polling every
    second writes about four times a minute. Not audited: it touches no call or case data.
    """
    if getattr(actor, "role", "") != Role.SOCIAL_WORKER:
        return
    now = _now(now)
    stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - PRESENCE_WRITE_EVERY)
    SocialWorkerStatus.objects.filter(stale, user=actor).update(last_seen_at=now)


def screen_call(
    actor: Any, call_id: int, answers: dict[str, bool | None], now: datetime | None = None
) -> Decision:
    """Record the screening answers and the decision the active protocol makes from them."""
    _require(actor, "screen_call")
    now = _now(now)
    row, protocol, calendar = active_protocol()
    unknown = sorted(set(answers) - set(protocol.question_ids))
    if unknown:
        raise InvalidInput(
            f"answers.{unknown[0]}", f"not a question of protocol {protocol.version}: {unknown}"
        )
    with transaction.atomic(durable=True):
        call = Call.objects.filter(pk=call_id).first()
        if call is None:
            raise NotFound("no such call")
        available = social_worker_available(now)
        result = decide(protocol, call.call_type_raw, answers, now, available, calendar=calendar)
        full_answers = {q: answers.get(q) for q in protocol.question_ids}
        screening = Screening.objects.create(
            call=call, answers=full_answers, screened_by=actor, screened_at=now
        )
        decision = Decision.objects.create(
            call=call,
            screening=screening,
            protocol=row,
            outcome=result.outcome.value,
            fallback_options=list(result.fallback_options),
            social_worker_available=available,
            next_opening=result.next_opening,
            decided_at=now,
            decided_by=actor,
        )
        DecisionReason.objects.bulk_create(
            DecisionReason(decision=decision, code=r.value, position=i) for i, r in enumerate(result.reasons)
        )
        record(
            actor,
            "call.screen",
            call,
            details={
                "decision_id": decision.pk,
                "outcome": result.outcome.value,
                "reasons": [r.value for r in result.reasons],
                "protocol_version": result.protocol_version,
            },
        )
    return decision


# --- transfers --------------------------------------------------------------------------------


def request_transfer(actor: Any, call_id: int, now: datetime | None = None) -> Transfer:
    """Hand a call to the social worker. Allowed only when the call's latest decision is `transfer`.

    At most one live transfer per call (the database enforces it too): a double click or a retried
    request gets the existing live transfer back instead of a second one.
    """
    _require(actor, "request_transfer")
    now = _now(now)
    _, protocol, _ = active_protocol()
    with transaction.atomic(durable=True):
        # Lock the call so that two concurrent requests for it queue here: without it both would
        # see no live transfer on PostgreSQL and the loser would hit the unique constraint (a 500).
        if not Call.objects.select_for_update().filter(pk=call_id).exists():
            raise NotFound("no such call")
        decision = Decision.objects.filter(call_id=call_id).order_by("-decided_at", "-pk").first()
        if decision is None:
            raise NotAllowedByDecision("screen the call before transferring it")
        live = Transfer.objects.filter(
            call_id=call_id, status__in=[TransferStatus.REQUESTED, TransferStatus.CLAIMED]
        )
        existing = live.first()
        if existing is not None:
            return existing
        if decision.outcome != Outcome.TRANSFER:
            raise NotAllowedByDecision(
                f"the decision for this call is {decision.outcome}, not transfer",
                outcome=decision.outcome,
                reasons=decision.reason_codes,
                fallback_options=decision.fallback_options,
            )
        transfer = Transfer.objects.create(
            call_id=call_id,
            decision=decision,
            status=TransferStatus.REQUESTED,
            requested_by=actor,
            requested_at=now,
            deadline=now + timedelta(seconds=protocol.transfer_timeout_seconds),
        )
        record(
            actor,
            "transfer.request",
            transfer,
            details={"call_id": call_id, "deadline": transfer.deadline.isoformat()},
        )
    return transfer


END_REASON_MAX = 255  # Transfer.end_reason's max_length


def _load_transfer(transfer_id: int, *, lock: bool = True) -> Transfer:
    qs = Transfer.objects.select_for_update() if lock else Transfer.objects
    transfer = qs.filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound("no such transfer")
    return transfer


def claim_transfer(actor: Any, transfer_id: int, now: datetime | None = None) -> Transfer:
    """The social worker takes a requested transfer. Exactly one of concurrent claims wins.

    The claim is one conditional UPDATE (status still `requested`, deadline not passed), so two
    social workers clicking at once cannot both succeed on SQLite or PostgreSQL; the loser gets
    `InvalidTransition` (409) naming the current status.
    """
    _require(actor, "claim_transfer")
    now = _now(now)
    with transaction.atomic(durable=True):
        won = Transfer.objects.filter(
            pk=transfer_id, status=TransferStatus.REQUESTED, deadline__gt=now
        ).update(status=TransferStatus.CLAIMED, claimed_by=actor, claimed_at=now)
        transfer = _load_transfer(transfer_id, lock=False)
        if won:
            from crisisdesk.casework.services.cases import open_case_for_transfer  # casework builds on calls

            SocialWorkerStatus.objects.update_or_create(
                user=actor, defaults={"status": SocialWorkerStatus.Status.BUSY, "changed_at": now}
            )
            waited = (now - transfer.requested_at).total_seconds()
            record(actor, "transfer.claim", transfer, details={"seconds_to_claim": waited})
            open_case_for_transfer(actor, transfer, now)
        else:
            if transfer.status == TransferStatus.REQUESTED:  # the deadline passed: time it out now
                # A sweep (or another late claim) may end it between our read and our update: then
                # _end refreshes `transfer` and the refusal below names the status it now has.
                with contextlib.suppress(InvalidTransition):
                    transfer = _end(
                        None, transfer, TransferAction.TIMEOUT, now, "not claimed before the deadline"
                    )
            record(actor, "transfer.claim", transfer, outcome="refused", details={"status": transfer.status})
    # Raised after the commit so that the refusal (and any timeout) stays recorded.
    if not won:
        raise InvalidTransition(TransferStatus(transfer.status), TransferAction.CLAIM)
    return transfer


def _end(actor: Any, transfer: Transfer, action: TransferAction, now: datetime, reason: str = "") -> Transfer:
    step = transition(transfer.status, action)
    updated = Transfer.objects.filter(pk=transfer.pk, status=step.before).update(
        status=step.after,
        ended_at=now,
        ended_by=actor if getattr(actor, "pk", None) else None,
        end_reason=reason,
    )
    if not updated:  # changed under us since it was read
        transfer.refresh_from_db()
        raise InvalidTransition(TransferStatus(transfer.status), action)
    transfer.refresh_from_db()
    record(actor, f"transfer.{action.value}", transfer, details={"from": step.before.value, "reason": reason})
    return transfer


def finish_claimed_transfer(actor: Any, transfer_id: int, now: datetime, reason: str) -> None:
    """Inside a casework transaction: the case closed, so a transfer still claimed is completed."""
    transfer = _load_transfer(transfer_id)
    if transfer.status == TransferStatus.CLAIMED:
        _end(actor, transfer, TransferAction.COMPLETE, now, reason[:END_REASON_MAX])
        if transfer.claimed_by_id == getattr(actor, "pk", None):  # as complete_transfer: free again
            _set_status(actor, SocialWorkerStatus.Status.AVAILABLE, now)


def _act(
    actor: Any, transfer_id: int, action: TransferAction, permission: str, reason: str, now: datetime | None
) -> Transfer:
    _require(actor, permission)
    _text("reason", reason, END_REASON_MAX)
    now = _now(now)
    with transaction.atomic(durable=True):
        return _end(actor, _own_transfer(actor, _load_transfer(transfer_id)), action, now, reason)


def _own_transfer(actor: Any, transfer: Transfer) -> Transfer:
    """A telecommunicator acts only on the transfers they asked for (domain.permissions: own scope);
    another's is not found, before any status check, so its status does not leak."""
    if getattr(actor, "role", "") == Role.TELECOMMUNICATOR and transfer.requested_by_id != actor.pk:
        raise NotFound("no such transfer")
    return transfer


def decline_transfer(actor: Any, transfer_id: int, reason: str = "", now: datetime | None = None) -> Transfer:
    """The social worker cannot take it; the telecommunicator is alerted and offered the fallback."""
    return _act(actor, transfer_id, TransferAction.DECLINE, "decline_transfer", reason, now)


def cancel_transfer(actor: Any, transfer_id: int, reason: str = "", now: datetime | None = None) -> Transfer:
    return _act(actor, transfer_id, TransferAction.CANCEL, "cancel_transfer", reason, now)


def complete_transfer(
    actor: Any, transfer_id: int, reason: str = "", now: datetime | None = None
) -> Transfer:
    """The social worker finished the call; they become available again in the same transaction."""
    _require(actor, "complete_transfer")
    _text("reason", reason, END_REASON_MAX)
    now = _now(now)
    with transaction.atomic(durable=True):
        transfer = _load_transfer(transfer_id)
        # A transfer nobody claimed (or already ended) is an invalid step (409) for anyone, checked
        # before ownership so that the answer does not depend on who asks.
        transition(transfer.status, TransferAction.COMPLETE)
        if transfer.claimed_by_id != actor.pk:
            raise Forbidden("only the social worker who claimed the transfer can complete it")
        transfer = _end(actor, transfer, TransferAction.COMPLETE, now, reason)
        _set_status(actor, SocialWorkerStatus.Status.AVAILABLE, now)
    return transfer


def escalate_transfer(
    actor: Any, transfer_id: int, responder: str, reason: str, now: datetime | None = None
) -> Escalation:
    """Send a claimed call back to 911 in one step: the escalation of the transfer's case.

    Claiming opens a case, so this is `casework.services.escalate_case` for the transfer's case;
    it stays here for the API and for the call page.
    """
    from crisisdesk.casework.services.escalations import escalate_case

    _require(actor, "escalate_transfer")
    transfer = _load_transfer(transfer_id, lock=False)
    transition(transfer.status, TransferAction.ESCALATE)  # 409 before 403, as in complete_transfer
    if transfer.claimed_by_id != actor.pk:
        raise Forbidden("only the social worker who claimed the transfer can escalate it")
    case = getattr(transfer, "case", None)
    if case is None:
        raise Conflict("the transfer has no case to escalate")
    return escalate_case(actor, case.pk, responder, reason, now=now)


def end_transfer_in_transaction(
    actor: Any, transfer: Transfer, action: TransferAction, now: datetime, reason: str = ""
) -> Transfer:
    """For casework use cases that end the transfer inside their own transaction (escalation)."""
    return _end(actor, transfer, action, now, reason[:END_REASON_MAX])


def expire_transfers(now: datetime | None = None, actor: Any = None) -> list[int]:
    """Time out every requested transfer past its deadline; returns their ids.

    Safe to run from any number of places at once (the queue and console polls, `crisisdesk
    sweep`): each transfer is ended by one conditional update, so a timeout is recorded once.
    """
    now = _now(now)
    due = list(
        Transfer.objects.filter(status=TransferStatus.REQUESTED, deadline__lte=now).values_list(
            "pk", flat=True
        )
    )
    expired = []
    for pk in due:
        try:
            with transaction.atomic(durable=True):
                transfer = _load_transfer(pk)
                _end(actor, transfer, TransferAction.TIMEOUT, now, "not claimed before the deadline")
                expired.append(pk)
        except InvalidTransition:
            continue  # claimed or expired by someone else meanwhile
    return expired


def acknowledge_alert(actor: Any, transfer_id: int, now: datetime | None = None) -> Transfer:
    """The telecommunicator confirms they saw a timed-out / declined transfer and will take the fallback."""
    _require(actor, "take_fallback")
    now = _now(now)
    with transaction.atomic(durable=True):
        transfer = _own_transfer(actor, _load_transfer(transfer_id))
        if transfer.status not in (TransferStatus.TIMED_OUT, TransferStatus.DECLINED):
            raise Conflict(f"the transfer is {transfer.status}; there is no alert to acknowledge")
        if transfer.alert_acknowledged_at is None:
            transfer.alert_acknowledged_at = now
            transfer.save(update_fields=["alert_acknowledged_at"])
            record(actor, "transfer.acknowledge_alert", transfer)
    return transfer


def take_fallback(
    actor: Any,
    call_id: int,
    option: str,
    *,
    callback_number: str = "",
    note: str = "",
    transfer_id: int | None = None,
    now: datetime | None = None,
) -> FallbackRoute:
    """Record the fallback the telecommunicator used (mobile crisis team, 988, callback ...)."""
    _require(actor, "take_fallback")
    now = _now(now)
    _, protocol, calendar = active_protocol()
    if option not in {o.id for o in protocol.fallback_options}:
        raise InvalidInput("option", f"not a fallback option of protocol {protocol.version}", "enum")
    if option.startswith("callback") and not callback_number.strip():
        raise InvalidInput("callback_number", "a callback needs a callback number", "missing")
    _text("callback_number", callback_number.strip(), 32)
    _text("note", note, 4000)
    with transaction.atomic(durable=True):
        call = Call.objects.filter(pk=call_id).first()
        if call is None:
            raise NotFound("no such call")
        decision = Decision.objects.filter(call=call).order_by("-decided_at", "-pk").first()
        transfer = None
        if transfer_id is not None:
            transfer = _load_transfer(transfer_id)
            if transfer.call_id != call.pk:
                raise InvalidInput("transfer_id", "the transfer belongs to another call")
            if (
                transfer.status in (TransferStatus.TIMED_OUT, TransferStatus.DECLINED)
                and not transfer.alert_acknowledged_at
            ):
                transfer.alert_acknowledged_at = now
                transfer.save(update_fields=["alert_acknowledged_at"])
        route = FallbackRoute.objects.create(
            call=call,
            decision=decision,
            transfer=transfer,
            option=option,
            callback_number=callback_number.strip(),
            note=note,
            taken_by=actor,
            taken_at=now,
        )
        record(actor, "call.fallback", call, details={"option": option, "transfer_id": transfer_id})
        # A callback is a follow-up for the social workers (consent: the caller gave the number).
        from crisisdesk.casework.services.followups import callback_from_fallback  # casework builds on calls

        callback_from_fallback(actor, route, next_shift_start(calendar, now), now)
    return route


# --- availability -----------------------------------------------------------------------------


def set_availability(actor: Any, status: str, now: datetime | None = None) -> SocialWorkerStatus:
    _require(actor, "set_availability")
    if status not in SocialWorkerStatus.Status.values:
        raise InvalidInput("status", f"must be one of {SocialWorkerStatus.Status.values}", "enum")
    with transaction.atomic(durable=True):
        return _set_status(actor, status, _now(now))


def _set_status(actor: Any, status: str, now: datetime) -> SocialWorkerStatus:
    row, _ = SocialWorkerStatus.objects.select_for_update().get_or_create(
        user=actor, defaults={"status": status, "changed_at": now, "last_seen_at": now}
    )
    before = row.status
    # Setting a status is done at the screen, so it is also a check-in.
    row.status, row.changed_at, row.last_seen_at = status, now, now
    row.save(update_fields=["status", "changed_at", "last_seen_at"])
    record(actor, "social_worker.availability", row, details={"from": before, "to": status})
    return row
