"""Signing in as a person does, in real Chromium: password and TOTP code, first enrolment of an
authenticator app, and the idle limit (a polling page does not keep a session alive)."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from crisisdesk.accounts.models import LoginSession
from crisisdesk.calls.protocols import publish_protocol
from tests.browser.conftest import PASSWORD, fresh_code, totp_device
from tests.conftest import protocol_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fresh_context(browser: Any, app_url: str) -> Any:
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=app_url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        for page in context.pages:
            page.goto("about:blank")
        context.close()
    time.sleep(0.5)


def password_step(page: Any, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_with_password_and_totp_code(fresh_context: Any, shot: Any, make_user: Any) -> None:
    publish_protocol(None, protocol_text(version="browser-open", always_open=True), system=True)
    make_user("telecommunicator", "tc-alex", first_name="Alex", last_name="Rivera")
    device = totp_device("tc-alex")
    page = fresh_context()
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/login/\?next=%2Fconsole%2F$"))
    shot(page, "login-01-password")
    password_step(page, "tc-alex")
    expect(page).to_have_url(re.compile(r"/login/verify/$"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code from the app").fill("000000" if fresh_code(device) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code did not work")
    page.get_by_label("Code from the app").fill(fresh_code(device))
    shot(page, "login-02-code")
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator(".who-name")).to_have_text("Alex Rivera")
    shot(page, "login-03-signed-in")
    assert LoginSession.objects.filter(user__username="tc-alex", ended_at__isnull=True).count() == 1
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator(".flash")).to_contain_text("You are signed out.")


def test_first_sign_in_enrols_an_authenticator_app(fresh_context: Any, shot: Any, make_user: Any) -> None:
    publish_protocol(None, protocol_text(version="browser-open", always_open=True), system=True)
    make_user("social_worker", "sw-sam", first_name="Sam", last_name="Okafor")
    page = fresh_context()
    password_step(page, "sw-sam")
    expect(page).to_have_url(re.compile(r"/login/enrol/$"))
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    shot(page, "login-04-enrol")
    totp = TOTP(base64.b32decode(secret))
    page.get_by_label("Code from the app").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page).to_have_url(re.compile(r"/queue/$"))
    expect(page.locator(".flash")).to_contain_text("Your authenticator app is set up")


def test_an_idle_session_ends_even_while_the_page_polls(
    fresh_context: Any, shot: Any, make_user: Any, settings: Any
) -> None:
    idle = 4  # seconds, for this test only
    rules = settings.CRISISDESK_SIGN_IN
    settings.CRISISDESK_SIGN_IN = {
        **rules,
        "idle_seconds": {**rules["idle_seconds"], "social_worker": idle},
        "activity_resolution_seconds": 0,
    }
    publish_protocol(None, protocol_text(version="browser-open", always_open=True), system=True)
    make_user("social_worker", "sw-sam", first_name="Sam", last_name="Okafor")
    device = totp_device("sw-sam")
    page = fresh_context()
    polls: list[str] = []
    page.on(
        "request", lambda r: polls.append(r.url) if r.url.endswith("/live/") or "/live/?" in r.url else None
    )
    password_step(page, "sw-sam")
    page.get_by_label("Code from the app").fill(fresh_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/queue/$"))
    signed_in_at = time.monotonic()
    # Nobody touches the page; it keeps polling its live fragment every second.
    while time.monotonic() - signed_in_at < idle + 1.5 and "/login/" not in page.url:
        page.wait_for_timeout(250)
    assert len(polls) >= 3, polls  # the page did poll while idle
    if "/login/" not in page.url:  # no poll has noticed yet: the next click must
        page.get_by_role("link", name="Cases").click()
    expect(page).to_have_url(re.compile(r"/login/\?next=%2F"))
    expect(page.locator(".flash")).to_contain_text("without activity")
    shot(page, "login-05-idle-expired")
    ended = LoginSession.objects.get(user__username="sw-sam")
    assert ended.end_reason == "idle"
