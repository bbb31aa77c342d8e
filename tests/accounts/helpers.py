"""Signing in through the pages, as a person does: password, then a TOTP code."""

from __future__ import annotations

import time
from typing import Any

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"  # tests/conftest.py make_user
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/queue/"}


def give_device(user: Any) -> TOTPDevice:
    """A confirmed authenticator app for `user` (a fresh random key)."""
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code(key: bytes | str, seconds_ago: float = 0) -> str:
    """The 6-digit code an authenticator app with this key shows (now, or `seconds_ago`)."""
    raw = bytes.fromhex(key) if isinstance(key, str) else key
    totp = TOTP(raw)
    totp.time = time.time() - seconds_ago
    return f"{totp.token():06d}"


def password_step(client: Any, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password, **extra})


def code_step(client: Any, value: str) -> Any:
    return client.post("/login/verify/", {"code": value})


def sign_in_with_pages(client: Any, user: Any, device: TOTPDevice) -> Any:
    """Both steps; returns the response to the code."""
    first = password_step(client, user.username)
    assert first.status_code == 302 and first["Location"] == "/login/verify/", first
    return code_step(client, code(device.bin_key))
