"""Permission-scoped reads of the directory. A role that may not search gets NotFound (404).

Search itself lives in directory/search.py; these functions add the role check, the clock and
the configured staleness, and give the maintenance screens their lists.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from crisisdesk.calls.errors import NotFound
from crisisdesk.directory import models as m
from crisisdesk.directory.search import SearchParams, SearchResult, search, stale_before
from crisisdesk.domain.roles import may


def _visible(actor: Any, action: str) -> None:
    if not may(getattr(actor, "role", ""), action):
        raise NotFound("not found")


def search_directory(actor: Any, params: SearchParams, *, now: datetime | None = None) -> SearchResult:
    _visible(actor, "search_directory")
    return search(params, now=now or datetime.now(UTC), stale_days=settings.DIRECTORY_STALE_DAYS)


def get_service(actor: Any, service_id: int) -> m.Service:
    _visible(actor, "search_directory")
    try:
        return m.Service.objects.select_related("organization", "last_verified_by").get(pk=service_id)
    except m.Service.DoesNotExist:
        raise NotFound("no such service") from None


def stale_services(
    actor: Any, *, now: datetime | None = None, stale_days: int | None = None
) -> QuerySet[m.Service]:
    """Listings not verified within the stale window (never-verified first, then oldest)."""
    _visible(actor, "maintain_directory")
    days = settings.DIRECTORY_STALE_DAYS if stale_days is None else stale_days
    cutoff = stale_before(now or datetime.now(UTC), days)
    return (
        m.Service.objects.select_related("organization")
        .exclude(status="defunct")
        .filter(Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=cutoff))
        .order_by("last_verified_at", "name")
    )


def all_services(actor: Any, text: str = "") -> QuerySet[m.Service]:
    _visible(actor, "maintain_directory")
    qs = m.Service.objects.select_related("organization").order_by("name")
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(organization__name__icontains=text))
    return qs


def recent_imports(actor: Any, limit: int = 10) -> list[m.ImportRun]:
    _visible(actor, "maintain_directory")
    return list(m.ImportRun.objects.order_by("-started_at")[:limit])


def import_rejections(actor: Any, run_id: int) -> tuple[m.ImportRun, list[m.ImportRejection]]:
    _visible(actor, "maintain_directory")
    try:
        run = m.ImportRun.objects.get(pk=run_id)
    except m.ImportRun.DoesNotExist:
        raise NotFound("no such import") from None
    return run, list(run.rejections.order_by("id"))


def service_tags(service: m.Service, kind: str) -> list[str]:
    return sorted(service.tags.filter(kind=kind).values_list("value", flat=True))
