"""Escalation back to 911 from a case, in one step, and its acknowledgement by a telecommunicator.

The social worker names the responder and the reason; the case becomes `escalated`, a claimed
transfer becomes `escalated` in the same transaction, and every telecommunicator console shows the
escalation until one of them acknowledges it. The seconds to acknowledgement are in the audit row
(and computable from the two timestamps); the supervisor's floor shows any escalation left
unacknowledged past the protocol's `escalation_ack_seconds`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from crisisdesk.audit.services import record
from crisisdesk.calls.models import Escalation, Transfer
from crisisdesk.casework.services.common import InvalidInput, NotFound, load_case, now_or, require, text
from crisisdesk.domain.cases import CaseAction, transition
from crisisdesk.domain.transfers import TransferAction, TransferStatus


def escalate_case(
    actor: Any, case_id: int, responder: str, reason: str, now: datetime | None = None
) -> Escalation:
    """One action from the case: responder requested (police / fire / EMS) and the reason."""
    from crisisdesk.calls.services import end_transfer_in_transaction

    require(actor, "escalate_case")
    if responder not in Escalation.Responder.values:
        raise InvalidInput("responder", f"must be one of {Escalation.Responder.values}", "enum")
    text("reason", reason, 4000, required=True)
    now = now_or(now)
    with transaction.atomic(durable=True):
        case = load_case(actor, case_id)
        case.status = transition(case.status, CaseAction.ESCALATE).value
        case.save(update_fields=["status"])
        transfer = None
        if case.transfer_id is not None:
            transfer = Transfer.objects.select_for_update().get(pk=case.transfer_id)
            if transfer.status == TransferStatus.CLAIMED:
                transfer = end_transfer_in_transaction(actor, transfer, TransferAction.ESCALATE, now, reason)
        escalation = Escalation.objects.create(
            transfer=transfer,
            call_id=case.call_id,
            case=case,
            responder=responder,
            reason=reason,
            escalated_by=actor,
            escalated_at=now,
        )
        record(
            actor,
            "escalation.create",
            escalation,
            details={"case_id": case.pk, "transfer_id": case.transfer_id, "responder": responder},
        )
    return escalation


def acknowledge_escalation(actor: Any, escalation_id: int, now: datetime | None = None) -> Escalation:
    """A telecommunicator confirms they have the escalation. Idempotent: the first one counts."""
    require(actor, "acknowledge_escalation")
    now = now_or(now)
    with transaction.atomic(durable=True):
        escalation = Escalation.objects.select_for_update().filter(pk=escalation_id).first()
        if escalation is None:
            raise NotFound("no such escalation")
        if escalation.acknowledged_at is None:
            escalation.acknowledged_at = now
            escalation.acknowledged_by = actor
            escalation.save(update_fields=["acknowledged_at", "acknowledged_by"])
            seconds = (now - escalation.escalated_at).total_seconds()
            record(actor, "escalation.acknowledge", escalation, details={"seconds_to_acknowledge": seconds})
    return escalation


__all__ = ["acknowledge_escalation", "escalate_case"]
