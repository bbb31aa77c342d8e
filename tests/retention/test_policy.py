"""The retention policy as versioned data: the first version from the file, changes as new versions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import Conflict, Forbidden
from crisisdesk.calls.models import Call
from crisisdesk.calls.services import InvalidInput
from crisisdesk.domain.retention import RECORD_TYPES, policy_document
from crisisdesk.retention.admin import PublishRetentionForm
from crisisdesk.retention.models import RetentionPolicyVersion, RetentionRule
from crisisdesk.retention.policy_file import load_policy_file
from crisisdesk.retention.services import active_policy, publish_retention_policy, purge_expired
from tests.calls.builders import new_call

pytestmark = pytest.mark.django_db


def changed(version: str, **days: int) -> dict[str, Any]:
    doc = policy_document(active_policy()[1])
    doc["version"] = version
    for key, value in days.items():
        doc["rules"][key]["days"] = value
    return doc


def test_the_migration_installs_the_policy_file_as_the_first_version() -> None:
    row = RetentionPolicyVersion.objects.get()
    assert row.is_active and row.created_by is None
    assert active_policy()[1] == load_policy_file()
    assert RetentionRule.objects.filter(policy=row).count() == len(RECORD_TYPES)
    case = RetentionRule.objects.get(policy=row, record_type="case")
    assert (case.days, case.counted_from) == (2555, "closed_at") and "Placeholder" in case.basis


def test_a_change_is_a_new_version_and_the_old_one_stays(administrator: Any) -> None:
    first = RetentionPolicyVersion.objects.get()
    row = publish_retention_policy(
        administrator, changed("retention-2027-01", call=730), "County schedule 2027"
    )
    first.refresh_from_db()
    assert not first.is_active and row.is_active and row.created_by == administrator
    assert RetentionRule.objects.get(policy=first, record_type="call").days == 365
    assert RetentionRule.objects.get(policy=row, record_type="call").days == 730
    assert active_policy()[1].version == "retention-2027-01"
    event = AuditEvent.objects.get(action="retention_policy.publish")
    assert event.actor == administrator and event.details["previous"] == "retention-proposal/1"
    assert event.details["rules"]["call"]["days"] == 730


def test_the_purge_decides_with_the_active_version_and_says_which(
    mecc_protocol: Any, telecommunicator: Any, administrator: Any
) -> None:
    call = new_call(telecommunicator)
    at = call.received_at + timedelta(days=30)
    assert purge_expired(None, now=at).by_type()["call"].purged == 0
    publish_retention_policy(administrator, changed("short-calls", call=30), "Pilot: calls kept 30 days")
    report = purge_expired(None, now=at)
    assert report.by_type()["call"].purged == 1 and not Call.objects.exists()
    row = AuditEvent.objects.filter(action="retention.purge", object_type="call").latest("at")
    assert row.details["policy_version"] == "short-calls" and row.details["days"] == 30


@pytest.mark.parametrize(
    ("doc", "note", "error"),
    [
        (lambda: changed("retention-proposal/1"), "again", Conflict),
        (lambda: changed("too-short-audit", audit_event=365), "shorter audit", InvalidInput),
        (lambda: changed("no-reason"), " ", InvalidInput),
    ],
    ids=["existing-version", "below-the-six-year-floor", "no-change-note"],
)
def test_a_bad_change_is_refused_and_nothing_changes(
    administrator: Any, doc: Any, note: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        publish_retention_policy(administrator, doc(), note)
    assert RetentionPolicyVersion.objects.get().version == "retention-proposal/1"


def test_only_an_administrator_may_change_the_policy(supervisor: Any) -> None:
    with pytest.raises(Forbidden):
        publish_retention_policy(supervisor, changed("by-supervisor", call=1), "shorter")
    assert RetentionPolicyVersion.objects.count() == 1


def _form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"version": "retention-admin/2", "change_note": "Agreed with the County"}
    for key, rule in active_policy()[1].rules.items():
        data[f"{key}__days"] = rule.days
        data[f"{key}__counted_from"] = rule.counted_from
        data[f"{key}__basis"] = rule.basis
    data.update(overrides)
    return data


def test_the_admin_form_builds_a_policy_document_with_every_type() -> None:
    form = PublishRetentionForm(data=_form_data(call__days=500))
    assert form.is_valid(), form.errors
    doc = form.document()
    assert doc["version"] == "retention-admin/2" and doc["rules"]["call"]["days"] == 500
    assert set(doc["rules"]) == {t.key for t in RECORD_TYPES}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"audit_event__days": 100}, "2190"),
        ({"referral__counted_from": "opened_at"}, "Select a valid choice"),
        ({"version": "retention-proposal/1"}, "that version exists"),
        ({"change_note": ""}, "say why"),
    ],
)
def test_the_admin_form_refuses_a_bad_change(overrides: dict[str, Any], message: str) -> None:
    form = PublishRetentionForm(data=_form_data(**overrides))
    assert not form.is_valid()
    assert message in str(form.errors)


def test_the_admin_publishes_a_new_version_through_the_service(rf: Any, make_user: Any) -> None:
    from django.contrib import admin as django_admin
    from django.contrib.messages.storage.fallback import FallbackStorage

    user = make_user("administrator", "admin-root", is_staff=True, is_superuser=True)
    model_admin = django_admin.site._registry[RetentionPolicyVersion]

    def request(method: str, data: dict[str, Any] | None = None) -> Any:
        req = rf.post("/admin/", data) if method == "post" else rf.get("/admin/")
        req.user = user
        req.session = {}
        req._messages = FallbackStorage(req)
        req.is_verified = lambda: True  # a second factor (django-otp) is the admin site's concern
        req.user.is_verified = lambda: True
        return req

    page = model_admin.add_view(request("get"))
    page.render()
    assert b"audit_event: days" in page.content and b"2555" in page.content
    response = model_admin.add_view(request("post", _form_data(call__days=400)))
    assert response.status_code == 302, getattr(response, "context_data", {}).get("errors")
    assert active_policy()[1].rules["call"].days == 400
    assert AuditEvent.objects.filter(action="retention_policy.publish", actor=user).exists()
    shown = model_admin.change_view(
        request("get"), str(RetentionPolicyVersion.objects.get(is_active=True).pk)
    )
    shown.render()
    assert b"counted from" in shown.content.lower() or b"counted_from" in shown.content
    assert b"400" in shown.content
