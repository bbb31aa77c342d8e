"""The one write path for calls, screenings, decisions, transfers, fallbacks and availability.

Each public function is one use case: it checks the actor's role, runs in one durable transaction,
checks status changes against the domain's transition table and writes its audit row in the same
transaction. Pages, the API, the CLI and jobs all call these functions, as `calls.services.<name>`:
`base` (input errors, role check), `intake` (CAD intake), `flow` (screening to fallback, presence).
"""

from crisisdesk.calls.services.base import (
    Invalid,
    InvalidInput,
)
from crisisdesk.calls.services.flow import (
    END_REASON_MAX,
    PRESENCE_WINDOW,
    PRESENCE_WRITE_EVERY,
    acknowledge_alert,
    cancel_transfer,
    claim_transfer,
    complete_transfer,
    decline_transfer,
    end_transfer_in_transaction,
    escalate_transfer,
    expire_transfers,
    finish_claimed_transfer,
    record_presence,
    request_transfer,
    screen_call,
    set_availability,
    social_worker_available,
    take_fallback,
)
from crisisdesk.calls.services.intake import (
    IntakeResult,
    intake_call,
    intake_json,
    reject_record,
)

__all__ = [
    "END_REASON_MAX",
    "IntakeResult",
    "Invalid",
    "InvalidInput",
    "PRESENCE_WINDOW",
    "PRESENCE_WRITE_EVERY",
    "acknowledge_alert",
    "cancel_transfer",
    "claim_transfer",
    "complete_transfer",
    "decline_transfer",
    "end_transfer_in_transaction",
    "escalate_transfer",
    "expire_transfers",
    "finish_claimed_transfer",
    "intake_call",
    "intake_json",
    "record_presence",
    "reject_record",
    "request_transfer",
    "screen_call",
    "set_availability",
    "social_worker_available",
    "take_fallback",
]
