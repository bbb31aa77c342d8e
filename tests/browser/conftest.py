"""Playwright (sync API) in Debian's Chromium against pytest-django's live server.

Never downloads a browser: without a `chromium` executable the tests are skipped with the reason
(and the root conftest fails a CI run that skipped anything). Screenshots of each page state go to
tests/browser/artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an event loop in this thread; Django's ORM refuses to run where it sees
# one unless told that this (test-only) process knows what it is doing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"  # tests/conftest.py make_user


# Every browser-test person has an authenticator app with this key (RFC 6238's test secret), so a
# test computes the code the app would show.
TOTP_KEY = "3132333435363738393031323334353637383930"


def totp_device(username: str) -> Any:
    """The person's confirmed TOTP device with TOTP_KEY (created on first use)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from crisisdesk.accounts.models import User

    user = User.objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test app", key=TOTP_KEY, confirmed=True)


def fresh_code(device: Any) -> str:
    """The code for now; if this device already accepted this time step's code (the same person
    signed in moments ago), wait for the next step, since a code is accepted only once."""
    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    while totp.t() <= device.last_t:
        time.sleep(0.5)
    return f"{totp.token():06d}"


def chromium_path() -> str | None:
    found = os.environ.get("CRISISDESK_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); the browser tests need it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        pytest.skip("the playwright Python package is not installed")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def app_url(live_server: Any) -> str:
    # The test database is a SQLite file (or PostgreSQL), so every live-server thread has its own
    # connection, as in production: no serialising of requests is needed.
    return str(live_server.url)


@pytest.fixture
def new_page(browser: Any, app_url: str) -> Iterator[Callable[[str], Any]]:
    """new_page(username): a fresh browser context logged in through the login form."""
    contexts: list[Any] = []

    def login(username: str) -> Any:
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=app_url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        device = totp_device(username)
        page.goto("/login/")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/login/verify/")
        page.get_by_label("Code from the app").fill(fresh_code(device))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield login
    # Stop the pages' polling first, then give requests already in the live server a moment to
    # finish: on PostgreSQL the database flush after the test (TRUNCATE) deadlocks with a poll that
    # is still inside its transaction.
    for context in contexts:
        for page in context.pages:
            page.goto("about:blank")
        context.close()
    time.sleep(0.5)


@pytest.fixture
def shot() -> Callable[[Any, str], None]:
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page: Any, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return save
