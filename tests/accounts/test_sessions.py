"""Server-side sessions: idle limits per role, polls that do not extend them, the 12-hour cap,
logout, and disabling an account ending every session it has."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from crisisdesk.accounts.models import LoginSession
from crisisdesk.accounts.services import disable_account, expiry_reason
from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import Forbidden
from crisisdesk.domain.roles import Role
from tests.accounts.helpers import HTMX
from tests.conftest import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mecc_protocol")]


def record_of(client: Client) -> LoginSession:
    return LoginSession.objects.get(session_key=client.session.session_key)


def idle_for(client: Client, minutes: int, seconds: int = 0) -> LoginSession:
    """Pretend the person's last action was this long ago."""
    row = record_of(client)
    row.last_activity_at = timezone.now() - timedelta(minutes=minutes, seconds=seconds)
    row.save(update_fields=["last_activity_at"])
    return row


@pytest.mark.parametrize(
    ("role", "alive", "expired"),
    [
        (Role.SOCIAL_WORKER, (14, 59), (15, 1)),
        (Role.SUPERVISOR, (14, 59), (15, 1)),
        (Role.EVALUATOR, (14, 59), (15, 1)),
        (Role.ADMINISTRATOR, (14, 59), (15, 1)),
        (Role.TELECOMMUNICATOR, (29, 59), (30, 1)),  # consoles on the secure floor (CJIS AC-11)
    ],
)
def test_idle_limit_per_role(
    make_user: Any, role: Role, alive: tuple[int, int], expired: tuple[int, int]
) -> None:
    user = make_user(role)
    now = timezone.now()
    row = LoginSession(user=user, session_key="k", created_at=now - timedelta(hours=1), last_activity_at=now)
    assert expiry_reason(row, user.role, now + timedelta(minutes=alive[0], seconds=alive[1])) == ""
    assert expiry_reason(row, user.role, now + timedelta(minutes=expired[0], seconds=expired[1])) == "idle"


def test_a_social_worker_idle_14_59_goes_on_and_15_01_is_signed_out(social_worker: Any) -> None:
    client = sign_in(Client(), social_worker)
    idle_for(client, 14, 59)
    assert client.get("/queue/").status_code == 200
    row = idle_for(client, 15, 1)
    response = client.get("/queue/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fqueue%2F"
    row.refresh_from_db()
    assert row.end_reason == "idle" and row.ended_at is not None
    expired = AuditEvent.objects.get(action="session.expired")
    assert expired.details["reason"] == "idle" and expired.object_id == str(row.pk)
    assert not Session.objects.filter(session_key=row.session_key).exists()
    login_page = client.get("/login/").content.decode()
    assert "signed out after 15 minutes without activity" in login_page


def test_a_telecommunicator_idle_29_59_goes_on_and_30_01_is_signed_out(telecommunicator: Any) -> None:
    client = sign_in(Client(), telecommunicator)
    idle_for(client, 29, 59)
    assert client.get("/console/").status_code == 200
    idle_for(client, 30, 1)
    assert client.get("/console/")["Location"] == "/login/?next=%2Fconsole%2F"


def test_polls_do_not_extend_the_session_but_are_refused_once_it_is_over(social_worker: Any) -> None:
    client = sign_in(Client(), social_worker)
    row = idle_for(client, 10)
    before = row.last_activity_at
    assert client.get("/queue/live/", **HTMX).status_code in (200, 204)
    assert client.get("/api/v1/transfers").status_code == 200
    row.refresh_from_db()
    assert row.last_activity_at == before  # neither poll counted as activity
    idle_for(client, 15, 1)
    poll = client.get("/queue/live/", **HTMX)
    assert poll["HX-Redirect"] == "/login/?next=%2Fqueue%2F"
    assert client.get("/api/v1/transfers").status_code == 401


def test_an_api_poll_after_the_idle_limit_gets_401(social_worker: Any) -> None:
    client = sign_in(Client(), social_worker)
    idle_for(client, 15, 1)
    response = client.get("/api/v1/transfers")
    assert response.status_code == 401
    assert record_of_key(response, client) is None


def record_of_key(response: Any, client: Client) -> LoginSession | None:
    return LoginSession.objects.filter(session_key=client.session.session_key, ended_at__isnull=True).first()


def test_what_the_person_does_counts_as_activity(social_worker: Any) -> None:
    client = sign_in(Client(), social_worker)
    row = idle_for(client, 10)
    assert client.get("/queue/").status_code == 200
    row.refresh_from_db()
    assert timezone.now() - row.last_activity_at < timedelta(seconds=5)


def test_sessions_end_after_12_hours_whatever_the_activity(supervisor: Any) -> None:
    client = sign_in(Client(), supervisor)
    row = record_of(client)
    row.created_at = timezone.now() - timedelta(hours=11, minutes=59)
    row.save(update_fields=["created_at"])
    assert client.get("/floor/").status_code == 200
    row.created_at = timezone.now() - timedelta(hours=12, minutes=1)
    row.save(update_fields=["created_at"])
    assert client.get("/floor/")["Location"] == "/login/?next=%2Ffloor%2F"
    row.refresh_from_db()
    assert row.end_reason == "absolute"
    assert AuditEvent.objects.get(action="session.expired").details["reason"] == "absolute"


def test_the_idle_limits_come_from_settings(settings: Any, social_worker: Any) -> None:
    settings.CRISISDESK_SIGN_IN = {
        **settings.CRISISDESK_SIGN_IN,
        "idle_seconds": {**settings.CRISISDESK_SIGN_IN["idle_seconds"], "social_worker": 60},
    }
    client = sign_in(Client(), social_worker)
    idle_for(client, 1, 1)
    assert client.get("/queue/").status_code == 302


def test_logout_ends_the_session_and_the_old_cookie_is_worthless(social_worker: Any) -> None:
    client = sign_in(Client(), social_worker)
    cookie = client.cookies["sessionid"].value
    row = record_of(client)
    assert client.post("/logout/")["Location"] == "/login/"
    row.refresh_from_db()
    assert row.end_reason == "logout" and row.ended_at is not None
    assert AuditEvent.objects.filter(action="logout", actor=social_worker).count() == 1
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get("/api/v1/transfers").status_code == 401
    assert replay.get("/queue/").status_code == 302


def test_logout_is_a_post(social_worker: Any) -> None:
    client = sign_in(Client(), social_worker)
    assert client.get("/logout/").status_code == 405
    assert client.get("/queue/").status_code == 200


def test_disabling_an_account_ends_all_its_sessions(social_worker: Any, administrator: Any) -> None:
    clients = [sign_in(Client(), social_worker) for _ in range(3)]
    other = sign_in(Client(), administrator)
    assert all(c.get("/queue/").status_code == 200 for c in clients)
    assert disable_account(administrator, social_worker.pk, "left the program") == 3
    for client in clients:
        assert client.get("/queue/").status_code == 302
        assert client.get("/api/v1/transfers").status_code == 401
    assert set(LoginSession.objects.filter(user=social_worker).values_list("end_reason", flat=True)) == {
        "disabled"
    }
    event = AuditEvent.objects.get(action="account.disable")
    assert (
        event.details == {"reason": "left the program", "sessions_ended": 3} and event.actor == administrator
    )
    social_worker.refresh_from_db()
    assert not social_worker.is_active
    assert other.get("/admin/").status_code in (200, 302)  # the administrator's own session lives on
    assert record_of(other).ended_at is None


def test_only_an_administrator_disables_accounts(social_worker: Any, supervisor: Any) -> None:
    client = sign_in(Client(), social_worker)
    with pytest.raises(Forbidden):
        disable_account(supervisor, social_worker.pk, "no")
    assert client.get("/queue/").status_code == 200
    assert AuditEvent.objects.get(action="account.disable").outcome == "denied"


def test_disabling_in_the_admin_ends_the_sessions(social_worker: Any, administrator: Any) -> None:
    administrator.is_staff = True
    administrator.is_superuser = True
    administrator.save()
    worker = sign_in(Client(), social_worker)
    admin = sign_in(Client(), administrator)
    response = admin.post(
        "/admin/accounts/user/",
        {"action": "disable_accounts", "_selected_action": [social_worker.pk]},
    )
    assert response.status_code == 302
    assert worker.get("/queue/").status_code == 302
    assert LoginSession.objects.get(user=social_worker).end_reason == "disabled"


def test_unticking_active_in_the_admin_form_ends_the_sessions(
    social_worker: Any, administrator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.contrib.admin.sites import site

    from crisisdesk.accounts.admin import CrisisDeskUserAdmin
    from crisisdesk.accounts.models import User

    worker = sign_in(Client(), social_worker)
    model_admin = CrisisDeskUserAdmin(User, site)

    class Form:
        changed_data = ["is_active"]

    class Request:
        user = administrator

    social_worker.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        model_admin.save_model(Request(), social_worker, Form(), change=True)  # type: ignore[arg-type]
    assert worker.get("/queue/").status_code == 302
    assert LoginSession.objects.get(user=social_worker).end_reason == "disabled"
    assert AuditEvent.objects.get(action="account.disable").details["reason"] == "disabled in the admin site"
