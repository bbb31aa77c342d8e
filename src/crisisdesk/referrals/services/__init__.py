"""The ONE write path for referrals, by area: the lifecycle (consent, create, send, reports, warm
handoffs) and the outgoing artifacts (FHIR export, packet) behind the 42 CFR Part 2 gate.

Pages, API and commands import from here (`from crisisdesk.referrals import services`).
"""

from crisisdesk.referrals.services.artifacts import (
    REFERRAL_PURPOSE,
    disclose_referral,
    export_referral,
    referral_items,
    referral_packet,
)
from crisisdesk.referrals.services.lifecycle import (
    REASON_FIELD,
    REFERABLE,
    ReportRefused,
    cancel_referral,
    complete_referral,
    create_referral,
    fail_referral,
    record_agency_response,
    record_referral_consent,
    record_warm_handoff,
    refer,
    send_referral,
    start_referral,
    withdraw_referral_consent,
)

__all__ = [
    "REASON_FIELD",
    "REFERABLE",
    "REFERRAL_PURPOSE",
    "ReportRefused",
    "cancel_referral",
    "complete_referral",
    "create_referral",
    "disclose_referral",
    "export_referral",
    "fail_referral",
    "record_agency_response",
    "record_referral_consent",
    "record_warm_handoff",
    "refer",
    "referral_items",
    "referral_packet",
    "send_referral",
    "start_referral",
    "withdraw_referral_consent",
]
