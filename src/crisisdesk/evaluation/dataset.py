"""The evaluation dataset: one de-identified row per call, built from the operational database.

Analytics (`crisisdesk.analytics.evaluation`) computes the program's measures from these rows and
never sees the database, names, numbers, addresses or narratives: a row carries the call's times,
codes and outcomes, the language and neighbourhood used for breakdowns, and the keyed hash of the
caller's number for counting repeat calls. Every fact comes from a typed column (DESIGN.md).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from crisisdesk.calls.models import Call, Decision, DecisionReason, Escalation, Transfer
from crisisdesk.casework.models import Case, FollowUp
from crisisdesk.referrals.models import Referral

COLUMNS = (
    "call_id",
    "received_at",
    "call_type",
    "apco_code",
    "scope",
    "neighbourhood",
    "caller_key",
    "screened",
    "outcome",
    "reasons",
    "transferred",
    "answered",
    "seconds_to_answer",
    "transfer_status",
    "escalated",
    "escalation_responder",
    "seconds_to_acknowledge",
    "case_id",
    "case_status",
    "case_closed_at",
    "disposition",
    "language",
    "interpreter_used",
    "follow_ups",
    "follow_ups_done",
    "follow_ups_reached",
    "referrals",
    "referrals_completed",
    "referrals_failed",
)


def evaluation_rows(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Rows for the calls received in [start, end) and, for repeat counting, every later call's key.

    A handful of queries whatever the number of calls (each table read once, joined in memory).
    """
    calls = list(
        Call.objects.filter(received_at__gte=start, received_at__lt=end)
        .order_by("received_at", "pk")
        .values("pk", "received_at", "call_type", "apco_code", "scope", "neighbourhood", "caller_key")
    )
    ids = [c["pk"] for c in calls]
    latest: dict[int, Any] = {}
    for d in (
        Decision.objects.filter(call_id__in=ids)
        .order_by("decided_at", "pk")
        .values("pk", "call_id", "outcome")
    ):
        latest[d["call_id"]] = d  # the last one wins
    reasons: dict[int, list[str]] = defaultdict(list)
    for r in (
        DecisionReason.objects.filter(decision_id__in=[d["pk"] for d in latest.values()])
        .order_by("position")
        .values("decision_id", "code")
    ):
        reasons[r["decision_id"]].append(r["code"])
    transfers: dict[int, list[Any]] = defaultdict(list)
    for t in (
        Transfer.objects.filter(call_id__in=ids)
        .order_by("requested_at", "pk")
        .values("call_id", "status", "requested_at", "claimed_at")
    ):
        transfers[t["call_id"]].append(t)
    escalations: dict[int, Any] = {}
    for e in (
        Escalation.objects.filter(call_id__in=ids)
        .order_by("escalated_at")
        .values("call_id", "responder", "escalated_at", "acknowledged_at")
    ):
        escalations.setdefault(e["call_id"], e)
    cases = {
        c["call_id"]: c
        for c in Case.objects.filter(call_id__in=ids)
        .order_by("opened_at")
        .values("pk", "call_id", "status", "closed_at", "disposition", "language", "interpreter_used")
    }
    # Follow-ups after the call; a referral's check is counted with its referral, not here (so the
    # follow-up measure means the same before and after referrals existed).
    follow = {
        f["case_id"]: f
        for f in FollowUp.objects.filter(case_id__in=[c["pk"] for c in cases.values()])
        .exclude(kind=FollowUp.Kind.REFERRAL_CHECK)
        .values("case_id")
        .annotate(
            n=Count("pk"),
            done=Count("pk", filter=~Q(status="pending")),
            reached=Count("pk", filter=Q(status="completed")),
        )
    }
    # Referrals made from any case of the call (a callback case included): sent to the agency, and
    # how many ended completed (the person got the service) or failed (it did not lead to it).
    referred = {
        r["case__call_id"]: r
        for r in Referral.objects.filter(case__call_id__in=ids)
        .exclude(sent_at=None)
        .values("case__call_id")
        .annotate(
            n=Count("pk"),
            completed=Count("pk", filter=Q(status="completed")),
            failed=Count("pk", filter=Q(status="failed")),
        )
    }
    rows = []
    for c in calls:
        decision = latest.get(c["pk"])
        ts = transfers.get(c["pk"], [])
        answered = next((t for t in ts if t["claimed_at"] is not None), None)
        esc = escalations.get(c["pk"])
        case = cases.get(c["pk"])
        f = follow.get(case["pk"]) if case else None
        ref = referred.get(c["pk"])
        rows.append(
            {
                "call_id": c["pk"],
                "received_at": c["received_at"],
                "call_type": c["call_type"],
                "apco_code": c["apco_code"],
                "scope": c["scope"],
                "neighbourhood": c["neighbourhood"],
                "caller_key": c["caller_key"],
                "screened": decision is not None,
                "outcome": decision["outcome"] if decision else "",
                "reasons": reasons.get(decision["pk"], []) if decision else [],
                "transferred": bool(ts),
                "answered": answered is not None,
                "seconds_to_answer": (answered["claimed_at"] - answered["requested_at"]).total_seconds()
                if answered
                else None,
                "transfer_status": ts[-1]["status"] if ts else "",
                "escalated": esc is not None,
                "escalation_responder": esc["responder"] if esc else "",
                "seconds_to_acknowledge": (esc["acknowledged_at"] - esc["escalated_at"]).total_seconds()
                if esc and esc["acknowledged_at"]
                else None,
                "case_id": case["pk"] if case else None,
                "case_status": case["status"] if case else "",
                "case_closed_at": case["closed_at"] if case else None,
                "disposition": case["disposition"] if case else "",
                "language": case["language"] if case else "",
                "interpreter_used": bool(case and case["interpreter_used"]),
                "follow_ups": f["n"] if f else 0,
                "follow_ups_done": f["done"] if f else 0,
                "follow_ups_reached": f["reached"] if f else 0,
                "referrals": ref["n"] if ref else 0,
                "referrals_completed": ref["completed"] if ref else 0,
                "referrals_failed": ref["failed"] if ref else 0,
            }
        )
    return rows


def later_calls(start: datetime, keys: set[str]) -> list[tuple[str, datetime]]:
    """(caller key, received_at) of every call from these keys at or after `start`: repeat counting."""
    if not keys:
        return []
    return list(
        Call.objects.filter(received_at__gte=start, caller_key__in=keys)
        .exclude(caller_key="")
        .values_list("caller_key", "received_at")
    )
