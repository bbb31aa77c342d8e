"""People's accounts: created through one service that checks the role and the password and audits it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from crisisdesk.accounts.models import User
from crisisdesk.accounts.services import AccountError, create_account
from crisisdesk.audit.models import AuditEvent
from crisisdesk.domain.roles import HUMAN_ROLES, Role

pytestmark = pytest.mark.django_db

PASSWORD = "a calm walk by the river"


@pytest.mark.parametrize("role", HUMAN_ROLES)
def test_every_human_role_gets_an_account_that_can_log_in(role: Role) -> None:
    user = create_account(None, "pat", role=role, password=PASSWORD, first_name="Pat", last_name="Kim")
    user.refresh_from_db()
    assert (user.role, user.get_full_name()) == (role.value, "Pat Kim")
    assert not user.is_staff and not user.is_superuser
    assert Client().login(username="pat", password=PASSWORD)


def test_role_may_be_given_as_its_value() -> None:
    assert create_account(None, "pat", role="social_worker", password=PASSWORD).role == "social_worker"


@pytest.mark.parametrize("role", [Role.CAD_INTEGRATION, "cad_integration", "dispatcher", ""])
def test_only_a_human_role_is_accepted(role: str) -> None:
    with pytest.raises(AccountError, match="role"):
        create_account(None, "pat", role=role, password=PASSWORD)
    assert not User.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("fourteen chars", "too short"),
        ("q1w2e3r4t5y6u7i8o9p0", "too common"),
        ("patricia.kimberly!", "too similar"),  # close to the username
    ],
)
def test_a_refused_password_writes_nothing(password: str, why: str) -> None:
    with pytest.raises(AccountError, match=why) as raised:
        create_account(None, "patricia.kimberly", role=Role.TELECOMMUNICATOR, password=password)
    assert password not in str(raised.value)
    assert not User.objects.exists() and not AuditEvent.objects.exists()


def test_a_taken_username_is_refused() -> None:
    create_account(None, "pat", role=Role.EVALUATOR, password=PASSWORD)
    with pytest.raises(AccountError, match="already taken"):
        create_account(None, "pat", role=Role.SUPERVISOR, password=PASSWORD)
    assert User.objects.get().role == Role.EVALUATOR


def test_the_audit_row_names_actor_and_role_never_the_password(make_user: Any) -> None:
    admin = make_user(Role.ADMINISTRATOR, "admin-lee")
    user = create_account(admin, "pat", role=Role.SOCIAL_WORKER, password=PASSWORD)
    event = AuditEvent.objects.get(action="account.create")
    assert (event.object_type, event.object_id) == ("user", str(user.pk))
    assert (event.actor_id, event.actor_role) == (admin.pk, Role.ADMINISTRATOR.value)
    assert event.details == {"role": "social_worker"}
    row = json.dumps(AuditEvent.objects.filter(pk=event.pk).values().get(), default=str)
    assert PASSWORD not in row
    assert user.password != PASSWORD  # stored hashed


def test_an_administrator_may_be_staff_and_superuser() -> None:
    user = create_account(
        None, "admin.pat", role=Role.ADMINISTRATOR, password=PASSWORD, is_staff=True, is_superuser=True
    )
    assert user.is_staff and user.is_superuser
    assert Client().login(username="admin.pat", password=PASSWORD)
