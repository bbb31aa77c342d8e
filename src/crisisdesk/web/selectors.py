"""Read-only lookups the pages need that `calls.queries` does not (yet) offer.

Each one checks the actor's role the way `queries` does (not visible = NotFound) and only reads.
Candidates to move into `calls.queries` when the API needs them too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone

from crisisdesk.calls.errors import NotFound
from crisisdesk.calls.models import Decision, DecisionReason, Escalation, FallbackRoute, Transfer
from crisisdesk.calls.queries import local_day_bounds
from crisisdesk.domain.roles import may
from crisisdesk.domain.transfers import NEEDS_FALLBACK, TransferStatus


def _visible(actor: Any, action: str) -> None:
    if not may(getattr(actor, "role", ""), action):
        raise NotFound("not found")


def open_alerts(actor: Any) -> list[Transfer]:
    """Transfers this telecommunicator asked for that timed out or were declined and still need a fallback.

    An alert stays until the telecommunicator records the fallback (which acknowledges it) or
    acknowledges it; the console shows these whichever call is open.
    """
    _visible(actor, "take_fallback")
    return list(
        Transfer.objects.select_related("call")
        .filter(
            requested_by=actor,
            status__in=[s.value for s in NEEDS_FALLBACK],
            alert_acknowledged_at=None,
        )
        .order_by("ended_at", "pk")
    )


def fallbacks_for_call(actor: Any, call_id: int) -> list[FallbackRoute]:
    """The fallbacks recorded for a call, oldest first."""
    _visible(actor, "view_calls")
    return list(
        FallbackRoute.objects.select_related("taken_by").filter(call_id=call_id).order_by("taken_at", "pk")
    )


def escalations_for_call(actor: Any, call_id: int) -> list[Escalation]:
    _visible(actor, "view_calls")
    return list(
        Escalation.objects.select_related("escalated_by")
        .filter(transfer__call_id=call_id)
        .order_by("escalated_at", "pk")
    )


def today_aggregates(actor: Any, now: datetime | None = None) -> dict[str, Any]:
    """Counts for today (America/Chicago) with no call details: for evaluators and supervisors."""
    _visible(actor, "view_aggregates")
    now = now or timezone.now()
    start, end = local_day_bounds(now)
    decisions = Decision.objects.filter(decided_at__gte=start, decided_at__lt=end)
    by_outcome = {r["outcome"]: r["n"] for r in decisions.values("outcome").annotate(n=Count("pk"))}
    by_reason = {
        r["code"]: r["n"]
        for r in DecisionReason.objects.filter(decision__in=decisions).values("code").annotate(n=Count("pk"))
    }
    transfers = Transfer.objects.filter(requested_at__gte=start, requested_at__lt=end)
    by_status = {r["status"]: r["n"] for r in transfers.values("status").annotate(n=Count("pk"))}
    fallbacks = FallbackRoute.objects.filter(taken_at__gte=start, taken_at__lt=end)
    by_option = {r["option"]: r["n"] for r in fallbacks.values("option").annotate(n=Count("pk"))}
    escalations = Escalation.objects.filter(escalated_at__gte=start, escalated_at__lt=end)
    by_responder = {r["responder"]: r["n"] for r in escalations.values("responder").annotate(n=Count("pk"))}
    waits = sorted(
        (claimed - requested).total_seconds()
        for requested, claimed in transfers.exclude(claimed_at=None).values_list("requested_at", "claimed_at")
        if claimed is not None
    )
    return {
        "day_start": start,
        "decisions_total": sum(by_outcome.values()),
        "decisions_by_outcome": by_outcome,
        "reasons": dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        "transfers_total": sum(by_status.values()),
        "transfers_by_status": {s.value: by_status.get(s.value, 0) for s in TransferStatus},
        "fallbacks_by_option": by_option,
        "escalations_by_responder": by_responder,
        "median_seconds_to_claim": waits[len(waits) // 2] if waits else None,
    }
