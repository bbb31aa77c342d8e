"""Permission-scoped reads for the operational pages and API. Not visible = NotFound (404).

Scopes follow `crisisdesk.domain.permissions`: telecommunicators and supervisors see the center's
calls; a social worker sees the calls transferred to the program (a transfer or a case); a
telecommunicator sees the status of the transfers they asked for, not other people's. Every record
handed out is noted as an audited read (`crisisdesk.audit.reads`); every refusal is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from crisisdesk.audit import reads
from crisisdesk.audit.access import deny, require
from crisisdesk.calls.models import (
    Call,
    Decision,
    DecisionReason,
    Escalation,
    FallbackRoute,
    SocialWorkerStatus,
    Transfer,
)
from crisisdesk.domain.protocol import normalise_call_type
from crisisdesk.domain.roles import Role
from crisisdesk.domain.transfers import NEEDS_FALLBACK, TransferStatus

_visible = require


def _transferred_only(actor: Any) -> bool:
    """A social worker's calls are those transferred to the program (a transfer or a case)."""
    return getattr(actor, "role", "") == Role.SOCIAL_WORKER


def _in_program(qs: QuerySet[Call]) -> QuerySet[Call]:
    return qs.filter(Q(transfers__isnull=False) | Q(cases__isnull=False)).distinct()


def call_in_scope(actor: Any, call_id: int) -> None:
    """The call exists and is in the actor's scope, else an audited NotFound."""
    require(actor, "view_calls")
    qs = Call.objects.filter(pk=call_id)
    if _transferred_only(actor):
        qs = _in_program(qs)
    if not qs.exists():
        raise deny(actor, "call.read", "call", call_id, "out_of_scope")


def transfer_in_scope(actor: Any, transfer: Transfer) -> bool:
    """A telecommunicator sees the transfers they asked for; the program team sees every transfer."""
    if getattr(actor, "role", "") == Role.TELECOMMUNICATOR:
        return bool(transfer.requested_by_id == actor.pk)
    return True


def _with_decisions(qs: QuerySet[Call]) -> QuerySet[Call]:
    return qs.prefetch_related(
        Prefetch(
            "decisions",
            # protocol: every decision shows the version that made it (one query, not one each)
            queryset=Decision.objects.select_related("protocol")
            .order_by("-decided_at", "-pk")
            .prefetch_related(Prefetch("reasons", queryset=DecisionReason.objects.order_by("position"))),
        ),
        Prefetch("transfers", queryset=Transfer.objects.order_by("-requested_at", "-pk")),
    )


def get_call(actor: Any, call_id: int) -> Call:
    _visible(actor, "view_calls")
    qs = Call.objects.filter(pk=call_id)
    if _transferred_only(actor):
        qs = _in_program(qs)
    call = _with_decisions(qs).first()
    if call is None:
        raise deny(actor, "call.read", "call", call_id, "not_found_or_out_of_scope")
    reads.note(actor, call)
    return call


def recent_calls(actor: Any, limit: int = 25) -> list[Call]:
    """The console's call list: newest first."""
    _visible(actor, "view_calls")
    qs = Call.objects.order_by("-received_at", "-pk")
    if _transferred_only(actor):
        qs = _in_program(qs)
    calls = list(_with_decisions(qs)[:limit])
    reads.note(actor, calls)
    return calls


def visible_transfers(actor: Any, call: Call) -> list[Transfer]:
    """The call's transfers the actor may see (prefetched by get_call / recent_calls), newest first."""
    return [t for t in call.transfers.all() if transfer_in_scope(actor, t)]


def latest_decision(call: Call) -> Decision | None:
    decisions = list(call.decisions.all())  # prefetched newest first
    return decisions[0] if decisions else None


def get_transfer(actor: Any, transfer_id: int) -> Transfer:
    _visible(actor, "view_calls")
    transfer = (
        Transfer.objects.select_related("call", "claimed_by", "requested_by").filter(pk=transfer_id).first()
    )
    if transfer is None or not transfer_in_scope(actor, transfer):
        raise deny(actor, "transfer.read", "transfer", transfer_id, "not_found_or_out_of_scope")
    reads.note(actor, transfer)
    return transfer


def queue(actor: Any) -> list[Transfer]:
    """Transfers waiting for a social worker, oldest first (the one waiting longest is on top)."""
    _visible(actor, "view_queue")
    waiting = list(
        Transfer.objects.select_related("call", "requested_by", "decision")
        .filter(status=TransferStatus.REQUESTED)
        .order_by("requested_at", "pk")
    )
    reads.note(actor, [t.call for t in waiting])
    return waiting


def my_active_transfers(actor: Any) -> list[Transfer]:
    _visible(actor, "view_queue")
    mine = list(
        Transfer.objects.select_related("call")
        .filter(status=TransferStatus.CLAIMED, claimed_by=actor)
        .order_by("-claimed_at")
    )
    reads.note(actor, [t.call for t in mine])
    return mine


def social_worker_statuses(actor: Any) -> list[SocialWorkerStatus]:
    _visible(actor, "view_queue")
    return list(SocialWorkerStatus.objects.select_related("user").order_by("user__username"))


def my_status(actor: Any) -> str:
    row = SocialWorkerStatus.objects.filter(user=actor).first()
    return row.status if row else SocialWorkerStatus.Status.AWAY


def _median_seconds_to_claim(transfers: QuerySet[Transfer]) -> float | None:
    """Median wait from request to claim of the claimed transfers in `transfers` (upper median)."""
    pairs = transfers.exclude(claimed_at=None).values_list("requested_at", "claimed_at")
    waits = sorted(
        (claimed - requested).total_seconds() for requested, claimed in pairs if claimed is not None
    )
    return waits[len(waits) // 2] if waits else None


def local_day_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of today in the display time zone (25 or 23 hours long on DST days)."""
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=1, hours=3)).replace(hour=0)
    return start, end


def call_types_to_review(actor: Any, limit: int = 20) -> list[dict[str, Any]]:
    """Call-type names the CAD sent that the active protocol does not know, most frequent first.

    Each such call was decided `not_eligible / call_type_unknown` (never transferred) until an
    administrator adds the name to the protocol. Spellings that match once trimmed and case-folded
    (as the protocol matches them) are one row, shown with the most common spelling.
    """
    _visible(actor, "view_floor")
    rows = (
        Call.objects.filter(call_type_needs_review=True)
        .values("call_type_raw")
        .annotate(calls=Count("pk"), last_seen=Max("received_at"))
        .order_by("call_type_raw")
    )
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = normalise_call_type(row["call_type_raw"])
        entry = merged.setdefault(
            key, {"call_type_raw": row["call_type_raw"], "calls": 0, "last_seen": None, "_top": 0}
        )
        entry["calls"] += row["calls"]
        entry["last_seen"] = max(filter(None, (entry["last_seen"], row["last_seen"])))
        if row["calls"] > entry["_top"]:
            entry["call_type_raw"], entry["_top"] = row["call_type_raw"], row["calls"]
    ordered = sorted(merged.values(), key=lambda e: (-e["calls"], e["call_type_raw"]))[:limit]
    return [{k: v for k, v in e.items() if k != "_top"} for e in ordered]


def floor_summary(actor: Any, now: datetime | None = None) -> dict[str, Any]:
    """Supervisor's live floor: queue, who is on shift and today's transfers by status."""
    _visible(actor, "view_floor")
    start, end = local_day_bounds(now)
    today = Transfer.objects.filter(requested_at__gte=start, requested_at__lt=end)
    by_status = {row["status"]: row["n"] for row in today.values("status").annotate(n=Count("pk"))}
    decisions = Decision.objects.filter(decided_at__gte=start, decided_at__lt=end)
    by_outcome = {row["outcome"]: row["n"] for row in decisions.values("outcome").annotate(n=Count("pk"))}
    return {
        "queue": queue(actor),
        "social_workers": social_worker_statuses(actor),
        "transfers_by_status": {s.value: by_status.get(s.value, 0) for s in TransferStatus},
        "transfers_today": sum(by_status.values()),
        "decisions_by_outcome": by_outcome,
        "median_seconds_to_claim": _median_seconds_to_claim(today),
        "call_types_to_review": call_types_to_review(actor),
        "alerts": floor_alerts(actor),
        "day_start": start,
    }


# --- reads the pages need beside the lists above ---------------------------------------------


def _unacknowledged_alerts() -> QuerySet[Transfer]:
    return (
        Transfer.objects.select_related("call", "requested_by")
        .filter(status__in=[s.value for s in NEEDS_FALLBACK], alert_acknowledged_at=None)
        .order_by("ended_at", "pk")
    )


def open_alerts(actor: Any) -> list[Transfer]:
    """Transfers this telecommunicator asked for that timed out or were declined and still need a fallback.

    An alert stays until the telecommunicator records the fallback (which acknowledges it) or
    acknowledges it; the console shows these whichever call is open.
    """
    _visible(actor, "take_fallback")
    alerts = list(_unacknowledged_alerts().filter(requested_by=actor))
    reads.note(actor, [t.call for t in alerts])
    return alerts


def floor_alerts(actor: Any) -> list[Transfer]:
    """Every timed-out or declined transfer whose fallback nobody has recorded yet: the supervisor's
    safety net for a caller left waiting (e.g. the telecommunicator's console was closed)."""
    _visible(actor, "view_floor")
    alerts = list(_unacknowledged_alerts())
    reads.note(actor, [t.call for t in alerts])
    return alerts


def fallbacks_for_call(actor: Any, call_id: int) -> list[FallbackRoute]:
    """The fallbacks recorded for a call, oldest first."""
    call_in_scope(actor, call_id)
    return list(
        FallbackRoute.objects.select_related("taken_by").filter(call_id=call_id).order_by("taken_at", "pk")
    )


def escalations_for_call(actor: Any, call_id: int) -> list[Escalation]:
    call_in_scope(actor, call_id)
    return list(
        Escalation.objects.select_related("escalated_by")
        .filter(call_id=call_id)  # from the call page or from a case (a callback case has no transfer)
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
    return {
        "day_start": start,
        "decisions_total": sum(by_outcome.values()),
        "decisions_by_outcome": by_outcome,
        "reasons": dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        "transfers_total": sum(by_status.values()),
        "transfers_by_status": {s.value: by_status.get(s.value, 0) for s in TransferStatus},
        "fallbacks_by_option": by_option,
        "escalations_by_responder": by_responder,
        "median_seconds_to_claim": _median_seconds_to_claim(transfers),
    }
