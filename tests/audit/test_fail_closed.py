"""Fail closed (CJIS AU-5, ASVS 16.5.3): when the audit rows of a read cannot be written, the data
does not leave; the person gets the generic error page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crisisdesk.audit import services
from tests.access.world import PERSON_MARKER, build_world
from tests.conftest import sign_in


@pytest.mark.django_db
def test_a_read_whose_audit_rows_cannot_be_written_is_not_shown(
    make_user: Any, mecc_protocol: Any, monkeypatch: Any
) -> None:
    world = build_world(make_user)
    client = sign_in(Client(raise_request_exception=False), world.a.sw)
    assert PERSON_MARKER.encode() in client.get(f"/cases/{world.a.case.pk}/").content

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("audit store unavailable")

    monkeypatch.setattr(services, "record_reads", broken)
    response = client.get(f"/cases/{world.a.case.pk}/")
    assert response.status_code == 500
    assert PERSON_MARKER.encode() not in response.content
    assert b"audit store" not in response.content  # generic: nothing about the cause
