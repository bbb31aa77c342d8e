"""The demo's authenticator keys, and `crisisdesk totp` (debug only)."""

from __future__ import annotations

import base64
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from crisisdesk.web.management.commands.seed_demo import (
    DEMO_USERS,
    Command,
    demo_totp_base32,
    demo_totp_key,
    print_logins,
)
from tests.accounts.helpers import code

pytestmark = pytest.mark.django_db


def test_every_demo_person_gets_a_confirmed_device_with_the_printed_key() -> None:
    Command(stdout=StringIO()).ensure_users()
    lines: list[str] = []
    print_logins(lines.append)
    for spec in DEMO_USERS:
        device = TOTPDevice.objects.get(user__username=spec.username)
        assert device.confirmed and device.key == demo_totp_key(spec.username)
        assert base64.b32decode(demo_totp_base32(spec.username)) == device.bin_key
        assert any(spec.username in line and demo_totp_base32(spec.username) in line for line in lines)
    Command(stdout=StringIO()).ensure_users()  # a second run keeps the same devices
    assert TOTPDevice.objects.count() == len(DEMO_USERS)


def test_the_totp_command_prints_the_current_code(settings: Any, social_worker: Any) -> None:
    settings.DEBUG = True
    device = TOTPDevice.objects.create(user=social_worker, name="phone", confirmed=True)
    out = StringIO()
    call_command("totp", social_worker.username, stdout=out)
    assert out.getvalue().strip() in {code(device.bin_key), code(device.bin_key, seconds_ago=1)}


def test_the_totp_command_refuses_without_debug(settings: Any, social_worker: Any) -> None:
    settings.DEBUG = False
    TOTPDevice.objects.create(user=social_worker, name="phone", confirmed=True)
    with pytest.raises(CommandError, match="CRISISDESK_DEBUG"):
        call_command("totp", social_worker.username, stdout=StringIO())
