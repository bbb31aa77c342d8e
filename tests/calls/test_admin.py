"""Publishing a protocol change from the admin screen creates a new, active version."""

from __future__ import annotations

import pytest
from django.test import Client

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.models import ProtocolVersion
from crisisdesk.domain.roles import Role
from tests.conftest import protocol_text, sign_in

ADD_URL = "/admin/calls/protocolversion/add/"


@pytest.fixture
def admin_client(make_user, mecc_protocol) -> Client:
    admin = make_user(Role.ADMINISTRATOR, "admin-publisher", is_staff=True, is_superuser=True)
    client = Client()
    sign_in(client, admin)
    return client


def test_the_add_form_starts_from_the_active_version(admin_client) -> None:
    page = admin_client.get(ADD_URL)
    assert page.status_code == 200
    assert "2026.11.1" in page.content.decode()


def test_publishing_creates_a_new_active_version(admin_client, mecc_protocol) -> None:
    resp = admin_client.post(
        ADD_URL, {"source_text": protocol_text(version="2026.12.0"), "change_note": "test"}
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    active = ProtocolVersion.objects.get(is_active=True)
    assert active.version == "2026.12.0" and active.published_by.username == "admin-publisher"
    mecc_protocol.refresh_from_db()
    assert mecc_protocol.is_active is False  # kept, readable, no longer used for new decisions
    assert AuditEvent.objects.filter(action="protocol.publish", object_id=str(active.pk)).exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (protocol_text(), "exists"),  # same version string as the active one
        ("center: [unclosed", "not valid YAML"),
        (protocol_text(version="2026.12.1").replace("scope: in_scope", "scope: maybe", 1), "must be one of"),
    ],
    ids=["reused-version", "bad-yaml", "bad-scope"],
)
def test_an_invalid_protocol_is_refused_with_its_problems(admin_client, text: str, message: str) -> None:
    resp = admin_client.post(ADD_URL, {"source_text": text, "change_note": ""})
    assert resp.status_code == 200  # the form again, with errors
    assert message in resp.content.decode()
    assert ProtocolVersion.objects.count() == 1


def test_published_versions_cannot_be_deleted(admin_client, mecc_protocol) -> None:
    resp = admin_client.post(f"/admin/calls/protocolversion/{mecc_protocol.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 403
    assert ProtocolVersion.objects.filter(pk=mecc_protocol.pk).exists()
