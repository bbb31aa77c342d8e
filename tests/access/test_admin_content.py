"""An administrator manages users and configuration but reads no case or call content: every page
of the admin site, walked, shows none of it (domain.permissions: users_config only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from crisisdesk.calls.models import IntakeConflict, RejectedRecord
from crisisdesk.domain.roles import Role
from tests.access.world import CLINICAL_MARKER, PERSON_MARKER, build_world
from tests.conftest import sign_in

NARRATIVE_MARKER = "ZZNARRATIVE"


class _As:
    """Just enough of a request for ModelAdmin.has_view_permission."""

    def __init__(self, user: Any):
        self.user = user


@pytest.mark.django_db
def test_the_admin_site_shows_no_case_or_call_content(make_user: Any, mecc_protocol: Any) -> None:
    world = build_world(make_user)
    admin_user = world.people[Role.ADMINISTRATOR]
    admin_user.is_superuser = True  # as the demo's administrator: the admin site shows every model
    admin_user.save(update_fields=["is_superuser"])
    call_id = world.a.records["call"]
    from django.utils import timezone

    RejectedRecord.objects.create(
        channel="POST /api/v1/calls", source="cad", incident_id="MP-X", body=f'{{"narrative": "{NARRATIVE_MARKER}"}}',
        errors=[{"field": "incident_id", "reason": "missing", "type": "missing"}], received_at=timezone.now(),
    )  # fmt: skip
    IntakeConflict.objects.create(
        call_id=call_id,
        payload={"narrative": NARRATIVE_MARKER},
        payload_sha256="0" * 64,
        received_at=timezone.now(),
    )
    from crisisdesk.calls.models import Call

    Call.objects.filter(pk=call_id).update(narrative=f"{NARRATIVE_MARKER} caller upset")
    administrator = world.people[Role.ADMINISTRATOR]
    client = sign_in(Client(), administrator)
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        if not model_admin.has_view_permission(_As(administrator)):  # type: ignore[arg-type]
            continue
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        first = model.objects.order_by("pk").first()
        if first is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    seen = []
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        body = response.content
        for marker in (CLINICAL_MARKER, PERSON_MARKER, NARRATIVE_MARKER):
            if marker.encode() in body:
                seen.append(f"{url} shows {marker}")
    assert len(pages) > 5
    assert not seen, seen
