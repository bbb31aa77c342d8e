"""Oversight: the supervisor's live floor and the evaluator's page of today's numbers (aggregates only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crisisdesk.calls import queries, services
from crisisdesk.calls.protocols import active_protocol
from crisisdesk.domain.reasons import Outcome
from crisisdesk.web.views.common import (
    OUTCOME_TEXT,
    RESPONDER_TEXT,
    base_ctx,
    name_of,
    queue_rows,
    reason_text,
    role_page,
)


def _floor_ctx(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    summary = queries.floor_summary(request.user, now)
    outcomes = [
        {
            "outcome": o.value,
            "label": OUTCOME_TEXT[o][0],
            "tone": OUTCOME_TEXT[o][1],
            "n": summary["decisions_by_outcome"].get(o.value, 0),
        }
        for o in Outcome
    ]
    statuses = [
        {"status": s, "label": s.replace("_", " "), "n": n} for s, n in summary["transfers_by_status"].items()
    ]
    return {
        "summary": summary,
        "waiting": queue_rows(summary["queue"], now),
        "workers": [
            {
                "name": name_of(w.user),
                "status": w.status,
                "since": w.changed_at,
                # "available" with the queue screen closed does not count for live decisions
                "screen_closed": w.last_seen_at is None or now - w.last_seen_at > services.PRESENCE_WINDOW,
            }
            for w in summary["social_workers"]
        ],
        "outcomes": outcomes,
        "statuses": statuses,
        "now": now,
    }


@require_GET
@role_page("view_floor")
def floor(request: HttpRequest) -> HttpResponse:
    """The supervisor's live floor: queue, who is on shift, today's transfers and decisions."""
    services.expire_transfers()
    return render(request, "web/floor.html", base_ctx(request, **_floor_ctx(request)))


@require_GET
@role_page("view_floor")
def floor_live(request: HttpRequest) -> HttpResponse:
    services.expire_transfers()
    return render(request, "web/_floor_live.html", _floor_ctx(request))


@require_GET
@role_page("view_aggregates")
def evaluation(request: HttpRequest) -> HttpResponse:
    """Today's counts by outcome, status, fallback and escalation: aggregates only, no call details."""
    agg = queries.today_aggregates(request.user)
    outcomes = [
        {
            "label": OUTCOME_TEXT[o][0],
            "code": o.value,
            "tone": OUTCOME_TEXT[o][1],
            "n": agg["decisions_by_outcome"].get(o.value, 0),
        }
        for o in Outcome
    ]
    reasons = [{"code": code, "text": reason_text(code), "n": n} for code, n in agg["reasons"].items()]
    _, protocol, _ = active_protocol()
    labels = {o.id: o.label for o in protocol.fallback_options}
    fallbacks = [{"label": labels.get(k, k), "n": n} for k, n in sorted(agg["fallbacks_by_option"].items())]
    statuses = [
        {"status": k, "label": k.replace("_", " "), "n": n} for k, n in agg["transfers_by_status"].items()
    ]
    escalations = [
        {"label": RESPONDER_TEXT.get(k, k), "n": n}
        for k, n in sorted(agg["escalations_by_responder"].items())
    ]
    return render(
        request,
        "web/evaluation.html",
        base_ctx(
            request,
            agg=agg,
            outcomes=outcomes,
            reasons=reasons,
            fallbacks=fallbacks,
            statuses=statuses,
            escalations=escalations,
        ),
    )
