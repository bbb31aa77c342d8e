"""Shared fixtures: named personas instead of giant factories, the shipped protocol published."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crisisdesk.domain.roles import Role

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ALWAYS_OPEN = """
service_calendar:
  hours:
    - {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "24:00"}
  holidays: {country: null}
"""


def pytest_report_header(config: Any) -> str:
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']} (CI={IN_CI})"


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: Any) -> None:
    """Argon2 costs ~0.4 s per user; tests that are not about passwords use a fast hasher.

    Production settings use only Argon2 (tests/accounts checks it); mark a test `real_hashing`
    to keep Argon2.
    """
    if request.node.get_closest_marker("real_hashing"):
        return
    from django.conf import settings

    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    request.getfixturevalue("settings").PASSWORD_HASHERS = hashers


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from crisisdesk.accounts.models import User

    def make(role: Role | str, username: str | None = None, **extra: Any) -> User:
        role = Role(role)
        return User.objects.create_user(
            username=username or f"{role.value}-{User.objects.count() + 1}",
            password="correct horse battery staple",  # noqa: S106
            role=role.value,
            **extra,
        )

    return make


def sign_in(client: Any, user: Any) -> Any:
    """client.force_login(user) plus what signing in through the pages leaves behind for a person:
    a confirmed TOTP device verified in this session and a live LoginSession record (without the
    pages, the sign-in middleware treats the session as not logged in). Writes no audit row, so
    tests that count audit rows see only their own. An integration account gets the bare session
    (which the middleware refuses: integrations use tokens). Returns the client.
    """
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from crisisdesk.accounts.models import LoginSession
    from crisisdesk.domain.roles import HUMAN_ROLES

    client.force_login(user)
    if user.role not in HUMAN_ROLES:
        return client
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test device", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    now = timezone.now()
    LoginSession.objects.create(
        user=user, session_key=session.session_key, created_at=now, last_activity_at=now
    )
    return client


@pytest.fixture
def telecommunicator(make_user: Any) -> Any:
    return make_user(Role.TELECOMMUNICATOR, "tc-alex")


@pytest.fixture
def social_worker(make_user: Any) -> Any:
    return make_user(Role.SOCIAL_WORKER, "sw-sam")


@pytest.fixture
def supervisor(make_user: Any) -> Any:
    return make_user(Role.SUPERVISOR, "sup-pat")


@pytest.fixture
def evaluator(make_user: Any) -> Any:
    return make_user(Role.EVALUATOR, "eval-kim")


@pytest.fixture
def administrator(make_user: Any) -> Any:
    return make_user(Role.ADMINISTRATOR, "admin-lee")


@pytest.fixture
def cad(make_user: Any) -> Any:
    return make_user(Role.CAD_INTEGRATION, "cad-mecc")


def protocol_text(version: str | None = None, always_open: bool = False, timeout: int | None = None) -> str:
    """The shipped MECC protocol, optionally re-versioned, open around the clock or with a short timeout."""
    import yaml

    from crisisdesk.protocols import DEFAULT_PROTOCOL

    doc = yaml.safe_load(Path(DEFAULT_PROTOCOL).read_text(encoding="utf-8"))
    if version:
        doc["version"] = version
    if always_open:
        doc.update(yaml.safe_load(ALWAYS_OPEN))
    if timeout is not None:
        doc["transfer_timeout_seconds"] = timeout
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture
def mecc_protocol(db: Any) -> Any:
    """The shipped MECC protocol, published as the active version."""
    from crisisdesk.calls.protocols import publish_protocol
    from crisisdesk.protocols import DEFAULT_PROTOCOL

    return publish_protocol(None, Path(DEFAULT_PROTOCOL).read_text(encoding="utf-8"), system=True)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """In CI nothing may be skipped: a skipped test there hides a missing dependency."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if IN_CI and skipped:
        reporter.write_line(f"CI: {len(skipped)} test(s) were skipped; in CI every test must run.", red=True)
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which database this run covered, so a local green run is not mistaken for both."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        terminalreporter.write_line(
            "database: SQLite. PostgreSQL was not tested in this run: "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/crisisdesk make test (CI runs both)."
        )
    else:
        terminalreporter.write_line(f"database: {engine}")
