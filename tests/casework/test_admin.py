"""The follow-up policy is data an administrator changes from the admin screen (a new version)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from crisisdesk.audit.models import AuditEvent
from crisisdesk.casework.models import FollowUpPolicyVersion
from crisisdesk.domain.roles import Role
from tests.conftest import sign_in

ADD_URL = "/admin/casework/followuppolicyversion/add/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_user: Any) -> Client:
    admin = make_user(Role.ADMINISTRATOR, "admin-policy", is_staff=True, is_superuser=True)
    client = Client()
    sign_in(client, admin)
    return client


def test_the_default_policy_is_installed_and_the_form_starts_from_it(admin_client: Client) -> None:
    active = FollowUpPolicyVersion.objects.get(is_active=True)
    assert active.document == {
        "version": "followup-default/1",
        "first_within_hours": 24,
        "max_attempts": 3,
        "last_within_hours": 72,
    }
    page = admin_client.get(ADD_URL)
    assert page.status_code == 200 and 'value="72"' in page.content.decode()


def test_publishing_a_change_makes_a_new_active_version(admin_client: Client) -> None:
    form = {"version": "followup-2027-01", "first_within_hours": "12", "max_attempts": "4",
            "last_within_hours": "96", "change_note": "Program asked for faster first contact"}  # fmt: skip
    resp = admin_client.post(ADD_URL, form)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    active = FollowUpPolicyVersion.objects.get(is_active=True)
    assert active.version == "followup-2027-01" and active.document["max_attempts"] == 4
    assert active.created_by.username == "admin-policy"
    assert FollowUpPolicyVersion.objects.count() == 2  # the old version is kept
    assert AuditEvent.objects.filter(action="follow_up_policy.publish").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"last_within_hours": "6"}, "last"),  # last before first
        ({"version": "followup-default/1"}, "exists"),
        ({"change_note": ""}, "why"),
    ],
)
def test_a_bad_policy_is_refused(admin_client: Client, changes: dict[str, str], message: str) -> None:
    form = {"version": "p-new", "first_within_hours": "12", "max_attempts": "3", "last_within_hours": "72",
            "change_note": "x"}  # fmt: skip
    form.update(changes)
    resp = admin_client.post(ADD_URL, form)
    assert resp.status_code == 200 and message in resp.content.decode()
    assert FollowUpPolicyVersion.objects.count() == 1
