"""The transfer lifecycle as an explicit transition table.

A transfer is the handoff of one call from a telecommunicator to the social worker. Services check
every change against `TRANSITIONS`; nothing changes status anywhere else. The states that are still
"live" (`ACTIVE`) are the ones a call may have at most one of, which the database enforces too.

    requested --claim--> claimed --escalate--> escalated   (back to 911 police/fire/EMS)
        |                   \\--complete--> completed        (the social worker finished the call)
        |--timeout--> timed_out    (nobody claimed it in time: the telecommunicator is alerted
        |                           and takes the fallback)
        |--decline--> declined     (the social worker cannot take it: same fallback path)
        \\--cancel---> cancelled    (the telecommunicator withdrew it, e.g. the caller hung up)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    CLAIMED = "claimed"
    TIMED_OUT = "timed_out"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    ESCALATED = "escalated"
    COMPLETED = "completed"


class TransferAction(StrEnum):
    CLAIM = "claim"
    TIMEOUT = "timeout"
    DECLINE = "decline"
    CANCEL = "cancel"
    ESCALATE = "escalate"
    COMPLETE = "complete"


S, A = TransferStatus, TransferAction

TRANSITIONS: dict[tuple[TransferStatus, TransferAction], TransferStatus] = {
    (S.REQUESTED, A.CLAIM): S.CLAIMED,
    (S.REQUESTED, A.TIMEOUT): S.TIMED_OUT,
    (S.REQUESTED, A.DECLINE): S.DECLINED,
    (S.REQUESTED, A.CANCEL): S.CANCELLED,
    (S.CLAIMED, A.ESCALATE): S.ESCALATED,
    (S.CLAIMED, A.COMPLETE): S.COMPLETED,
}

ACTIVE = frozenset({S.REQUESTED, S.CLAIMED})
# States after which the telecommunicator must act on the fallback.
NEEDS_FALLBACK = frozenset({S.TIMED_OUT, S.DECLINED})
TERMINAL = frozenset(TransferStatus) - ACTIVE


class InvalidTransition(Exception):
    """The action is not allowed from the transfer's current state (HTTP 409 at the edge)."""

    def __init__(self, status: TransferStatus, action: TransferAction):
        self.status = status
        self.action = action
        super().__init__(f"cannot {action.value} a transfer that is {status.value}")


@dataclass(frozen=True)
class Transition:
    before: TransferStatus
    action: TransferAction
    after: TransferStatus


def transition(status: TransferStatus | str, action: TransferAction | str) -> Transition:
    """Check one step against the table; raise `InvalidTransition` when it is not allowed."""
    before, act = TransferStatus(status), TransferAction(action)
    after = TRANSITIONS.get((before, act))
    if after is None:
        raise InvalidTransition(before, act)
    return Transition(before, act, after)


def is_overdue(requested_at: datetime, now: datetime, timeout_seconds: int) -> bool:
    """A requested transfer nobody claimed within the protocol's timeout (both instants aware)."""
    # Compare instants: subtracting two datetimes in one zone would use wall-clock time across DST.
    return now.timestamp() - requested_at.timestamp() >= timeout_seconds
