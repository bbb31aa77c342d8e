"""Signing in: password then TOTP for every person, enrolment, lockout with supervisor unlock, the
per-address throttle, and no page or session API call without the second factor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from crisisdesk.accounts.models import AccountLock, LoginFailure, LoginSession
from crisisdesk.accounts.services import Outcome, check_password, unlock_account
from crisisdesk.audit.models import AuditEvent
from crisisdesk.calls.errors import Forbidden
from crisisdesk.domain.roles import HUMAN_ROLES, Role
from crisisdesk.web.views.auth import REFUSED_TEXT, THROTTLED_TEXT, WRONG_CODE_TEXT
from tests.accounts.helpers import (
    HTMX,
    PASSWORD,
    code,
    code_step,
    give_device,
    password_step,
    sign_in_with_pages,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def actions(*names: str) -> list[str]:
    return list(AuditEvent.objects.filter(action__in=names).order_by("pk").values_list("action", flat=True))


# --- the second factor -------------------------------------------------------------------------


@pytest.mark.parametrize("role", HUMAN_ROLES)
def test_every_person_needs_password_and_code(make_user: Any, role: Role) -> None:
    user = make_user(role, "pat")
    device = give_device(user)
    client = Client()
    response = sign_in_with_pages(client, user, device)
    assert response.status_code == 302 and response["Location"] == "/"
    session = LoginSession.objects.get(user=user)
    assert session.ended_at is None and session.session_key == client.session.session_key
    assert actions("login.success") == ["login.success"]


def test_the_session_key_changes_at_the_password_and_at_the_code(social_worker: Any) -> None:
    device = give_device(social_worker)
    client = Client()
    client.get("/login/")
    client.session.save()
    keys = [client.cookies["sessionid"].value if "sessionid" in client.cookies else ""]
    password_step(client, social_worker.username)
    keys.append(client.cookies["sessionid"].value)
    code_step(client, code(device.bin_key))
    keys.append(client.cookies["sessionid"].value)
    assert len(set(keys)) == 3


PAGES = ["/", "/console/", "/queue/", "/floor/", "/cases/", "/follow-ups/", "/accounts/locked/", "/admin/"]


@pytest.mark.parametrize("url", PAGES)
def test_after_the_password_alone_every_page_sends_to_the_code(supervisor: Any, url: str) -> None:
    give_device(supervisor)
    client = Client()
    assert password_step(client, supervisor.username)["Location"] == "/login/verify/"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/login/verify/"


def test_after_the_password_alone_polls_and_the_api_are_refused(social_worker: Any) -> None:
    give_device(social_worker)
    client = Client()
    password_step(client, social_worker.username)
    assert client.get("/queue/live/", **HTMX)["HX-Redirect"] == "/login/verify/"
    api = client.get("/api/v1/transfers")
    assert api.status_code == 401 and api.json()["code"] == "unauthenticated"


def test_a_session_without_the_second_factor_is_not_logged_in(social_worker: Any, administrator: Any) -> None:
    # A Django session that never passed the code step (force_login, a stolen pre-MFA cookie...).
    client = Client()
    client.force_login(social_worker)
    assert client.get("/queue/")["Location"] == "/login/?next=%2Fqueue%2F"
    client.force_login(social_worker)
    assert client.get("/api/v1/transfers").status_code == 401
    admin = Client()
    administrator.is_staff = True
    administrator.save()
    admin.force_login(administrator)
    assert admin.get("/admin/")["Location"].startswith("/login/?next=")


def test_the_admin_requires_the_second_factor_and_uses_our_login(administrator: Any) -> None:
    administrator.is_staff = True
    administrator.is_superuser = True
    administrator.save()
    assert Client().get("/admin/login/?next=/admin/")["Location"] == "/login/?next=%2Fadmin%2F"
    client = sign_in(Client(), administrator)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 200


def test_a_wrong_code_is_refused_and_audited(telecommunicator: Any) -> None:
    device = give_device(telecommunicator)
    client = Client()
    password_step(client, telecommunicator.username)
    wrong = f"{(int(code(device.bin_key)) + 1) % 1_000_000:06d}"
    response = code_step(client, wrong)
    assert response.status_code == 200 and WRONG_CODE_TEXT in response.content.decode()
    assert client.get("/console/")["Location"] == "/login/verify/"  # still not logged in
    failure = LoginFailure.objects.get()
    assert (failure.user, failure.step, failure.reason) == (telecommunicator, "code", "wrong_code")
    assert actions("login.failure") == ["login.failure"]


def test_a_code_cannot_be_used_twice(telecommunicator: Any) -> None:
    device = give_device(telecommunicator)
    first = Client()
    password_step(first, telecommunicator.username)
    used = code(device.bin_key)
    assert code_step(first, used)["Location"] == "/"
    second = Client()
    password_step(second, telecommunicator.username)
    assert WRONG_CODE_TEXT in code_step(second, used).content.decode()
    assert LoginSession.objects.filter(user=telecommunicator).count() == 1


def test_a_code_older_than_the_tolerance_is_refused(telecommunicator: Any) -> None:
    device = give_device(telecommunicator)
    client = Client()
    password_step(client, telecommunicator.username)
    assert WRONG_CODE_TEXT in code_step(client, code(device.bin_key, seconds_ago=65)).content.decode()
    # One step back is within the tolerance (a code typed just as it changed).
    assert code_step(client, code(device.bin_key, seconds_ago=25))["Location"] == "/"


def test_codes_are_six_ascii_digits(telecommunicator: Any) -> None:
    device = give_device(telecommunicator)
    client = Client()
    password_step(client, telecommunicator.username)
    arabic = code(device.bin_key).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert WRONG_CODE_TEXT in code_step(client, arabic).content.decode()


def test_integration_accounts_cannot_sign_in_with_the_form(cad: Any) -> None:
    cad.set_password(PASSWORD)
    cad.save()
    response = password_step(Client(), cad.username)
    assert response.status_code == 200 and REFUSED_TEXT in response.content.decode()
    assert LoginFailure.objects.get().reason == "not_a_person"


# --- enrolment ---------------------------------------------------------------------------------


def test_a_person_without_an_app_enrols_on_first_sign_in(social_worker: Any) -> None:
    client = Client()
    assert password_step(client, social_worker.username)["Location"] == "/login/enrol/"
    assert client.get("/queue/")["Location"] == "/login/enrol/"
    page = client.get("/login/enrol/")
    html = page.content.decode()
    key = client.session["crisisdesk.signin.enrol_key"]
    assert page.status_code == 200 and "<svg" in html and 'class="segno"' in html
    secret = html.split('id="totp-secret">', 1)[1].split("<", 1)[0].replace(" ", "")
    import base64

    assert base64.b32decode(secret) == bytes.fromhex(key)
    assert not TOTPDevice.objects.exists()  # showing the page writes nothing
    assert WRONG_CODE_TEXT in client.post("/login/enrol/", {"code": "000000"}).content.decode()
    now_code = code(key)
    response = client.post("/login/enrol/", {"code": now_code})
    assert response.status_code == 302 and response["Location"] == "/"
    device = TOTPDevice.objects.get(user=social_worker)
    assert device.confirmed and device.key == key
    assert client.get("/queue/").status_code == 200
    assert actions("mfa.enrol", "login.success") == ["mfa.enrol", "login.success"]
    # The enrolment code is spent; the next sign-in asks for a code, not a new enrolment.
    again = Client()
    assert password_step(again, social_worker.username)["Location"] == "/login/verify/"
    assert WRONG_CODE_TEXT in code_step(again, now_code).content.decode()


def test_an_enrolled_account_cannot_enrol_another_app(social_worker: Any) -> None:
    give_device(social_worker)
    client = Client()
    password_step(client, social_worker.username)
    assert client.get("/login/enrol/")["Location"] == "/login/verify/"


# --- lockout and unlock ------------------------------------------------------------------------


def refusal(response: Any) -> str:
    """The message block of a refused sign-in (what differs between refusals, if anything)."""
    html = response.content.decode()
    return html.split('role="alert">', 1)[1].split("</div>", 1)[0]


def test_five_failures_lock_the_account_even_against_the_right_password(
    social_worker: Any, supervisor: Any
) -> None:
    give_device(social_worker)
    client = Client()
    for _ in range(5):
        response = password_step(client, social_worker.username, "not the password at all")
        assert response.status_code == 200 and REFUSED_TEXT in response.content.decode()
    lock = AccountLock.objects.get(user=social_worker, unlocked_at__isnull=True)
    assert lock.failures == 5
    right = password_step(client, social_worker.username)
    assert right.status_code == 200 and "Location" not in right
    unknown = password_step(client, "nobody-by-this-name")
    assert refusal(right) == refusal(unknown) and REFUSED_TEXT in refusal(right)
    assert actions("account.lock") == ["account.lock"]
    assert list(LoginFailure.objects.order_by("pk").values_list("reason", flat=True)) == [
        *(["wrong_password"] * 5),
        "locked",
        "unknown_account",
    ]

    # A supervisor sees the lock and releases it; the person can sign in again.
    boss = sign_in(Client(), supervisor)
    listing = boss.get("/accounts/locked/").content.decode()
    assert 'id="locked-accounts"' in listing and f"Unlock {social_worker.username}" in listing
    assert boss.post(f"/accounts/locked/{social_worker.pk}/unlock/")["Location"] == "/accounts/locked/"
    lock.refresh_from_db()
    assert lock.unlocked_by == supervisor and lock.unlocked_at is not None
    assert 'id="locked-accounts"' not in boss.get("/accounts/locked/").content.decode()
    unlock = AuditEvent.objects.get(action="account.unlock")
    assert (unlock.actor, unlock.object_id, unlock.outcome) == (supervisor, str(social_worker.pk), "ok")
    assert password_step(client, social_worker.username)["Location"] == "/login/verify/"
    # The count starts again after an unlock: one more failure does not lock it at once.
    password_step(Client(), social_worker.username, "wrong again, sorry")
    assert not AccountLock.objects.filter(user=social_worker, unlocked_at__isnull=True).exists()


def test_wrong_codes_count_towards_the_lock(telecommunicator: Any) -> None:
    device = give_device(telecommunicator)
    for _ in range(2):
        password_step(Client(), telecommunicator.username, "a wrong password here")
    client = Client()
    password_step(client, telecommunicator.username)
    wrong = f"{(int(code(device.bin_key)) + 7) % 1_000_000:06d}"
    for _ in range(2):
        assert WRONG_CODE_TEXT in code_step(client, wrong).content.decode()
    last = code_step(client, wrong)  # the fifth failure: locked, back to the start
    assert REFUSED_TEXT in last.content.decode()
    assert AccountLock.objects.filter(user=telecommunicator, unlocked_at__isnull=True).exists()
    assert code_step(client, code(device.bin_key))["Location"] == "/login/"  # nothing pending any more


def test_failures_outside_the_window_do_not_count(social_worker: Any) -> None:
    start = timezone.now() - timedelta(hours=1)
    for minute in range(4):
        check_password(
            social_worker.username,
            "nope nope nope",
            client_addr="10.1.1.1",
            now=start + timedelta(minutes=minute),
        )
    later = start + timedelta(minutes=15, seconds=30)  # the first failure is out of the window
    check_password(social_worker.username, "nope nope nope", client_addr="10.1.1.1", now=later)
    assert not AccountLock.objects.exists()
    check_password(social_worker.username, "nope nope nope", client_addr="10.1.1.1", now=later)
    assert AccountLock.objects.filter(user=social_worker).count() == 1


def test_only_supervisors_and_administrators_unlock(social_worker: Any, telecommunicator: Any) -> None:
    for _ in range(5):
        check_password(social_worker.username, "not it, not it", client_addr="10.1.1.2")
    with pytest.raises(Forbidden):
        unlock_account(telecommunicator, social_worker.pk)
    assert AuditEvent.objects.get(action="account.unlock").outcome == "denied"
    assert AccountLock.objects.get().unlocked_at is None
    page = sign_in(Client(), telecommunicator)
    assert page.get("/accounts/locked/").status_code == 403
    assert page.post(f"/accounts/locked/{social_worker.pk}/unlock/").status_code == 403


# --- the per-address throttle ------------------------------------------------------------------


def test_many_failures_from_one_address_are_throttled_without_locking_accounts(make_user: Any) -> None:
    people = [make_user(Role.TELECOMMUNICATOR, f"tc-{n}") for n in range(5)]
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for person in people:
        for _ in range(4):  # 20 failures in all, 4 per account: none is locked
            assert password_step(attacker, person.username, "guessing, guessing").status_code == 200
    response = password_step(attacker, people[0].username)  # even the right password
    assert response.status_code == 429 and THROTTLED_TEXT in response.content.decode()
    assert LoginFailure.objects.count() == 20  # the refused attempt counts against nobody
    assert not AccountLock.objects.exists()
    assert actions("login.throttled") == ["login.throttled"]
    # The people themselves, on their own consoles, still sign in.
    give_device(people[0])
    colleague = Client(REMOTE_ADDR="10.20.0.7")
    assert password_step(colleague, people[0].username)["Location"] == "/login/verify/"


def test_the_throttle_limit_comes_from_settings(settings: Any, social_worker: Any) -> None:
    settings.CRISISDESK_SIGN_IN = {**settings.CRISISDESK_SIGN_IN, "client_failure_limit": 2}
    for _ in range(2):
        check_password("someone", "x" * 15, client_addr="198.51.100.1")
    assert (
        check_password(social_worker.username, PASSWORD, client_addr="198.51.100.1").outcome
        is Outcome.THROTTLED
    )
    assert check_password(social_worker.username, PASSWORD, client_addr="198.51.100.2").outcome is Outcome.OK


# --- the audit trail of signing in -------------------------------------------------------------


def test_sign_in_events_are_audited(social_worker: Any) -> None:
    device = give_device(social_worker)
    client = Client()
    password_step(client, social_worker.username, "wrong, very wrong")
    password_step(client, social_worker.username)
    code_step(client, "123456" if code(device.bin_key) != "123456" else "654321")
    code_step(client, code(device.bin_key))
    client.post("/logout/")
    assert actions("login.failure", "login.success", "logout") == [
        "login.failure",
        "login.failure",
        "login.success",
        "logout",
    ]
    failure = AuditEvent.objects.filter(action="login.failure").first()
    assert (
        failure is not None and failure.details["step"] == "password" and PASSWORD not in str(failure.details)
    )
