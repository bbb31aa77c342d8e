"""Oversight: the supervisor's live floor, the supervisor's casework view, and the evaluator's page of
today's numbers (aggregates only).

An escalation back to 911 that no telecommunicator acknowledged within the protocol's
`escalation_ack_seconds` is an alert on both supervisor pages.
"""

from __future__ import annotations

from datetime import datetime
from statistics import median
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crisisdesk.analytics.disclosure import LEGEND
from crisisdesk.analytics.evaluation_published import today_published
from crisisdesk.calls import queries, services
from crisisdesk.calls.protocols import active_protocol
from crisisdesk.casework import queries as case_queries
from crisisdesk.domain.reasons import Outcome
from crisisdesk.web.views import case_words as w
from crisisdesk.web.views.common import (
    OUTCOME_TEXT,
    RESPONDER_TEXT,
    base_ctx,
    name_of,
    queue_rows,
    reason_text,
    role_page,
    seconds_between,
)
from crisisdesk.web.views.followups import worklist_rows


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
        **escalation_alerts(request.user, now),
    }


def escalation_alerts(actor: Any, now: datetime) -> dict[str, Any]:
    """Escalations to 911 nobody acknowledged within the protocol's limit: the supervisor's alert."""
    _, protocol, _ = active_protocol()
    limit = protocol.escalation_ack_seconds
    rows = [
        {
            "obj": e,
            "responder": RESPONDER_TEXT.get(e.responder, e.responder),
            "by": name_of(e.escalated_by),
            "waiting": seconds_between(now, e.escalated_at),
        }
        for e in case_queries.overdue_escalations(actor, now, limit)
    ]
    return {"escalation_alerts": rows, "ack_seconds": limit}


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
    """Today's counts by outcome, status, fallback and escalation: aggregates only, no call details.

    A day holds few calls, so most counts here are small: every one goes through the same
    suppression as the program evaluation (analytics.evaluation_published.today_published).
    """
    agg = queries.today_aggregates(request.user)
    pub = today_published(agg)
    outcomes = [
        {
            "label": OUTCOME_TEXT[o][0],
            "code": o.value,
            "tone": OUTCOME_TEXT[o][1],
            "n": pub.shown(("outcome", o.value)),
        }
        for o in Outcome
    ]
    reasons = [
        {"code": code, "text": reason_text(code), "n": pub.shown(("reason", code))} for code in agg["reasons"]
    ]
    _, protocol, _ = active_protocol()
    labels = {o.id: o.label for o in protocol.fallback_options}
    fallbacks = [
        {"label": labels.get(k, k), "n": pub.shown(("fallback", k))}
        for k in sorted(agg["fallbacks_by_option"])
    ]
    statuses = [
        {"status": k, "label": k.replace("_", " "), "n": pub.shown(("status", k))}
        for k in agg["transfers_by_status"]
    ]
    escalations = [
        {"label": RESPONDER_TEXT.get(k, k), "n": pub.shown(("escalation", k))}
        for k in sorted(agg["escalations_by_responder"])
    ]
    return render(
        request,
        "web/evaluation.html",
        base_ctx(
            request,
            agg=agg,
            totals={
                "decisions": pub.shown(("decisions", "total")),
                "transfers": pub.shown(("transfers", "total")),
                "median_seconds_to_claim": pub.stats["median_seconds_to_claim"],
            },
            legend=LEGEND,
            outcomes=outcomes,
            reasons=reasons,
            fallbacks=fallbacks,
            statuses=statuses,
            escalations=escalations,
        ),
    )


# --- casework oversight ---------------------------------------------------------------------------


def _casework_ctx(request: HttpRequest) -> dict[str, Any]:
    """Open cases, today's escalations with their time to acknowledgement, overdue follow-ups."""
    now = timezone.now()
    start, _ = queries.local_day_bounds(now)
    view = case_queries.supervisor_view(request.user, now, since=start)
    alerts = escalation_alerts(request.user, now)
    escalations = [
        {
            "obj": e,
            "responder": RESPONDER_TEXT.get(e.responder, e.responder),
            "by": name_of(e.escalated_by),
            "acknowledged_by": name_of(e.acknowledged_by) if e.acknowledged_by_id else "",
            "seconds_to_ack": seconds_between(e.acknowledged_at, e.escalated_at),
            "waiting": seconds_between(now, e.escalated_at) if e.acknowledged_at is None else None,
        }
        for e in view.escalations
    ]
    acked = [
        s for e in view.escalations if (s := seconds_between(e.acknowledged_at, e.escalated_at)) is not None
    ]
    counts = {
        s: {"label": w.WORKLIST_STATE_TEXT[s][0], "tone": w.WORKLIST_STATE_TEXT[s][1], "n": n}
        for s, n in view.follow_up_counts.items()
    }
    return {
        **alerts,
        "open_cases": [
            {
                "obj": c,
                "owner": name_of(c.owner),
                "status_text": w.words(w.CASE_STATUS_TEXT, c.status),
                "concerns": [w.words(w.CONCERN_TEXT, x) for x in sorted(c.concerns())],
            }
            for c in view.open_cases
        ],
        "escalations": escalations,
        "median_ack": median(acked) if acked else None,
        "follow_up_counts": [counts[s] for s in ("overdue", "due", "done", "upcoming") if s in counts],
        "overdue_follow_ups": worklist_rows(request, view.overdue_follow_ups),
        "day_start": start,
        "now": now,
    }


@require_GET
@role_page("view_floor")
def floor_casework(request: HttpRequest) -> HttpResponse:
    """The supervisor's view of casework: open cases, escalations, overdue follow-ups (live)."""
    return render(request, "web/case_supervisor.html", base_ctx(request, **_casework_ctx(request)))


@require_GET
@role_page("view_floor")
def floor_casework_live(request: HttpRequest) -> HttpResponse:
    return render(request, "web/_case_supervisor_live.html", _casework_ctx(request))
