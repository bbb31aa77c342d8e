"""API tokens for integrations: issued once, stored hashed, revocable; people use sessions."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from crisisdesk.accounts.models import ApiToken, User
from crisisdesk.accounts.services import (
    TokenError,
    authenticate_token,
    issue_api_token,
    revoke_api_token,
)
from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.models import Call
from crisisdesk.domain.roles import Role
from tests.calls.builders import cad_record

pytestmark = pytest.mark.django_db


def test_issue_stores_only_the_hash_and_is_audited(cad: Any) -> None:
    token, raw = issue_api_token(cad, "MECC CAD")
    assert raw.startswith("cdk_") and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = ApiToken.objects.values_list("name", "token_hash").get()
    assert raw not in str(stored)
    event = AuditEvent.objects.get(action="api_token.issue")
    assert event.object_id == str(token.pk) and event.details == {"user_id": cad.pk, "name": "MECC CAD"}


def test_each_token_is_new(cad: Any) -> None:
    raws = {issue_api_token(cad, f"t{i}")[1] for i in range(5)}
    assert len(raws) == 5 and ApiToken.objects.count() == 5


@pytest.mark.parametrize("role", [Role.TELECOMMUNICATOR, Role.SOCIAL_WORKER, Role.ADMINISTRATOR])
def test_tokens_are_for_integration_accounts_only(make_user: Any, role: Role) -> None:
    with pytest.raises(TokenError):
        issue_api_token(make_user(role), "script")
    assert ApiToken.objects.count() == 0


def test_a_token_needs_a_name(cad: Any) -> None:
    with pytest.raises(TokenError):
        issue_api_token(cad, "  ")


def test_authenticate_token(cad: Any) -> None:
    token, raw = issue_api_token(cad, "CAD")
    now = timezone.now()
    assert authenticate_token(raw, now=now) == cad
    token.refresh_from_db()
    assert token.last_used_at == now
    # Within a minute the stamp is not rewritten (no write per request).
    authenticate_token(raw, now=now + timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == now
    authenticate_token(raw, now=now + timedelta(seconds=61))
    token.refresh_from_db()
    assert token.last_used_at == now + timedelta(seconds=61)


@pytest.mark.parametrize("raw", ["", "cdk_nope", "x" * 10_000])
def test_unknown_tokens_authenticate_nobody(cad: Any, raw: str) -> None:
    issue_api_token(cad, "CAD")
    assert authenticate_token(raw) is None


def test_revoked_token_and_inactive_account_fail(cad: Any) -> None:
    token, raw = issue_api_token(cad, "CAD")
    other, other_raw = issue_api_token(cad, "CAD backup")
    revoke_api_token(token.pk)
    revoke_api_token(token.pk)  # idempotent
    assert authenticate_token(raw) is None
    assert authenticate_token(other_raw) == cad
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1
    cad.is_active = False
    cad.save(update_fields=["is_active"])
    assert authenticate_token(other_raw) is None


def test_a_token_stops_working_when_the_account_becomes_a_person(cad: Any) -> None:
    _, raw = issue_api_token(cad, "CAD")
    User.objects.filter(pk=cad.pk).update(role=Role.SUPERVISOR)
    assert authenticate_token(raw) is None


def test_token_authenticates_api_requests_as_its_account(mecc_protocol: Any, cad: Any) -> None:
    token, raw = issue_api_token(cad, "CAD")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    response = client.post("/api/v1/calls", data=json.dumps(cad_record()), content_type="application/json")
    assert response.status_code == 201
    assert Call.objects.get().created_by == cad
    token.refresh_from_db()
    assert token.last_used_at is not None
    revoke_api_token(token.pk)
    again = client.post("/api/v1/calls", data=json.dumps(cad_record()), content_type="application/json")
    assert again.status_code == 401 and again.json()["code"] == "unauthenticated"
    basic = Client(headers={"Authorization": "Basic Y2FkOnNlY3JldA=="})
    assert basic.get("/api/v1/protocol").status_code == 401


# --- the command ------------------------------------------------------------------------------


def test_create_api_token_prints_the_raw_token_once(cad: Any) -> None:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", cad.username, "--name", "MECC CAD", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert "\n" not in raw and authenticate_token(raw) == cad
    token = ApiToken.objects.get()
    assert token.name == "MECC CAD" and token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in err.getvalue() and "not shown again" in err.getvalue()


def test_create_api_token_can_create_the_integration_account(db: Any) -> None:
    out = StringIO()
    call_command(
        "create_api_token", "cad-test", "--name", "test", "--create-user", stdout=out, stderr=StringIO()
    )
    user = User.objects.get(username="cad-test")
    assert user.role == Role.CAD_INTEGRATION and not user.has_usable_password()
    assert authenticate_token(out.getvalue().strip()) == user


def test_create_api_token_refuses_unknown_accounts_and_people(telecommunicator: Any) -> None:
    with pytest.raises(CommandError, match="no account"):
        call_command("create_api_token", "nobody", "--name", "x", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="integration accounts"):
        call_command(
            "create_api_token", telecommunicator.username, "--name", "x", stdout=StringIO(), stderr=StringIO()
        )
    assert ApiToken.objects.count() == 0
